"""``create_app``: a contract, a few options and injected clock/ids become a Falcon app.

Routes come from the spec; each responder is parse -> domain -> render. Every error,
ours or Falcon's (404 routes, 405 methods, bad headers), passes through one boundary
and is written in the configured error format; anything unexpected is logged and
answered 500 in that same format.
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import falcon

from contract.operations import Contract, Operation
from server.auth import Authenticator, Credentials
from server.campaigns import CampaignService
from server.clock import Clock
from server.effective_spec import effective_document, render_json, render_yaml
from server.error_formats import ErrorFormat, ProblemFormat
from server.errors import ApiError, InternalError, PayloadTooLarge
from server.handlers import Handler, Reply, build_handler
from server.ids import IdGenerator
from server.store import CampaignStore, InMemoryCampaignStore
from server.validation import OperationValidator, RequestBody, compile_validators, parse_query

access_log = logging.getLogger("campaign_mock.access")
error_log = logging.getLogger("campaign_mock.errors")

DEFAULT_MAX_BODY_BYTES = 1024 * 1024


@dataclass(frozen=True)
class AppOptions:
    api_keys: Sequence[str]
    error_format: ErrorFormat = field(default_factory=ProblemFormat)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _write(resp: falcon.Response, reply: Reply) -> None:
    resp.status = reply.status
    for name, value in reply.headers.items():
        resp.set_header(name, value)
    if reply.body is not None:
        resp.content_type = falcon.MEDIA_JSON
        resp.data = _json_bytes(reply.body)


def _read_body(req: falcon.Request, limit: int) -> bytes:
    declared = req.content_length
    if declared is not None and declared > limit:
        raise PayloadTooLarge(f"The body is {declared} bytes; at most {limit} are accepted.")
    raw: bytes = req.bounded_stream.read(limit + 1)
    if len(raw) > limit:
        raise PayloadTooLarge(f"The body is over {limit} bytes; at most {limit} are accepted.")
    return raw


class OperationResponder:
    """One operation: authenticate, validate, call the handler, write the reply."""

    def __init__(
        self,
        operation: Operation,
        authenticator: Authenticator,
        validator: OperationValidator,
        handler: Handler,
        max_body_bytes: int,
    ) -> None:
        self._operation = operation
        self._authenticator = authenticator
        self._validator = validator
        self._handler = handler
        self._max_body_bytes = max_body_bytes

    def __call__(self, req: falcon.Request, resp: falcon.Response, **path: str) -> None:
        headers = {name.lower(): value for name, value in req.headers.items()}
        query = parse_query(req.query_string)
        self._authenticator.authenticate(self._operation, Credentials(headers, query))
        body = RequestBody(req.content_type, _read_body(req, self._max_body_bytes))
        request = self._validator.check(path, query, headers, body)
        _write(resp, self._handler(request))


class PathResource:
    """The operations of one path, one ``on_<method>`` responder each (Falcon answers 405 for others)."""

    def __init__(self, responders: dict[str, OperationResponder]) -> None:
        for method, responder in responders.items():
            setattr(self, f"on_{method.lower()}", responder)


class StaticDocument:
    def __init__(self, body: bytes, media_type: str) -> None:
        self._body = body
        self._media_type = media_type

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = self._media_type
        resp.data = self._body


class RequestLog:
    """One line per request: method, path, status, milliseconds."""

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.started = time.perf_counter()

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource: object, succeeded: bool) -> None:
        started = req.context.get("started")
        elapsed = (time.perf_counter() - started) * 1000 if isinstance(started, float) else 0.0
        access_log.info("%s %s %s %.1fms", req.method, req.path, resp.status_code, elapsed)


def _from_falcon(req: falcon.Request, error: falcon.HTTPError) -> ApiError:
    status = error.status_code
    title = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
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


class ErrorBoundary:
    """The single place where exceptions become HTTP answers in the configured format."""

    def __init__(self, error_format: ErrorFormat) -> None:
        self._format = error_format

    def __call__(self, req: falcon.Request, resp: falcon.Response, ex: Exception, params: dict[str, Any]) -> None:
        if isinstance(ex, ApiError):
            error = ex
        elif isinstance(ex, falcon.HTTPError):
            error = _from_falcon(req, ex)
        else:
            error_log.exception("unexpected error on %s %s", req.method, req.path)
            error = InternalError(f"An unexpected {type(ex).__name__} happened; the server log has the details.")
        resp.status = error.status
        for name, value in error.headers.items():
            resp.set_header(name, value)
        resp.content_type = self._format.media_type
        resp.data = _json_bytes(self._format.render(error))


def create_app(
    contract: Contract,
    options: AppOptions,
    *,
    clock: Clock,
    ids: IdGenerator,
    store: CampaignStore | None = None,
    log_requests: bool = True,
) -> falcon.App[falcon.Request, falcon.Response]:
    """Build the mock for ``contract``; everything it needs is passed in."""
    create_operation = contract.one_of_kind("create")
    defaults = (create_operation.extension.get("defaults") if create_operation else None) or {}
    service = CampaignService(contract.lifecycle, store or InMemoryCampaignStore(), clock, ids, defaults)
    authenticator = Authenticator(contract, options.api_keys)
    validators = compile_validators(contract)

    app = falcon.App(middleware=[RequestLog()] if log_requests else [])
    boundary = ErrorBoundary(options.error_format)
    app.add_error_handler(Exception, boundary)
    app.add_error_handler(falcon.HTTPError, boundary)

    by_path: dict[str, dict[str, OperationResponder]] = defaultdict(dict)
    for operation in contract.operations:
        by_path[operation.path][operation.method] = OperationResponder(
            operation,
            authenticator,
            validators[operation.operation_id],
            build_handler(contract, operation, service),
            options.max_body_bytes,
        )
    for path, responders in by_path.items():
        app.add_route(contract.base_path + path, PathResource(responders))

    served = effective_document(contract.document, options.error_format)
    app.add_route("/openapi.yaml", StaticDocument(render_yaml(served), "application/yaml"))
    app.add_route("/openapi.json", StaticDocument(render_json(served), falcon.MEDIA_JSON))
    return app
