"""Responders: thin. Each parses the request, calls the domain through its handler, and
writes the reply; everything else (limits, faults, auth) is a call to what the runtime holds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import falcon

from campaign_mock.contract.jsontext import json_bytes
from campaign_mock.contract.operations import Operation
from campaign_mock.server.domain.errors import InjectedFault, NotFound
from campaign_mock.server.web.admin import AdminHandler
from campaign_mock.server.web.auth import Authenticator, Credentials
from campaign_mock.server.web.bodies import RequestBody, media_type_of, readable_member
from campaign_mock.server.web.boundary import phrase
from campaign_mock.server.web.dropping import DROP_DECLARED_LENGTH, DroppingBody
from campaign_mock.server.web.handlers import Handler, Reply
from campaign_mock.server.web.middleware import SANDBOX_PREFIX, headers_of, settle_world, world_of
from campaign_mock.server.web.options import AppOptions
from campaign_mock.server.web.reading import read_body, read_directly
from campaign_mock.server.web.validation import OperationValidator, ValidRequest, parse_query
from campaign_mock.server.web.xmlbodies import is_xml, render_xml
from campaign_mock.server.worlds.registry import Worlds
from campaign_mock.server.worlds.runtime import Runtime
from campaign_mock.server.worlds.world import World


def write_reply(resp: falcon.Response, reply: Reply, xml: bool = False) -> None:
    resp.status = reply.status
    for name, value in reply.headers.items():
        resp.set_header(name, value)
    if reply.body is not None:
        resp.content_type = falcon.MEDIA_XML if xml else (reply.media_type or falcon.MEDIA_JSON)
        resp.data = render_xml(reply.body) if xml else json_bytes(reply.body)


MAX_CACHED_SPECS = 2000  # rendered sandbox specs kept (all are rendered again once there are more)


@dataclass(frozen=True)
class BodyMembers:
    """Body members that are about the request, not the campaign: a token (``x-token-field``)
    and the answer's format (``x-format-field``: ``xml`` or ``json``). Both are taken off the
    body before the domain sees it."""

    token: str | None
    format: str | None
    speaks_xml: bool
    readable: frozenset[str]  # the media types the operation's body may have

    @classmethod
    def of(cls, document: Mapping[str, Any], operation: Operation) -> BodyMembers:
        token, answer_format = document.get("x-token-field"), document.get("x-format-field")
        success = operation.responses.get(str(operation.success_status()))
        return cls(
            str(token) if token else None,
            str(answer_format) if answer_format else None,
            bool(success and any(is_xml(media_type) for media_type in success.content_types)),
            frozenset(operation.body_schemas),
        )

    def answers_xml(self, body: RequestBody) -> bool:
        if not self.speaks_xml:
            return False
        asked = readable_member(body, self.format) if self.format else None
        return asked == "xml" or (asked is None and body.is_xml)

    def token_in(self, body: RequestBody | None) -> str | None:
        """The token the body carries, read before authentication. A body of an accepted media
        type that cannot be read is refused (400) here: its credentials cannot be known."""
        if body is None or not self.token or not body.raw or media_type_of(body.content_type)[0] not in self.readable:
            return None
        token = body.member(self.token)
        return token if isinstance(token, str) else None

    def without(self, body: Any) -> Any:
        if not isinstance(body, dict) or not (self.token or self.format):
            return body
        return {key: value for key, value in body.items() if key not in (self.token, self.format)}


class OperationResponder:
    """One API operation: authenticate, limit, inject faults, validate, handle, write."""

    def __init__(
        self,
        operation: Operation,
        authenticator: Authenticator,
        validator: OperationValidator,
        handler: Handler,
        runtime: Runtime,
        options: AppOptions,
    ) -> None:
        self._operation = operation
        self._authenticator = authenticator
        self._validator = validator
        self._handler = handler
        self._runtime = runtime
        self._options = options
        self._members = BodyMembers.of(runtime.contract.document, operation)
        self._takes_body = bool(operation.body_schemas)

    def __call__(self, req: falcon.Request, resp: falcon.Response, **path: str) -> None:
        req.context.operation_id = self._operation.operation_id
        headers = headers_of(req)
        query = parse_query(req.query_string)
        body = self._read(req) if self._members.token else None  # the token travels in it
        if body is not None:
            req.context.answer_xml = self._members.answers_xml(body)
        credentials = Credentials(headers, query, self._members.token_in(body))
        key = self._authenticator.authenticate(self._operation, credentials)
        tenant = self._authenticator.tenant_of(key)
        req.context.credentialed = True  # the journal keeps this request whole
        world = settle_world(req, self._runtime.worlds, authenticated=key is not None)
        traffic = world.traffic
        resp.set_headers(traffic.admit(self._operation, key))
        with traffic.slot(self._operation, key):
            if self._inject_faults(world, req, resp):
                return
            if body is None:
                body = self._read(req)
                req.context.answer_xml = self._members.answers_xml(body)
            request = self._validator.check(path, query, headers, body)
            reply = self._handler(
                world.service,
                ValidRequest(  # built anew, not dataclasses.replace: that was 5% of a read
                    request.path,
                    request.query,
                    request.headers,
                    self._members.without(request.body),
                    tenant,
                    world.prefix,
                ),
            )
            write_reply(resp, reply, xml=req.context.answer_xml)

    def _read(self, req: falcon.Request) -> RequestBody:
        """The body, read once; an operation without a request body reads nothing."""
        options = self._options
        raw = read_body(req, options.max_body_bytes, options.body_reader) if self._takes_body else b""
        return RequestBody(req.content_type, raw, options.max_json_depth)

    def _inject_faults(self, world: World, req: falcon.Request, resp: falcon.Response) -> bool:
        """Apply the world's fault plan; True when the request ends here (connection dropped)."""
        decision = world.faults.decide(self._operation.operation_id)
        if decision.latency_seconds > 0:
            req.context.fault = "latency"
            time.sleep(decision.latency_seconds)
        if decision.drop:
            req.context.fault = "drop"
            resp.status = 503
            resp.stream = DroppingBody(self._options.drop_connection, self._options.drop_after_start)
            # A declared length the body never reaches: granian then holds the head back and
            # closes the connection with nothing sent (without it, it sends the head first).
            resp.content_length = DROP_DECLARED_LENGTH
            return True
        if decision.error_status is not None:
            req.context.fault = "error"
            failure = InjectedFault(
                f"Fault injected for {self._operation.operation_id}: answering {decision.error_status}."
            )
            failure.status = decision.error_status
            failure.title = phrase(decision.error_status)
            raise failure
        return False


