"""The vendor's own error codes, where the contract names them: an ``x-error-format`` with
``codes`` (``not-found: document_not_found``) promises that code wherever its template writes
``{code}``, for each kind of error the kit knows it provoked (an unknown id, a forbidden
move, a refused action, a refused delete or update, a wrong key). Built-in formats and kinds
the contract does not map promise no code, so nothing is judged there."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from campaign_mock.contract import envelopes
from campaign_mock.contract.error_formats import spec_format
from campaign_mock.contract.errors import ContractError
from campaign_mock.contract.pointers import read_pointer

CODE = "{code}"
RULE = "errors.vendor-code"


def promised_code(document: Mapping[str, Any], status: int, kind: str) -> tuple[str, Any] | None:
    """(pointer, code) the contract promises for an error of ``kind`` answered with ``status``."""
    try:
        definition = spec_format(document).definition
    except ContractError:
        return None
    if definition is None or kind not in definition.codes:
        return None
    pointer = envelopes.pointer_to(definition.template_for(status), CODE)
    return None if pointer is None else (pointer, definition.codes[kind])


def judge_code(result: Any, document: Mapping[str, Any], kind: str, exchange: Any, label: str, steps: Any) -> None:
    """Check an error answer's code against the one the contract maps ``kind`` to."""
    promised = promised_code(document, exchange.status, kind)
    if promised is None:
        return
    pointer, code = promised
    sent = read_pointer(exchange.json(), pointer)
    result.check(
        sent == code,
        RULE,
        label,
        f"{pointer or '/'} = {code!r} (x-error-format.codes maps {kind} to it)",
        f"{sent!r}",
        steps,
    )
