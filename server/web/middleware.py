"""What every request passes through before and after its responder: input limits, the access
log line and the request journal, and the header view built once per request."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping
from contextlib import suppress

import falcon

from campaign_mock.server.domain.errors import HeadersTooLarge, NotFound, StoreUnavailable, UriTooLong
from campaign_mock.server.stores.scope import close_scope, open_scope
from campaign_mock.server.traffic.journal import (
    MAX_BODY_BYTES,
    REFUSED_BODY_BYTES,
    JournalEntry,
    kept_body,
    trimmed_headers,
)
from campaign_mock.server.worlds.registry import Worlds
from campaign_mock.server.worlds.world import World

access_log = logging.getLogger("campaign_mock.access")
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def loggable(text: str) -> str:
    """``text`` with control characters written as escapes (``\\x0a``): a path that decodes
    to a newline cannot forge a line of the access log."""
    return _UNPRINTABLE.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


ADMIN_PREFIX = "/__admin"
# Control, documentation and a browser's own asking for an icon: not the client's API traffic.
NOT_JOURNALED = (ADMIN_PREFIX, "/docs", "/openapi.", "/favicon.ico")


def raw_headers(req: falcon.Request) -> Mapping[str, str]:
    """The request's headers as falcon names them, built once per request (falcon builds a
    new dict on every ``req.headers``; three reads were 6% of a read's time under py-spy)."""
    cached: Mapping[str, str] | None = req.context.get("raw_headers")
    if cached is None:
        cached = req.headers
        req.context.raw_headers = cached
    return cached


def headers_of(req: falcon.Request) -> dict[str, str]:
    return {name.lower(): value for name, value in raw_headers(req).items()}


class InputLimits:
    """Oversized headers (431) and query strings (414), refused before anything reads them."""

    def __init__(self, max_header_bytes: int, max_query_bytes: int) -> None:
        self._max_header_bytes = max_header_bytes
        self._max_query_bytes = max_query_bytes

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        size = sum(len(name) + len(value) for name, value in raw_headers(req).items())
        if size > self._max_header_bytes:
            raise HeadersTooLarge(f"The headers take {size} bytes; at most {self._max_header_bytes} are accepted.")
        if len(req.query_string) > self._max_query_bytes:
            raise UriTooLong(
                f"The query string is {len(req.query_string)} bytes; at most {self._max_query_bytes} are accepted."
            )


SANDBOX_PREFIX = "/sandboxes/"


def world_of(req: falcon.Request) -> World | None:
    """The world a request is for (set by ``SandboxRouter``), or None before it was found."""
    world: World | None = req.context.get("world")
    return world


class SandboxRouter:
    """``/sandboxes/NAME/...`` is the same contract in the world NAME: the prefix is taken off
    the path before routing (so routes are compiled once) and the world put on the request,
    within a request scope its store may answer from (``stores.scope``). A sandbox that does
    not exist yet is not made here: only a request whose credentials pass may make one
    (``settle_world``), so anonymous traffic cannot make or fill sandboxes. The request holds
    a lease on its world while it runs (a drop waits for it)."""

    def __init__(self, worlds: Worlds) -> None:
        self._worlds = worlds

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.scope = open_scope()
        path = req.path
        if not path.startswith(SANDBOX_PREFIX):
            world: World | None = self._worlds.default
        else:
            name, _, rest = path[len(SANDBOX_PREFIX) :].partition("/")
            req.context.sandbox = name
            req.path = "/" + rest
            world = self._worlds.find(name)
        if world is not None and not _enter(req, self._worlds, world):
            world = None  # dropped just now: it may be made again once its data is gone

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource: object, succeeded: bool) -> None:
        entered = req.context.get("entered")
        if entered is not None:
            self._worlds.leave(entered)
        token = req.context.get("scope")
        if token is not None:
            close_scope(token)


def _enter(req: falcon.Request, worlds: Worlds, world: World) -> bool:
    """Put ``world`` on the request with a lease on it; False if it was dropped meanwhile."""
    if not worlds.enter(world):
        return False
    req.context.world = world
    req.context.entered = world
    world.begin()
    return True


def settle_world(req: falcon.Request, worlds: Worlds, authenticated: bool) -> World:
    """The request's world, made now when it names a sandbox that does not exist yet and the
    request proved its credentials (a valid API key, or the admin key) from this site."""
    world = world_of(req)
    if world is not None:
        return world
    name = str(req.context.get("sandbox"))
    if not authenticated or req.context.get("cross_site"):
        raise NotFound(
            f"No sandbox {name!r}. A sandbox is made by its first request with valid credentials "
            f"(an API key of the served contract, or the admin key), or by PUT /__admin/sandboxes/{name}."
        )
    for _ in range(3):  # a drop of that name may overtake the making (bounded: it waits for the drop)
        world = worlds.open(name)
        if _enter(req, worlds, world):
            return world
    raise NotFound(f"Sandbox {name!r} is being dropped and made again by other requests; retry.")


class RequestLog:
    """One log line per request (method, path, status, ms) and a journal entry for API traffic,
    in the journal of the request's world."""

    def __init__(self, log_requests: bool) -> None:
        self._log_requests = log_requests

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.started = time.perf_counter()

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource: object, succeeded: bool) -> None:
        started = req.context.get("started")
        elapsed = (time.perf_counter() - started) * 1000 if isinstance(started, float) else 0.0
        fault = req.context.get("fault")
        status = None if fault == "drop" else resp.status_code
        sandbox = req.context.get("sandbox")
        if self._log_requests:
            shown = f"{SANDBOX_PREFIX}{sandbox}{req.path}" if sandbox else req.path
            access_log.info("%s %s %s %.1fms", req.method, loggable(shown), status or "dropped", elapsed)
        world = world_of(req)
        if world is None or req.path.startswith(NOT_JOURNALED):
            return
        # The answer (a 503 already, or one being written) matters more than its journal entry.
        with suppress(StoreUnavailable):
            self._journal(req, resp, world, status, fault, elapsed)

    @staticmethod
    def _journal(
        req: falcon.Request, resp: falcon.Response, world: World, status: int | None, fault: str | None, elapsed: float
    ) -> None:
        # A request refused before its credentials passed (or before any route took it) is kept
        # small: anyone can send those, and each sandbox's journal holds up to --journal-bytes.
        whole = bool(req.context.get("credentialed"))
        body, body_bytes = kept_body(req.context.get("raw_body"), MAX_BODY_BYTES if whole else REFUSED_BODY_BYTES)
        headers = raw_headers(req) if whole else trimmed_headers(raw_headers(req))
        world.journal.record(
            JournalEntry(
                at=world.clock.now(),
                method=req.method,
                path=req.path,
                query=req.query_string,
                status=status,
                headers=headers,  # a dict of its own, built for this request
                body=body,
                duration_ms=elapsed,
                operation_id=req.context.get("operation_id"),
                fault=fault,
                body_bytes=body_bytes,
                error_code=req.context.get("error_code"),
                retry_after=resp.get_header("Retry-After"),
                wall=time.time(),
            )
        )
