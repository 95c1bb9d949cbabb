"""Configured API keys checked against the contract at start: a key must mean what it says.

``KEY#SCOPES`` limits a key only where the contract's security requirements name scopes: on a
spec without any, ``ro#view`` was silently allowed every write. Under ``x-tenancy`` every key
belongs to one workspace: a key without ``@WORKSPACE`` silently belonged to the spec's demo
workspace. Both are refused at start, with the line to write instead.
"""

from __future__ import annotations

from collections.abc import Sequence

from campaign_mock.contract.operations import Contract
from campaign_mock.contract.tenancy import SCOPE_SEPARATOR, TENANT_SEPARATOR, demo_keys, key_scopes, split_key
from campaign_mock.server.run.config import ConfigError


def declared_scopes(contract: Contract) -> frozenset[str]:
    """Every scope an operation's security requirement names."""
    return frozenset(
        scope
        for operation in contract.operations
        for requirement in operation.security
        for scopes in requirement.values()
        for scope in scopes
    )


def check_configured_keys(keys: Sequence[str], contract: Contract) -> None:
    """ConfigError naming the first configured key the contract would read otherwise than written."""
    scopes = declared_scopes(contract)
    tenanted = contract.document.get("x-tenancy") is not None
    examples = ", ".join(key for key in demo_keys(contract.document) if TENANT_SEPARATOR in key) or "KEY@WORKSPACE"
    for entry in keys:
        key, tenant = split_key(entry)
        granted = key_scopes(entry)
        if granted is not None and not scopes:
            raise ConfigError(
                f"--api-key {entry!r}: {contract.origin} names no scopes in its security requirements, so "
                f"'{SCOPE_SEPARATOR}{','.join(sorted(granted))}' would limit nothing and the key could do everything; "
                f"drop '{SCOPE_SEPARATOR}...', or serve a spec whose operations require scopes"
            )
        unknown = sorted((granted or frozenset()) - scopes)
        if unknown:
            raise ConfigError(
                f"--api-key {entry!r}: unknown scope(s) {', '.join(unknown)}; {contract.origin} names "
                f"{', '.join(sorted(scopes))}"
            )
        if tenanted and tenant is None:
            raise ConfigError(
                f"--api-key {entry!r}: {contract.origin} keeps workspaces apart (x-tenancy), so every key "
                f"belongs to one: write {key}{TENANT_SEPARATOR}WORKSPACE (as the demo keys do: {examples})"
            )
