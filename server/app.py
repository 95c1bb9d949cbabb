"""``create_app``: a contract, a few options and an injected clock and ids become a Falcon app.

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
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from typing import Any, NoReturn

import falcon

from campaign_mock.contract.operations import Contract, Operation, invalid_body_status, parse_operations
from campaign_mock.contract.specs import bundled_dir, parse_document, read_source
from campaign_mock.server.admin import admin_handlers
from campaign_mock.server.auth import Authenticator, Credentials
from campaign_mock.server.campaigns import CampaignService
from campaign_mock.server.clock import Clock, ControllableClock
from campaign_mock.server.docs import mount_docs
from campaign_mock.server.effective_spec import effective_document, render_json, render_yaml
from campaign_mock.server.error_formats import ErrorFormat, ProblemFormat
from campaign_mock.server.errors import (
    ApiError,
    HeadersTooLarge,
    InjectedFault,
    InternalError,
    InvalidBody,
    PayloadTooLarge,
    UriTooLong,
)
from campaign_mock.server.faults import FaultPlan, FaultRule
from campaign_mock.server.handlers import Handler, Reply, build_handler
from campaign_mock.server.ids import IdGenerator, numeric_ids
from campaign_mock.server.journal import JournalEntry, RequestJournal
from campaign_mock.server.runtime import Runtime
from campaign_mock.server.store import CampaignStore, InMemoryCampaignStore
from campaign_mock.server.tenancy import tenancy_of
from campaign_mock.server.traffic import RateLimitPolicy, TrafficControl, policy_from_spec
from campaign_mock.server.validation import (
    OperationValidator,
    RequestBody,
    SchemaCompiler,
    compile_validators,
    parse_query,
    peek_member,
)
from campaign_mock.server.xmlbodies import is_xml, render_xml

access_log = logging.getLogger("campaign_mock.access")
error_log = logging.getLogger("campaign_mock.errors")

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
ADMIN_PREFIX = "/__admin"
ADMIN_KINDS = frozenset({"admin"})
NOT_JOURNALED = (ADMIN_PREFIX, "/docs", "/openapi.")  # control and documentation, not API traffic


DROP_DECLARED_LENGTH = 64


class DroppedConnection(Exception):
    """Raised while sending a body to make the HTTP server close the connection unanswered."""


def _drop_connection() -> NoReturn:
    raise DroppedConnection


@dataclass(frozen=True)
class AppOptions:
    api_keys: Sequence[str]
    error_format: ErrorFormat = field(default_factory=ProblemFormat)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    rate_limit: RateLimitPolicy | None = None  # None: what the spec declares
    faults: Sequence[FaultRule] = ()
    fault_seed: int = 0
    admin_enabled: bool = True
    admin_key: str | None = None
    journal_size: int = 1000
    log_requests: bool = True
    max_header_bytes: int = 16 * 1024
    max_query_bytes: int = 8 * 1024
    max_json_depth: int = 32
    drop_connection: Callable[[], NoReturn] = _drop_connection
    drop_after_start: bool = False  # granian answers 500 unless the body has started
    described_settings: Mapping[str, Any] = field(default_factory=dict)


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _write(resp: falcon.Response, reply: Reply, xml: bool = False) -> None:
    resp.status = reply.status
    for name, value in reply.headers.items():
        resp.set_header(name, value)
    if reply.body is not None:
        resp.content_type = falcon.MEDIA_XML if xml else falcon.MEDIA_JSON
        resp.data = render_xml(reply.body) if xml else _json_bytes(reply.body)


@dataclass(frozen=True)
class BodyMembers:
    """Body members that are about the request, not the campaign: a token (``x-token-field``)
    and the answer's format (``x-format-field``: ``xml`` or ``json``). Both are taken off the
    body before the domain sees it."""

    token: str | None
    format: str | None
    speaks_xml: bool

    @classmethod
    def of(cls, document: Mapping[str, Any], operation: Operation) -> BodyMembers:
        token, answer_format = document.get("x-token-field"), document.get("x-format-field")
        success = operation.responses.get(str(operation.success_status()))
        return cls(
            str(token) if token else None,
            str(answer_format) if answer_format else None,
            bool(success and any(is_xml(media_type) for media_type in success.content_types)),
        )

    def answers_xml(self, body: RequestBody) -> bool:
        if not self.speaks_xml:
            return False
        asked = peek_member(body, self.format) if self.format else None
        return asked == "xml" or (asked is None and is_xml(body.content_type))

    def without(self, body: Any) -> Any:
        if not isinstance(body, dict) or not (self.token or self.format):
            return body
        return {key: value for key, value in body.items() if key not in (self.token, self.format)}


def _read_body(req: falcon.Request, limit: int) -> bytes:
    declared = req.content_length
    if declared is not None and declared > limit:
        raise PayloadTooLarge(f"The body is {declared} bytes; at most {limit} are accepted.")
    raw: bytes = req.bounded_stream.read(limit + 1)
    req.context.raw_body = raw[:limit]
    if len(raw) > limit:
        raise PayloadTooLarge(f"The body is over {limit} bytes; at most {limit} are accepted.")
    return raw


def _raw_headers(req: falcon.Request) -> Mapping[str, str]:
    """The request's headers as falcon names them, built once per request (falcon builds a
    new dict on every ``req.headers``; three reads were 6% of a read's time under py-spy)."""
    cached: Mapping[str, str] | None = req.context.get("raw_headers")
    if cached is None:
        cached = req.headers
        req.context.raw_headers = cached
    return cached


