"""From settings to a ready app: load and check the contract, pick the error format.

Shared by the CLI and by tests that start the mock in-process, so both run the same path.
"""

from __future__ import annotations

from dataclasses import dataclass

import falcon

from contract.operations import Contract, build_contract
from contract.specs import parse_document, read_source, validate_openapi
from server.app import AppOptions, create_app
from server.clock import Clock, SystemClock
from server.config import ConfigError, ServeSettings
from server.error_formats import ErrorFormat, TemplateFormat, select_error_format
from server.ids import IdGenerator, RandomIds


def load_checked_contract(reference: str) -> Contract:
    """Read, validate (OpenAPI 3.1) and interpret a spec; ContractError on any problem."""
    source = read_source(reference)
    document = parse_document(source)
    validate_openapi(document, source.origin)
    return build_contract(document, source.origin)


def configured_error_format(settings: ServeSettings, contract: Contract) -> ErrorFormat:
    try:
        custom: dict[str, ErrorFormat] = {
            name: TemplateFormat(name, definition["content_type"], definition["body"])
            for name, definition in settings.error_formats.items()
        }
        name = settings.error_format or str(contract.document.get("x-error-format", "problem"))
        return select_error_format(name, custom)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc


@dataclass(frozen=True)
class Assembled:
    app: falcon.App[falcon.Request, falcon.Response]
    contract: Contract
    api_keys: list[str]


def assemble(settings: ServeSettings, *, clock: Clock | None = None, ids: IdGenerator | None = None) -> Assembled:
    contract = load_checked_contract(settings.spec)
    options = AppOptions(
        api_keys=settings.effective_keys(),
        error_format=configured_error_format(settings, contract),
        max_body_bytes=settings.max_body_bytes,
    )
    app = create_app(
        contract,
        options,
        clock=clock or SystemClock(),
        ids=ids or RandomIds(),
        log_requests=settings.log_requests,
    )
    return Assembled(app, contract, list(options.api_keys))
