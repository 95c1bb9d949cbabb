"""Credentials, read where the contract's security schemes say they travel.

Supports HTTP bearer and API keys in a header or the query. A request passes when any of
the operation's security alternatives is satisfied by a configured key; otherwise 401
with a ``WWW-Authenticate`` challenge naming the scheme.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from campaign_mock.contract.operations import Operation, security_schemes
from campaign_mock.server.domain.errors import Forbidden, Unauthorized
from campaign_mock.server.domain.tenancy import key_permissions, key_tenants

REALM = "campaign-mock"


@dataclass(frozen=True)
class Scheme:
    """Where one security scheme's credential is found."""

    name: str
    kind: str  # "bearer" | "header" | "query"
    field: str

    def challenge(self, error: str | None) -> str:
        if self.kind == "bearer":
            return f'Bearer realm="{REALM}"' + (f', error="{error}"' if error else "")
        return f'ApiKey realm="{REALM}", {self.kind}="{self.field}"'

    def how_to_send(self) -> str:
        if self.kind == "bearer":
            return '"Authorization: Bearer KEY"'
        if self.kind == "header":
            return f'the "{self.field}: KEY" header'
        return f"the query parameter {self.field}=KEY"


def _scheme(name: str, raw: Mapping[str, Any]) -> Scheme:
    kind = raw.get("type")
    if kind == "http" and str(raw.get("scheme", "")).lower() == "bearer":
        return Scheme(name, "bearer", "authorization")
    if kind == "apiKey" and raw.get("in") in ("header", "query"):
        field = str(raw["name"])
        return Scheme(name, str(raw["in"]), field.lower() if raw["in"] == "header" else field)
    raise ValueError(f"security scheme {name!r}: campaign-mock supports http bearer and apiKey in header or query")


@dataclass(frozen=True)
class Credentials:
    """What the client sent, seen through each scheme."""

    headers: Mapping[str, str]
    query: Mapping[str, list[str]]
    body_token: str | None = None  # where the contract takes a token in the body (x-token-field)


class Authenticator:
    def __init__(self, document: Mapping[str, Any], keys: Sequence[str]) -> None:
        """``keys``: ``KEY`` or ``KEY@TENANT`` (see ``server.tenancy``)."""
        self._schemes = {name: _scheme(name, raw) for name, raw in security_schemes(document).items()}
        self._tenants = key_tenants(keys)
        self._scopes = key_permissions(keys)
        self._keys = frozenset(self._tenants)

    def tenant_of(self, key: str | None) -> str | None:
        return self._tenants.get(key) if key is not None else None

    def required_schemes(self, operation: Operation) -> list[list[Scheme]]:
        """The operation's alternatives; an empty list means no credentials are needed."""
        alternatives = [[self._schemes[name] for name in requirement] for requirement in operation.security]
        return [] if any(not alternative for alternative in alternatives) else alternatives

    def authenticate(self, operation: Operation, credentials: Credentials) -> str | None:
        """The key used, or None for an open operation; Unauthorized otherwise, Forbidden for a
        key without the scopes (permissions) the operation's security requirement names.

        Every credential the request carries must be right: a wrong one beside a right one (a
        stale header and a good body token) is refused, not overlooked."""
        alternatives = self.required_schemes(operation)
        if not alternatives:
            return None
        presented: list[tuple[str, str]] = []  # (key, how it was sent)
        if credentials.body_token is not None:
            presented.append((credentials.body_token, "in the body"))
        first = alternatives[0][0]
        seen: set[str] = set()
        for scheme in (scheme for alternative in alternatives for scheme in alternative):
            if scheme.name in seen:
                continue
            seen.add(scheme.name)
            key, malformed = self._presented(scheme, credentials)
            if malformed:
                raise Unauthorized(malformed, headers={"WWW-Authenticate": scheme.challenge("invalid_request")})
            if key is not None:
                presented.append((key, f"via {scheme.how_to_send()}"))
        wrong = next((how for key, how in presented if key not in self._keys), None)
        if wrong is not None:
            raise Unauthorized(
                f"Unknown API key sent {wrong}.", headers={"WWW-Authenticate": first.challenge("invalid_token")}
            )
        keys = {key for key, _ in presented}
        if len(keys) > 1:
            raise Unauthorized(
                "Different API keys were sent in one request; send one key.",
                headers={"WWW-Authenticate": first.challenge("invalid_request")},
            )
        if keys:
            return self._permitted(operation, keys.pop())
        raise Unauthorized(
            f"Missing credentials: send {first.how_to_send()}.", headers={"WWW-Authenticate": first.challenge(None)}
        )

    def _permitted(self, operation: Operation, key: str) -> str:
        granted = self._scopes.get(key)
        needed = {scope for requirement in operation.security for scopes in requirement.values() for scope in scopes}
        missing = sorted(needed - granted) if granted is not None else []
        if missing:
            raise Forbidden(
                f"This key lacks the permission(s) {', '.join(missing)} that {operation.operation_id} needs."
            )
        return key

    @staticmethod
    def _presented(scheme: Scheme, credentials: Credentials) -> tuple[str | None, str | None]:
        """(the key presented, or why what was sent is malformed)."""
        if scheme.kind == "query":
            values = credentials.query.get(scheme.field) or []
            return (values[0], None) if values else (None, None)
        value = credentials.headers.get(scheme.field)
        if value is None:
            return None, None
        if scheme.kind == "header":
            return (value, None) if value else (None, f'The "{scheme.field}" header is empty; send the key in it.')
        kind, _, token = value.strip().partition(" ")
        if kind.lower() != "bearer" or not token.strip():
            return None, 'Malformed Authorization header: expected "Bearer KEY".'
        return token.strip(), None
