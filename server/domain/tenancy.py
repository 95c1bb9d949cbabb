"""Tenants: API keys bound to a workspace, which sees nothing of another (``x-tenancy``).

A key is configured as ``KEY`` or ``KEY@TENANT``. Under a spec with ``x-tenancy``, each
campaign carries its tenant in ``field``; a request of one tenant that names another's
campaign, or another's workspace (``query`` on lists, ``field`` on create), answers 404, as
if it did not exist: never the other's data, never a 403 that admits it exists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from campaign_mock.contract.tenancy import demo_keys, key_scopes, split_key, tenancy_spec
from campaign_mock.server.domain.errors import NotFound


def key_tenants(entries: Iterable[str]) -> dict[str, str | None]:
    """Each configured key (``KEY[@TENANT][#SCOPES]``) by its bare value, with its tenant."""
    return dict(split_key(entry) for entry in entries)


def key_permissions(entries: Iterable[str]) -> dict[str, frozenset[str] | None]:
    """Each configured key by its bare value, with its scopes (None: all)."""
    return {split_key(entry)[0]: key_scopes(entry) for entry in entries}


@dataclass(frozen=True)
class Tenancy:
    """Where a campaign's tenant is kept (``field``) and where a list names it (``query``)."""

    field: str
    query: str | None
    default_tenant: str

    def require_known(self, tenant: str | None) -> str:
        return tenant or self.default_tenant

    def check_campaign(self, campaign: Mapping[str, Any], tenant: str | None, campaign_id: str) -> None:
        if campaign.get(self.field) != self.require_known(tenant):
            raise NotFound(f"No campaign with id {campaign_id!r}.")

    def check_workspace(self, named: Any, tenant: str | None) -> None:
        if named is not None and named != self.require_known(tenant):
            raise NotFound(f"No workspace {named!r} for this API key.")

    def matcher(self, tenant: str | None) -> Callable[[Mapping[str, Any]], bool]:
        mine = self.require_known(tenant)
        return lambda campaign: campaign.get(self.field) == mine


def tenancy_of(document: Mapping[str, Any]) -> Tenancy | None:
    spec = tenancy_spec(document)
    if spec is None:
        return None
    tenants = [tenant for _, tenant in map(split_key, demo_keys(document)) if tenant]
    return Tenancy(spec.field, spec.query, tenants[0] if tenants else "default")
