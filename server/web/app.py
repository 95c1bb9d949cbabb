"""``create_app``: a contract, a few options and an injected clock and ids become a Falcon app.

Routes come from the spec; each responder is parse -> domain -> render. Every error,
ours or Falcon's (404 routes, 405 methods, bad headers), passes through one boundary
and is written in the configured error format; anything unexpected is logged and
answered 500 in that same format.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

import falcon

from campaign_mock.contract.operations import Contract, invalid_body_status, parse_operations
from campaign_mock.contract.specs import bundled_dir, parse_document, read_source
from campaign_mock.server.domain.clock import ControllableClock
from campaign_mock.server.domain.ids import IdGenerator
from campaign_mock.server.domain.records import RecordChecks
from campaign_mock.server.domain.tenancy import tenancy_of
from campaign_mock.server.stores.base import Backend
from campaign_mock.server.stores.memory import MemoryBackend
from campaign_mock.server.traffic.redaction import Redactor
from campaign_mock.server.traffic.traffic import policy_from_spec
from campaign_mock.server.web.admin import admin_handlers
from campaign_mock.server.web.auth import Authenticator
from campaign_mock.server.web.boundary import ErrorBoundary
from campaign_mock.server.web.docs import mount_docs
from campaign_mock.server.web.effective_spec import (
    effective_admin_document,
    effective_document,
    render_json,
    render_yaml,
)
from campaign_mock.server.web.guard import AllowedHosts, CrossSiteGuard, HostGuard
from campaign_mock.server.web.handlers import build_handler
from campaign_mock.server.web.live_page import LivePage
from campaign_mock.server.web.middleware import ADMIN_PREFIX, InputLimits, RequestLog, SandboxRouter
from campaign_mock.server.web.options import DEFAULT_MAX_BODY_BYTES, AppOptions
from campaign_mock.server.web.replies import projected
from campaign_mock.server.web.responders import (
    AdminResponder,
    OperationResponder,
    PathResource,
    ServedSpec,
    StaticDocument,
)
from campaign_mock.server.web.validation import compile_validators
from campaign_mock.server.worlds.factory import WorldFactory
from campaign_mock.server.worlds.registry import Worlds
from campaign_mock.server.worlds.runtime import Runtime
from campaign_mock.server.worlds.world import DEFAULT_WORLD

__all__ = ["DEFAULT_MAX_BODY_BYTES", "AppOptions", "build_runtime", "create_app"]

ADMIN_KINDS = frozenset({"admin"})
LIVE_PAGE_ACTION = "ui"  # a page, not an API call: served as HTML, without the key (it holds no data)


def _mount_api(app: falcon.App[falcon.Request, falcon.Response], runtime: Runtime, options: AppOptions) -> None:
    contract = runtime.contract
    authenticator = Authenticator(contract.document, options.api_keys)
    validators = compile_validators(contract.document, contract.operations)
    by_path: dict[str, dict[str, OperationResponder]] = defaultdict(dict)
    for operation in contract.operations:
        by_path[operation.path][operation.method] = OperationResponder(
            operation,
            authenticator,
            validators[operation.operation_id],
            projected(operation, build_handler(contract, operation, tenancy_of(contract.document))),
            runtime,
            options,
        )
    for path, responders in by_path.items():
        app.add_route(contract.base_path + path, PathResource(responders))
    served = effective_document(contract.document, options.error_format, runtime.policy)
    app.add_route("/openapi.yaml", ServedSpec(served, contract.base_path, render_yaml, "application/yaml"))
    app.add_route("/openapi.json", ServedSpec(served, contract.base_path, render_json, falcon.MEDIA_JSON))
    mount_docs(app, contract)


def _mount_admin(app: falcon.App[falcon.Request, falcon.Response], runtime: Runtime, options: AppOptions) -> None:
    source = read_source(str(bundled_dir() / "admin.yaml"))
    # The served copy says whether the key is needed; the operations are read from it, so
    # what is documented is what is enforced.
    served = effective_admin_document(
        parse_document(source), options.error_format, admin_key_required=bool(options.admin_key)
    )
    operations = parse_operations(served, ADMIN_KINDS)
    validators = compile_validators(served, operations)
    authenticator = Authenticator(served, [options.admin_key]) if options.admin_key else None
    handlers = admin_handlers(runtime, RecordChecks(runtime.contract))
    by_path: dict[str, dict[str, Callable[..., None]]] = defaultdict(dict)
    for operation in operations:
        if operation.action == LIVE_PAGE_ACTION:
            by_path[operation.path][operation.method] = LivePage().on_get
            continue
        handler = handlers[str(operation.action)]
        validator = validators[operation.operation_id]
        by_path[operation.path][operation.method] = AdminResponder(
            operation, authenticator, validator, handler, options.max_body_bytes, runtime.worlds
        )
    for path, responders in by_path.items():
        app.add_route(ADMIN_PREFIX + path, PathResource(responders))
    app.add_route(ADMIN_PREFIX + "/openapi.yaml", StaticDocument(render_yaml(served), "application/yaml"))


def build_runtime(
    contract: Contract,
    options: AppOptions,
    *,
    clock: ControllableClock,
    ids: IdGenerator,
    backend: Backend | None = None,
) -> Runtime:
    """The shared part and the default world (with the injected clock and ids, on ``backend``,
    in memory by default); other sandboxes' worlds are made from fresh copies of them."""
    backend = backend or MemoryBackend()
    policy = options.rate_limit or policy_from_spec(contract.document, contract.operations)
    factory = WorldFactory(
        contract,
        backend,
        policy,
        faults=options.faults,
        fault_seed=options.fault_seed,
        max_campaigns=options.max_campaigns,
        max_events=options.max_events,
        journal_size=options.journal_size,
        journal_bytes=options.journal_bytes,
        journal_total_bytes=options.journal_total_bytes,
    )
    default = factory.make(DEFAULT_WORLD, clock, ids, own_clock=True)
    return Runtime(
        contract=contract,
        worlds=Worlds(
            default,
            lambda name: factory.make(name, clock, ids.fresh()),
            backend.sandboxes,
            backend.drop,
            options.sandboxes,
            shared=backend.shared,
        ),
        error_format=options.error_format,
        policy=policy,
        backend=backend,
        redactor=Redactor.for_document(contract.document),
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
    runtime: Runtime | None = None,
) -> falcon.App[falcon.Request, falcon.Response]:
    """Build the mock for ``contract``; everything it needs is passed in (a runtime, too, when
    the caller needs to reach it, or chose its backend)."""
    runtime = runtime or build_runtime(contract, options, clock=clock, ids=ids)
    middleware: list[Any] = [
        HostGuard(AllowedHosts.of(options.allowed_hosts)),
        SandboxRouter(runtime.worlds),
        CrossSiteGuard(options.admin_key),
        RequestLog(options.log_requests),
        InputLimits(options.max_header_bytes, options.max_query_bytes),
    ]
    app = falcon.App(middleware=middleware)
    # No body, no Content-Type: every answer with a body names its own (an empty 200 or an
    # OPTIONS answer labelled application/json broke clients that parse by content type).
    # falcon types it str, yet reads None as "no default" (falcon/app.py: `if media_type is not None`).
    app.resp_options.default_media_type = None  # type: ignore[assignment]
    abort = options.drop_connection if options.drop_after_start else None
    boundary = ErrorBoundary(options.error_format, clock, invalid_body_status(contract.document), abort)
    app.add_error_handler(Exception, boundary)
    app.add_error_handler(falcon.HTTPError, boundary)
    _mount_api(app, runtime, options)
    if options.admin_enabled:
        _mount_admin(app, runtime, options)
    return app