def _headers(req: falcon.Request) -> dict[str, str]:
    return {name.lower(): value for name, value in _raw_headers(req).items()}


class DroppingBody:
    """A response body whose first read makes the server drop the connection (after an empty
    first chunk, for servers that only drop a response already started)."""

    def __init__(self, drop: Callable[[], NoReturn], after_start: bool = False) -> None:
        self._drop = drop
        self._lead = after_start

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        if not self._lead:
            self._drop()
        self._lead = False
        return b""


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

    def __call__(self, req: falcon.Request, resp: falcon.Response, **path: str) -> None:
        req.context.operation_id = self._operation.operation_id
        headers = _headers(req)
        query = parse_query(req.query_string)
        body = self._early_body(req)
        if body is not None:
            req.context.answer_xml = self._members.answers_xml(body)
        token = peek_member(body, self._members.token) if body and self._members.token else None
        key = self._authenticator.authenticate(
            self._operation, Credentials(headers, query, token if isinstance(token, str) else None)
        )
        tenant = self._authenticator.tenant_of(key)
        traffic = self._runtime.traffic
        resp.set_headers(traffic.admit(self._operation, key))
        with traffic.slot(self._operation, key):
            if self._inject_faults(req, resp):
                return
            if body is None:
                body = RequestBody(req.content_type, _read_body(req, self._options.max_body_bytes))
                req.context.answer_xml = self._members.answers_xml(body)
            request = self._validator.check(path, query, headers, body)
            reply = self._handler(replace(request, tenant=tenant, body=self._members.without(request.body)))
            _write(resp, reply, xml=req.context.answer_xml)

    def _early_body(self, req: falcon.Request) -> RequestBody | None:
        """The body, read before authentication where the contract takes a token in it."""
        if not self._members.token:
            return None
        return RequestBody(req.content_type, _read_body(req, self._options.max_body_bytes))

    def _inject_faults(self, req: falcon.Request, resp: falcon.Response) -> bool:
        """Apply the fault plan; True when the request ends here (connection dropped)."""
        decision = self._runtime.faults.decide(self._operation.operation_id)
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
            failure.title = _phrase(decision.error_status)
            raise failure
        return False


class AdminResponder:
    """One admin operation: admin key (when configured), validate, handle."""

    def __init__(
        self, operation: Operation, authenticator: Authenticator | None, validator: OperationValidator, handler: Handler
    ) -> None:
        self._operation = operation
        self._authenticator = authenticator
        self._validator = validator
        self._handler = handler

    def __call__(self, req: falcon.Request, resp: falcon.Response, **path: str) -> None:
        headers = _headers(req)
        query = parse_query(req.query_string)
        if self._authenticator is not None:
            self._authenticator.authenticate(self._operation, Credentials(headers, query))
        body = RequestBody(req.content_type, req.bounded_stream.read())
        _write(resp, self._handler(self._validator.check(path, query, headers, body)))


