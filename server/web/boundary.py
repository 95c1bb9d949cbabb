"""The single place where exceptions become HTTP answers in the configured error format.

Ours (``ApiError``), Falcon's (404 routes, 405 methods, bad headers) and anything unexpected
(logged with its traceback, answered 500) all pass through ``ErrorBoundary``; the HTTP
server's own refusals (waitress: oversized bodies, malformed framing) are written by the same
``render`` (``server.waitress_runner``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, NoReturn

import falcon

from campaign_mock.contract.jsontext import json_bytes
from campaign_mock.server.domain.clock import Clock
from campaign_mock.server.domain.errors import ApiError, InternalError, InvalidBody, StoreUnavailable
from campaign_mock.server.web.dropping import HEAD_SETTLE_SECONDS, DroppingBody
from campaign_mock.server.web.error_formats import ErrorFormat
from campaign_mock.server.web.middleware import world_of
from campaign_mock.server.web.xmlbodies import render_xml

error_log = logging.getLogger("campaign_mock.errors")


def phrase(status: int) -> str:
    return HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"


def _from_falcon(req: falcon.Request, error: falcon.HTTPError) -> ApiError:
    status = error.status_code
    title = phrase(status)
    detail = error.description or title
    if status == 404:
        detail = f"No such resource: {req.method} {req.path}. The API's paths are listed in /openapi.yaml."
    elif status == 405:
        allowed = dict(error.headers or {}).get("Allow", "")
        detail = f"{req.method} is not allowed on {req.path}; allowed: {allowed}."
    converted = ApiError(detail, headers=dict(error.headers or {}))
    converted.status = status
    converted.title = title
    converted.code = "-".join(title.lower().replace(".", "").split()) or "error"
    return converted


def _now(clock: Clock) -> datetime:
    """The clock's time, or the host's when the store that holds the clock is down (the answer
    saying so must not fail for want of a timestamp)."""
    try:
        return clock.now()
    except StoreUnavailable:
        return datetime.now(UTC)


class ErrorBoundary:
    """The single place where exceptions become HTTP answers in the configured format."""

    def __init__(
        self,
        error_format: ErrorFormat,
        clock: Clock,
        invalid_body_status: int = 422,
        abort: Callable[[], NoReturn] | None = None,
    ) -> None:
        """``abort``: how to close a connection under a server that keeps it otherwise (granian
        holds a connection whose body is still due until it is aborted)."""
        self._format = error_format
        self._clock = clock
        self._invalid_body_status = invalid_body_status
        self._abort = abort

    def __call__(self, req: falcon.Request, resp: falcon.Response, ex: Exception, params: dict[str, Any]) -> None:
        if isinstance(ex, ApiError):
            error = ex
        elif isinstance(ex, falcon.HTTPError):
            error = _from_falcon(req, ex)
        else:
            error_log.exception("unexpected error on %s %s", req.method, req.path)
            error = InternalError(f"An unexpected {type(ex).__name__} happened; the server log has the details.")
        if isinstance(error, InvalidBody):
            error.status = self._invalid_body_status
        resp.status = error.status
        req.context.error_code = error.code  # for the journal: the client report tells errors apart by it
        world = world_of(req)
        clock = world.clock if world is not None else self._clock
        content_type, body = self.render(error, xml=bool(req.context.get("answer_xml")), clock=clock)
        for name, value in error.headers.items():
            resp.set_header(name, value)
        resp.content_type = content_type
        resp.data = body
        if error.close and self._abort is not None:
            # The whole answer goes out, then the connection is cut: the only way granian lets
            # go of a request whose body never came. No Content-Length: with one, granian stops
            # reading the stream when it is met and never cuts; chunked, the client reads the
            # body (and sees the connection cut before the closing chunk).
            resp.data = None
            resp.stream = DroppingBody(self._abort, after_start=True, settle=HEAD_SETTLE_SECONDS, body=body)

    def render(self, error: ApiError, xml: bool = False, clock: Clock | None = None) -> tuple[str, bytes]:
        """(Content-Type, body) of ``error`` in the configured format (XML where the request asked
        for it), its time from ``clock`` (the request's sandbox's; the default one's otherwise)."""
        rendered = self._format.render(error, _now(clock or self._clock))
        if xml:
            return falcon.MEDIA_XML, render_xml(rendered)
        return self._format.media_type, json_bytes(rendered)
