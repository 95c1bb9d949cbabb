"""What a spec says about tenants (``x-tenancy``); read by the server and the kit alike.

``field``: where a campaign keeps its tenant (a create body names it there);
``query``: the list parameter that names the tenant. The root's ``x-demo-keys`` lists the
keys (``KEY`` or ``KEY@TENANT``) a mock accepts when none are configured.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from campaign_mock.contract.errors import ContractError

TENANT_SEPARATOR = "@"


SCOPE_SEPARATOR = "#"


def split_key(entry: str) -> tuple[str, str | None]:
    """``KEY@TENANT`` -> (KEY, TENANT); a plain ``KEY`` has no tenant. Scopes are left off."""
    entry = entry.partition(SCOPE_SEPARATOR)[0]
    key, separator, tenant = entry.rpartition(TENANT_SEPARATOR)
    return (key, tenant) if separator and key and tenant else (entry, None)


def key_scopes(entry: str) -> frozenset[str] | None:
    """``KEY#view,run`` -> {view, run}: what the key may do; None (no ``#``) means everything."""
    _, separator, scopes = entry.partition(SCOPE_SEPARATOR)
    return frozenset(part.strip() for part in scopes.split(",") if part.strip()) if separator else None


@dataclass(frozen=True)
class TenancySpec:
    field: str
    query: str | None


def demo_keys(document: Mapping[str, Any]) -> list[str]:
    """The keys a spec suggests when none are configured (``x-demo-keys``)."""
    keys = document.get("x-demo-keys") or []
    if not isinstance(keys, list) or not all(isinstance(key, str) and key for key in keys):
        raise ContractError("x-demo-keys: expected a list of keys (KEY or KEY@TENANT)")
    return list(keys)


def tenancy_spec(document: Mapping[str, Any]) -> TenancySpec | None:
    raw = document.get("x-tenancy")
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or not isinstance(raw.get("field"), str):
        raise ContractError("x-tenancy: expected {field: NAME, query: NAME}")
    return TenancySpec(raw["field"], str(raw["query"]) if raw.get("query") else None)
