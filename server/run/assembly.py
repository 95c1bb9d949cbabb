"""From settings to a ready app: load and check the contract, pick the error format,
merge the rate limits, set up the clock and the faults.

Shared by the CLI, the threaded server for tests and the pytest fixture, so all of them
run the same path.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import NoReturn

import falcon

from campaign_mock.contract.errors import ContractError
from campaign_mock.contract.lint import Finding, lint_source
from campaign_mock.contract.operations import Contract, build_contract, invalid_body_status
from campaign_mock.contract.positions import Positions, message_path
from campaign_mock.contract.security import Security
from campaign_mock.contract.specs import SpecSource, parse_document, read_source
from campaign_mock.contract.tenancy import demo_keys
from campaign_mock.contract.timefmt import parse_timestamp
from campaign_mock.server.domain.clock import ControllableClock
from campaign_mock.server.domain.errors import InsufficientStorage, StoreUnavailable
from campaign_mock.server.domain.ids import IdGenerator, ids_for
from campaign_mock.server.run.config import ConfigError, ServeSettings
from campaign_mock.server.run.granian_runner import granian_drop
from campaign_mock.server.run.keys import check_configured_keys
from campaign_mock.server.run.servers import waitress_drop
from campaign_mock.server.run.waitress_runner import ConnectionLimits
from campaign_mock.server.stores.opening import OpenedStore, StoreError, open_store
from campaign_mock.server.traffic.faults import parse_rule
from campaign_mock.server.traffic.traffic import RateLimitOverrides, RateLimitPolicy, policy_from_spec
from campaign_mock.server.web.app import AppOptions, build_runtime, create_app
from campaign_mock.server.web.boundary import ErrorBoundary
from campaign_mock.server.web.error_formats import ErrorFormat, resolve_error_format
from campaign_mock.server.web.reading import TimedReader, read_directly
from campaign_mock.server.worlds.registry import SandboxPolicy
from campaign_mock.server.worlds.runtime import Runtime

log = logging.getLogger("campaign_mock.contract")


def load_checked_contract(reference: str, lint: str = "error") -> Contract:
    """Read, lint and interpret a spec; ContractError (``file:line:col: ...``) on any problem.

    ``lint``: ``error`` refuses a spec ``campaign-mock lint`` rejects (OpenAPI validity
    included); ``warn`` logs the findings and serves it if it can be read at all."""
    source = read_source(reference)
    return _checked(source.origin, source.text, lint)


@functools.lru_cache(maxsize=32)
def _checked(origin: str, text: str, lint: str) -> Contract:
    """Linted and built once per text (tests assemble the same spec hundreds of times).

    OpenAPI validity is reported first, then what stops the contract from being read at all,
    then the other lint findings (which ``--lint warn`` lets the server live with)."""
    source = SpecSource(origin, text)
    findings = lint_source(source)
    errors = sorted(
        (finding for finding in findings if finding.severity == "error"), key=lambda f: f.rule != "openapi-valid"
    )
    document = parse_document(source)
    try:
        contract = build_contract(document, origin)
    except ContractError as exc:
        if errors and errors[0].rule == "openapi-valid":
            raise ContractError(_first_of(errors, origin, servable=False)) from exc
        message = str(exc).removeprefix(f"{origin}: ")
        same = next((finding for finding in findings if finding.message == message), None)
        line, column = (same.line, same.column) if same else Positions(text).of(message_path(message))
        raise ContractError(f"{origin}:{line}:{column}: {message}") from exc
    _refuse_unservable_security(source, contract, errors, lint)
    if errors and lint == "error":
        raise ContractError(_first_of(errors, origin, servable=True))
    for finding in findings:
        log.warning("%s", finding.as_text())
    return contract


def _refuse_unservable_security(source: SpecSource, contract: Contract, errors: list[Finding], lint: str) -> None:
    """An operation whose every security requirement names a scheme the mock cannot check
    (oauth2, openIdConnect, mutualTLS, http digest, or an undeclared name) would refuse every
    client: one line naming the scheme, even under ``--lint warn`` (which cannot serve it)."""
    if errors and errors[0].rule == "openapi-valid" and lint == "error":
        return  # an invalid document is named first, as for any other problem
    problem = Security.of(contract.document).unservable(contract.operations)
    if problem is None:
        return
    rule, where, message = problem
    line, column = Positions(source.text).of(where)
    raise ContractError(f"{source.origin}:{line}:{column}: {rule}: {message}")


def _first_of(errors: list[Finding], origin: str, servable: bool) -> str:
    more = f"and {len(errors) - 1} more; `campaign-mock lint {origin}` lists them" if len(errors) > 1 else ""
    hint = "; ".join(part for part in (more, "--lint warn serves the spec anyway" if servable else "") if part)
    return errors[0].as_text() + (f" ({hint})" if hint else "")


def configured_error_format(settings: ServeSettings, contract: Contract) -> ErrorFormat:
    """The flag's or config's format (a config file's formats first), else the spec's own."""
    try:
        return resolve_error_format(settings.error_format, settings.error_formats, contract.document)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc


def configured_rate_limit(settings: ServeSettings, contract: Contract) -> RateLimitPolicy:
    """The spec's ``x-rate-limit`` with config and flags laid over it."""
    concurrency = None
    if settings.concurrency_limit is not None:
        concurrency = (
            {
                "limit": settings.concurrency_limit,
                "queue": settings.concurrency_queue,
                "wait": settings.concurrency_wait,
            }
            if settings.concurrency_limit > 0
            else {}
        )
    overrides = RateLimitOverrides(
        windows=settings.rate_limit,
        scope=settings.rate_limit_scope,
        algorithm=settings.rate_limit_algorithm,
        headers=settings.rate_limit_headers,
        concurrency=concurrency,
    )
    try:
        return overrides.apply(policy_from_spec(contract.document, contract.operations))
    except ValueError as exc:
        raise ConfigError(f"{contract.origin}: {exc}") from exc


def configured_clock(settings: ServeSettings) -> ControllableClock:
    start = parse_timestamp(settings.clock_start) if settings.clock_start else None
    return ControllableClock(start=start, frozen=settings.freeze_clock)


@dataclass(frozen=True)
class Assembled:
    app: falcon.App[falcon.Request, falcon.Response]
    contract: Contract
    api_keys: list[str]
    clock: ControllableClock
    runtime: Runtime
    errors: ErrorBoundary  # writes the HTTP server's own refusals in the configured format
    limits: ConnectionLimits
    store: OpenedStore


def assemble(
    settings: ServeSettings,
    *,
    clock: ControllableClock | None = None,
    ids: IdGenerator | None = None,
    drop_connection: Callable[[], NoReturn] | None = None,
) -> Assembled:
    settings.check_combination()
    contract = load_checked_contract(settings.spec, settings.lint)
    granian = settings.server == "granian"
    known = {operation.operation_id for operation in contract.operations} | {"*"}
    faults = [parse_rule(raw) for raw in settings.faults]
    for rule in faults:
        if rule.operation not in known:
            raise ConfigError(f"faults: {rule.operation!r} is not an operation of {contract.origin}")
    described = {key: value for key, value in asdict(settings).items() if key not in ("api_keys", "admin_key")}
    check_configured_keys(settings.api_keys, contract)
    keys = settings.api_keys or demo_keys(contract.document) or settings.effective_keys()
    described["api_keys"] = f"{len(keys)} key(s)"
    store = _opened(settings, contract)
    described["store"] = store.backend.describe()  # never the URL's password
    options = AppOptions(
        api_keys=keys,
        error_format=configured_error_format(settings, contract),
        max_body_bytes=settings.max_body_bytes,
        rate_limit=configured_rate_limit(settings, contract),
        faults=faults,
        fault_seed=settings.fault_seed,
        admin_enabled=settings.admin,
        admin_key=settings.admin_key,
        journal_size=settings.journal_size,
        journal_bytes=settings.journal_bytes,
        journal_total_bytes=settings.journal_total_bytes,
        max_campaigns=settings.max_campaigns,
        max_events=settings.max_events,
        max_header_bytes=settings.max_header_bytes,
        max_query_bytes=settings.max_query_bytes,
        max_json_depth=settings.max_json_depth,
        log_requests=settings.log_requests,
        drop_connection=drop_connection or (granian_drop if granian else waitress_drop),
        drop_after_start=granian,
        body_reader=TimedReader(settings.body_timeout) if granian else read_directly,
        sandboxes=SandboxPolicy(settings.sandboxes, settings.sandbox_ttl, settings.max_sandboxes),
        allowed_hosts=tuple(settings.allowed_hosts),
        described_settings=described,
    )
    clock = clock or configured_clock(settings)
    ids = ids or ids_for(contract.document)
    try:
        runtime = build_runtime(contract, options, clock=clock, ids=ids, backend=store.backend)
    except (StoreUnavailable, InsufficientStorage) as exc:  # the store failed while the worlds were made
        store.backend.close()
        raise ConfigError(f"the store {store.backend.describe()} failed at start: {exc.detail}") from exc
    _migrate(store, runtime)
    clock = runtime.default.clock  # the injected one, or one reading a shared store's clock
    app = create_app(contract, options, clock=clock, ids=ids, runtime=runtime)
    errors = ErrorBoundary(options.error_format, clock, invalid_body_status(contract.document))
    limits = ConnectionLimits(
        max_connections=settings.max_connections,
        idle_timeout=settings.idle_timeout,
        body_timeout=settings.body_timeout,
        header_timeout=settings.header_timeout,
        max_body_bytes=settings.max_body_bytes,
        max_header_bytes=settings.max_header_bytes,
    )
    return Assembled(app, contract, list(options.api_keys), clock, runtime, errors, limits, store)


def _opened(settings: ServeSettings, contract: Contract) -> OpenedStore:
    try:
        return open_store(settings.effective_store(), settings.store_namespace, contract)
    except StoreError as exc:
        raise ConfigError(str(exc)) from exc


def _migrate(store: OpenedStore, runtime: Runtime) -> None:
    """Load an old state file's records into the new SQLite file, all or none."""
    if store.migrated_from is None:
        return
    try:
        runtime.default.service.restore(store.migrating)
    except Exception as exc:
        restored = store.undo_migration()
        raise ConfigError(
            f"{restored}: could not migrate the JSON state file to SQLite ({exc}); it is back there, unchanged"
        ) from exc