class PathResource:
    """The operations of one path, one ``on_<method>`` responder each (Falcon answers 405 for others)."""

    def __init__(self, responders: Mapping[str, Callable[..., None]]) -> None:
        for method, responder in responders.items():
            setattr(self, f"on_{method.lower()}", responder)


class StaticDocument:
    def __init__(self, body: bytes, media_type: str) -> None:
        self._body = body
        self._media_type = media_type

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = self._media_type
        resp.data = self._body


class InputLimits:
    """Oversized headers (431) and query strings (414), refused before anything reads them."""

    def __init__(self, max_header_bytes: int, max_query_bytes: int) -> None:
        self._max_header_bytes = max_header_bytes
        self._max_query_bytes = max_query_bytes

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        size = sum(len(name) + len(value) for name, value in _raw_headers(req).items())
        if size > self._max_header_bytes:
            raise HeadersTooLarge(f"The headers take {size} bytes; at most {self._max_header_bytes} are accepted.")
        if len(req.query_string) > self._max_query_bytes:
            raise UriTooLong(
                f"The query string is {len(req.query_string)} bytes; at most {self._max_query_bytes} are accepted."
            )


class RequestLog:
    """One log line per request (method, path, status, ms) and a journal entry for API traffic."""

    def __init__(self, journal: RequestJournal, clock: ControllableClock, log_requests: bool) -> None:
        self._journal = journal
        self._clock = clock
        self._log_requests = log_requests

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.started = time.perf_counter()

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource: object, succeeded: bool) -> None:
        started = req.context.get("started")
        elapsed = (time.perf_counter() - started) * 1000 if isinstance(started, float) else 0.0
        fault = req.context.get("fault")
        status = None if fault == "drop" else resp.status_code
        if self._log_requests:
            access_log.info("%s %s %s %.1fms", req.method, req.path, status or "dropped", elapsed)
        if req.path.startswith(NOT_JOURNALED):
            return
        self._journal.record(
            JournalEntry(
                id=self._journal.next_id(),
                at=self._clock.now(),
                method=req.method,
                path=req.path,
                query=req.query_string,
                status=status,
                headers=_raw_headers(req),  # a dict of its own, built for this request
                body=req.context.get("raw_body"),
                duration_ms=elapsed,
                operation_id=req.context.get("operation_id"),
                fault=fault,
            )
        )


def _phrase(status: int) -> str:
    return HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"


def _from_falcon(req: falcon.Request, error: falcon.HTTPError) -> ApiError:
    status = error.status_code
    title = _phrase(status)
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

    def __init__(self, error_format: ErrorFormat, clock: Clock, invalid_body_status: int = 422) -> None:
        self._format = error_format
        self._clock = clock
        self._invalid_body_status = invalid_body_status

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
        for name, value in error.headers.items():
            resp.set_header(name, value)
        rendered = self._format.render(error, self._clock.now())
        if req.context.get("answer_xml"):
            resp.content_type = falcon.MEDIA_XML
            resp.data = render_xml(rendered)
            return
        resp.content_type = self._format.media_type
        resp.data = _json_bytes(rendered)


def _mount_api(app: falcon.App[falcon.Request, falcon.Response], runtime: Runtime, options: AppOptions) -> None:
    contract = runtime.contract
    authenticator = Authenticator(contract.document, options.api_keys)
    validators = compile_validators(contract.document, contract.operations, options.max_json_depth)
    by_path: dict[str, dict[str, OperationResponder]] = defaultdict(dict)
    for operation in contract.operations:
        by_path[operation.path][operation.method] = OperationResponder(
            operation,
            authenticator,
            validators[operation.operation_id],
            build_handler(contract, operation, runtime.service, tenancy_of(contract.document)),
            runtime,
            options,
        )
    for path, responders in by_path.items():
        app.add_route(contract.base_path + path, PathResource(responders))
    served = effective_document(contract.document, options.error_format, runtime.traffic.policy)
    app.add_route("/openapi.yaml", StaticDocument(render_yaml(served), "application/yaml"))
    app.add_route("/openapi.json", StaticDocument(render_json(served), falcon.MEDIA_JSON))
    mount_docs(app, contract)