class AdminResponder:
    """One admin operation: admin key (when configured), validate, handle."""

    def __init__(
        self,
        operation: Operation,
        authenticator: Authenticator | None,
        validator: OperationValidator,
        handler: AdminHandler,
        max_body_bytes: int,
        worlds: Worlds,
    ) -> None:
        self._operation = operation
        self._authenticator = authenticator
        self._validator = validator
        self._handler = handler
        self._max_body_bytes = max_body_bytes
        self._worlds = worlds
        self._fleet_wide = operation.extension.get("scope") == "fleet"

    def __call__(self, req: falcon.Request, resp: falcon.Response, **path: str) -> None:
        headers = headers_of(req)
        query = parse_query(req.query_string)
        if self._authenticator is not None:
            self._authenticator.authenticate(self._operation, Credentials(headers, query))
        req.context.credentialed = True
        sandbox = req.context.get("sandbox")
        if self._fleet_wide and sandbox:
            raise NotFound(
                f"{self._operation.operation_id} steers the whole server: call it at /__admin{self._operation.path}, "
                f"not under /sandboxes/{sandbox}/ (a sandbox's admin API sees only its own sandbox)."
            )
        world = settle_world(req, self._worlds, authenticated=self._authenticator is not None)
        body = RequestBody(req.content_type, read_body(req, self._max_body_bytes, read_directly))
        write_reply(resp, self._handler(world, self._validator.check(path, query, headers, body)))


class PathResource:
    """The operations of one path, one ``on_<method>`` responder each (Falcon answers 405 for
    others). HEAD is served wherever GET is (RFC 9110: the same answer without its body)."""

    def __init__(self, responders: Mapping[str, Callable[..., None]]) -> None:
        for method, responder in responders.items():
            setattr(self, f"on_{method.lower()}", responder)
        if "GET" in responders and "HEAD" not in responders:
            self.on_head = responders["GET"]


class ServedSpec:
    """``/openapi.yaml`` (and ``.json``): the effective contract; under ``/sandboxes/NAME`` with
    ``servers`` pointing at the sandbox, so a kit given that spec URL checks that sandbox."""

    def __init__(
        self, document: Mapping[str, Any], base_path: str, render: Callable[[Mapping[str, Any]], bytes], media_type: str
    ) -> None:
        self._document = document
        self._base_path = base_path
        self._render = render
        self._media_type = media_type
        self._default = render(document)
        self._per_sandbox: dict[str, bytes] = {}

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = self._media_type
        sandbox = req.context.get("sandbox")
        if not sandbox:
            resp.data = self._default
            return
        rendered = self._per_sandbox.get(sandbox)
        if rendered is None:
            servers = [{"url": f"{SANDBOX_PREFIX}{sandbox}{self._base_path}", "description": f"sandbox {sandbox}"}]
            rendered = self._render({**self._document, "servers": servers})
            if world_of(req) is None:  # no such sandbox (yet): anyone may ask, so nothing is kept
                resp.data = rendered
                return
            if len(self._per_sandbox) >= MAX_CACHED_SPECS:
                self._per_sandbox.clear()
            self._per_sandbox[sandbox] = rendered
        resp.data = rendered


class StaticDocument:
    def __init__(self, body: bytes, media_type: str) -> None:
        self._body = body
        self._media_type = media_type

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = self._media_type
        resp.data = self._body
