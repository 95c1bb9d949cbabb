"""Credentials, read where the contract's security schemes say they travel.

Where that is (bearer, HTTP Basic, an API-key header or query parameter) is read by
``contract.security``, as the kit and the fixture read it. A request passes when any of
the operation's security alternatives is satisfied by a configured key; otherwise 401
with a ``WWW-Authenticate`` challenge naming the scheme. Whatever a client sends (bad
base64, no colon, bytes that are no UTF-8) ends in a 401, never in an error of the server.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from campaign_mock.contract.operations import Operation
from campaign_mock.contract.security import Placement, Security
from campaign_mock.server.domain.errors import Forbidden, Unauthorized
from campaign_mock.server.domain.tenancy import key_permissions, key_tenants


@dataclass(frozen=True)
class Credentials:
    """What the client sent, seen through each scheme."""

    headers: Mapping[str, str]
    query: Mapping[str, list[str]]
    body_token: str | None = None  # where the contract takes a token in the body (x-token-field)


class Authenticator:
    def __init__(self, document: Mapping[str, Any], keys: Sequence[str]) -> None:
        """``keys``: ``KEY`` or ``KEY@TENANT`` (see ``server.tenancy``)."""
        self._security = Security.of(document)
        self._tenants = key_tenants(keys)
        self._scopes = key_permissions(keys)
        self._keys = frozenset(self._tenants)

    def tenant_of(self, key: str | None) -> str | None:
        return self._tenants.get(key) if key is not None else None

    def required_schemes(self, operation: Operation) -> list[list[Placement]] | None:
        """The alternatives a client can meet; None when the operation needs no credentials.
        (An empty list: none can be met; ``serve`` refuses such a contract at start.)"""
        return self._security.alternatives(operation.security)

    def authenticate(self, operation: Operation, credentials: Credentials) -> str | None:
        """The key used, or None for an open operation; Unauthorized otherwise, Forbidden for a
        key without the scopes (permissions) the operation's security requirement names.

        Every credential the request carries must be right: a wrong one beside a right one (a
        stale header and a good body token) is refused, not overlooked."""
        alternatives = self.required_schemes(operation)
        if alternatives is None:
            return None
        if not alternatives:
            raise Unauthorized(f"{operation.operation_id} needs credentials campaign-mock cannot check.")
        presented: list[tuple[str, str]] = []  # (key, how it was sent)
        if credentials.body_token is not None:
            presented.append((credentials.body_token, "in the body"))
        first = alternatives[0][0]
        malformed: dict[tuple[str, str], tuple[Placement, str]] = {}  # where -> (scheme, why)
        answered: set[tuple[str, str]] = set()  # where some scheme read a key
        for scheme in {scheme.scheme: scheme for alternative in alternatives for scheme in alternative}.values():
            sent = scheme.read(credentials.headers, credentials.query)
            if sent.malformed:
                malformed.setdefault(scheme.where, (scheme, sent.malformed))
            if sent.key is not None:
                answered.add(scheme.where)
                presented.append((sent.key, f"via {scheme.how_to_send()}"))
        # Bearer and Basic may both be offered on one Authorization header: only what no
        # scheme on that header can read is malformed.
        for where, (scheme, why) in malformed.items():
            if where not in answered:
                raise Unauthorized(why, headers={"WWW-Authenticate": scheme.challenge("invalid_request")})
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
