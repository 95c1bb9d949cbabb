"""Which campaign ids the API can address: the read operation's id parameter, as the contract
types it. An id outside it (Brevo's ids stop at 2**53 - 1) would make a campaign no request
can reach, so the mock neither seeds nor creates one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from campaign_mock.contract.operations import Contract
from campaign_mock.server.web.validation import SchemaCompiler

IdCheck = Callable[[Any], str | None]
"""What is wrong with an id (typed as campaigns show it), or None when requests can name it."""


def id_check(contract: Contract) -> IdCheck | None:
    """The check of the read operation's id parameter; None where the contract has no read by id."""
    reader = contract.one_of_kind("get")
    parameter = next(iter(reader.parameters_in("path")), None) if reader is not None else None
    if parameter is None:
        return None
    validator = SchemaCompiler(contract.document).at(parameter.schema_pointer)

    def problem(value: Any) -> str | None:
        found = next(iter(validator.iter_errors(value)), None) if not validator.is_valid(value) else None
        return None if found is None else f"the API's {parameter.name} takes no such id ({found.message})"

    return problem