def _campaign_schema(contract: Contract) -> Any:
    """A validator for campaigns as the contract's get operation answers them, if it has one."""
    reader = contract.one_of_kind("get")
    if reader is None:
        return None
    response = reader.responses.get(str(reader.success_status()))
    if response is None or "application/json" not in response.content_types:
        return None
    return SchemaCompiler(contract.document).at(f"{response.pointer}/content/application~1json/schema")


def _mount_admin(app: falcon.App[falcon.Request, falcon.Response], runtime: Runtime, options: AppOptions) -> None:
    source = read_source(str(bundled_dir() / "admin.yaml"))
    document = parse_document(source)
    operations = parse_operations(document, ADMIN_KINDS)
    validators = compile_validators(document, operations)
    authenticator = Authenticator(document, [options.admin_key]) if options.admin_key else None
    handlers = admin_handlers(runtime, _campaign_schema(runtime.contract))
    by_path: dict[str, dict[str, AdminResponder]] = defaultdict(dict)
    for operation in operations:
        handler = handlers[str(operation.action)]
        by_path[operation.path][operation.method] = AdminResponder(
            operation, authenticator, validators[operation.operation_id], handler
        )
    for path, responders in by_path.items():
        app.add_route(ADMIN_PREFIX + path, PathResource(responders))
    app.add_route(ADMIN_PREFIX + "/openapi.yaml", StaticDocument(source.text.encode("utf-8"), "application/yaml"))


def build_runtime(
    contract: Contract,
    options: AppOptions,
    *,
    clock: ControllableClock,
    ids: IdGenerator,
    store: CampaignStore | None = None,
) -> Runtime:
    create_operation = contract.one_of_kind("create")
    defaults = (create_operation.extension.get("defaults") if create_operation else None) or {}
    policy = options.rate_limit or policy_from_spec(contract.document, contract.operations)
    tenancy = tenancy_of(contract.document)
    return Runtime(
        contract=contract,
        service=CampaignService(
            contract.lifecycle,
            store or InMemoryCampaignStore(contract.lifecycle.status_field),
            clock,
            ids,
            defaults,
            fixed=[tenancy.field] if tenancy else [],
            numeric_ids=numeric_ids(contract.document),
        ),
        clock=clock,
        journal=RequestJournal(options.journal_size),
        faults=FaultPlan(options.faults, options.fault_seed),
        traffic=TrafficControl(policy, clock),
        error_format=options.error_format,
        configured_faults=tuple(options.faults),
        fault_seed=options.fault_seed,
        described_settings=dict(options.described_settings),
    )


def create_app(
    contract: Contract,
    options: AppOptions,
    *,
    clock: ControllableClock,
    ids: IdGenerator,
    store: CampaignStore | None = None,
    runtime: Runtime | None = None,
) -> falcon.App[falcon.Request, falcon.Response]:
    """Build the mock for ``contract``; everything it needs is passed in (a runtime, too, if the
    caller needs to reach the store, as ``--state-file`` does)."""
    runtime = runtime or build_runtime(contract, options, clock=clock, ids=ids, store=store)
    middleware: list[Any] = [
        RequestLog(runtime.journal, clock, options.log_requests),
        InputLimits(options.max_header_bytes, options.max_query_bytes),
    ]
    app = falcon.App(middleware=middleware)
    boundary = ErrorBoundary(options.error_format, clock, invalid_body_status(contract.document))
    app.add_error_handler(Exception, boundary)
    app.add_error_handler(falcon.HTTPError, boundary)
    _mount_api(app, runtime, options)
    if options.admin_enabled:
        _mount_admin(app, runtime, options)
    return app
