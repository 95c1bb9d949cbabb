"""Where a contract's credentials travel, read once for the server, the kit and the fixture.

A security scheme becomes a ``Placement``: how a client puts a key in a request (``apply``)
and how a server takes it out again (``read``), with the challenge a refusal carries and
the words (and curl flags) that tell a person how to send it. The server, the conformance
kit and the pytest fixture all read schemes here, so they cannot disagree on where a key
goes; ``lint`` and ``serve`` name every scheme this module cannot place.

Supported: ``http`` bearer, ``http`` basic, ``apiKey`` in a header or the query. With basic
the key is the password and the user name is ignored (Mailchimp's SDK sends
``anystring:KEY``), unless the scheme fixes one with ``x-basic-user: NAME``; a client sends
``anystring`` where none is fixed. A key in a cookie is not placed: the journal and the
client report mask only the Authorization header and the API-key headers and query
parameters, so a cookie key would be written down in the clear.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from campaign_mock.contract.operations import HTTP_METHODS, Operation

REALM = "campaign-mock"
BASIC_USER = "x-basic-user"
ANY_USER = "anystring"  # the user a client sends where the scheme fixes none
SUPPORTED = "http bearer, http basic, and apiKey in a header or the query"
INVALID = "security-invalid"  # the lint rule for a scheme or requirement that makes no sense

Kind = Literal["bearer", "basic", "header", "query"]
Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Presented:
    """What one request carries for one scheme: the key, or why what it carries is no key."""

    key: str | None = None
    malformed: str | None = None


NOTHING = Presented()


@dataclass(frozen=True)
class Placement:
    """Where one security scheme's key travels, seen from both ends of the wire."""

    scheme: str  # the name under components.securitySchemes
    kind: Kind
    name: str = "Authorization"  # the header or query parameter, as the spec spells it
    user: str | None = None  # basic: the user name the spec fixes (x-basic-user); None takes any

    @property
    def where(self) -> tuple[str, str]:
        """The place on the wire: ("header", lower-case name) or ("query", name)."""
        return ("query", self.name) if self.kind == "query" else ("header", self.name.lower())

    # -- the client's side ---------------------------------------------------------------

    def apply(self, key: str, headers: dict[str, str], query: dict[str, Any]) -> None:
        """Put ``key`` where the scheme says (a header or a query parameter)."""
        if self.kind == "query":
            query[self.name] = key
        else:
            headers[self.name] = self.header_value(key)

    def header_value(self, key: str) -> str:
        """The header's value carrying ``key``: ``Bearer KEY``, ``Basic base64(USER:KEY)``, or KEY."""
        if self.kind == "bearer":
            return f"Bearer {key}"
        if self.kind == "basic":
            pair = f"{self.user if self.user is not None else ANY_USER}:{key}"
            return "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")
        return key

    def headers_for(self, key: str) -> dict[str, str]:
        """The headers that carry ``key``; none for a key in the query."""
        headers: dict[str, str] = {}
        self.apply(key, headers, {})
        return headers

    def query_for(self, key: str) -> dict[str, str]:
        """The query parameters that carry ``key``; none for a key in a header."""
        query: dict[str, Any] = {}
        self.apply(key, {}, query)
        return query

    # -- the server's side ---------------------------------------------------------------

    def read(self, headers: Mapping[str, str], query: Mapping[str, Sequence[str]]) -> Presented:
        """The key a request presents this way. ``headers`` are keyed by lower-case name."""
        if self.kind == "query":
            values = query.get(self.name) or ()
            return Presented(values[0]) if values else NOTHING
        value = headers.get(self.name.lower())
        if value is None:
            return NOTHING
        if self.kind == "header":
            return (
                Presented(value)
                if value
                else Presented(malformed=f'The "{self.name}" header is empty; send the key in it.')
            )
        if self.kind == "bearer":
            return _bearer(value)
        return self._basic(value)

    def _basic(self, value: str) -> Presented:
        """RFC 7617: ``Basic base64(user-id ":" password)``, UTF-8; the key is the password.
        Anything else a client sends is malformed (401), never an error of the server."""
        expected = f'expected "Basic base64({self.user or "USER"}:KEY)"'
        try:
            user, password = split_basic(value)
        except ValueError as exc:
            return Presented(malformed=f"{exc}: {expected}.")
        if not password:
            return Presented(malformed=f"Basic credentials without a password: the key is the password, {expected}.")
        if self.user is not None and user != self.user:
            return Presented(malformed=f"Basic credentials for another user: {expected}.")
        return Presented(password)

    def challenge(self, error: str | None) -> str:
        """The ``WWW-Authenticate`` value a refusal carries (``error`` as RFC 6750 names it)."""
        if self.kind == "bearer":
            return f'Bearer realm="{REALM}"' + (f', error="{error}"' if error else "")
        if self.kind == "basic":
            return f'Basic realm="{REALM}", charset="UTF-8"'
        return f'ApiKey realm="{REALM}", {self.kind}="{self.name}"'

    # -- for people ----------------------------------------------------------------------

    def how_to_send(self) -> str:
        """Where the key goes, in words that finish 'send ...'."""
        if self.kind == "bearer":
            return '"Authorization: Bearer KEY"'
        if self.kind == "basic":
            who = f"user {self.user}" if self.user is not None else f"any user, e.g. {ANY_USER}"
            return f"HTTP Basic credentials with the key as the password ({who})"
        if self.kind == "header":
            return f'the "{self.name}: KEY" header'
        return f"the query parameter {self.name}=KEY"

    def curl(self, key: str = "KEY") -> str:
        """What curl needs to send ``key``: ``-u anystring:KEY``, ``-H '...'`` or ``'URL?name=KEY'``."""
        if self.kind == "basic":
            return f"curl -u {self.user if self.user is not None else ANY_USER}:{key}"
        if self.kind == "query":
            return f"curl 'URL?{self.name}={key}'"
        shown = f"Bearer {key}" if self.kind == "bearer" else key
        return f"curl -H '{self.name}: {shown}'"


def split_basic(value: str) -> tuple[str, str]:
    """(user, password) of an ``Authorization: Basic ...`` value; ValueError says what is wrong."""
    kind, _, token = value.strip().partition(" ")
    if kind.lower() != "basic" or not token.strip():
        raise ValueError("Malformed Authorization header")
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except ValueError:  # not base64 (binascii.Error), not ASCII, or not UTF-8 once decoded
        raise ValueError("Malformed Basic credentials, not base64 of UTF-8 text") from None
    user, colon, password = decoded.partition(":")
    if not colon:
        raise ValueError("Malformed Basic credentials, no ':' between user and key")
    return user, password


def _bearer(value: str) -> Presented:
    kind, _, token = value.strip().partition(" ")
    if kind.lower() != "bearer" or not token.strip():
        return Presented(malformed='Malformed Authorization header: expected "Bearer KEY".')
    return Presented(token.strip())


class UnsupportedScheme(ValueError):
    """A scheme campaign-mock cannot place (oauth2, openIdConnect, mutualTLS, http digest, ...);
    ``rule`` is the lint rule that reports it."""

    def __init__(self, message: str, rule: str = "security-unsupported") -> None:
        super().__init__(message)
        self.rule = rule


def placement_of(name: str, raw: Mapping[str, Any]) -> Placement:
    """One scheme as a Placement; UnsupportedScheme says what it is and what is supported."""
    kind = raw.get("type")
    scheme = str(raw.get("scheme", "")).lower()
    user = raw.get(BASIC_USER)
    if user is not None and not (kind == "http" and scheme == "basic"):
        raise UnsupportedScheme(f"security scheme {name!r}: {BASIC_USER} applies to http basic only", INVALID)
    if user is not None and (not isinstance(user, str) or not user or ":" in user):
        raise UnsupportedScheme(f"security scheme {name!r}: {BASIC_USER} must be a user name without ':'", INVALID)
    if kind == "http" and scheme == "bearer":
        return Placement(name, "bearer")
    if kind == "http" and scheme == "basic":
        return Placement(name, "basic", user=user)
    if kind == "apiKey" and raw.get("in") in ("header", "query") and isinstance(raw.get("name"), str) and raw["name"]:
        return Placement(name, raw["in"], raw["name"])
    what = {
        "http": f"http {scheme or '(no scheme)'}",
        "apiKey": f"apiKey in {raw.get('in')!s}",
    }.get(str(kind), str(kind))
    raise UnsupportedScheme(f"security scheme {name!r} is {what}: campaign-mock serves {SUPPORTED}")


@dataclass(frozen=True)
class Security:
    """Every scheme of one contract, placed or refused, and the requirements that use them."""

    placements: Mapping[str, Placement]
    refused: Mapping[str, str]  # scheme name -> why it cannot be placed

    @classmethod
    def of(cls, document: Mapping[str, Any]) -> Security:
        placements: dict[str, Placement] = {}
        refused: dict[str, str] = {}
        for name, raw in _declared(document).items():
            try:
                placements[name] = placement_of(name, raw if isinstance(raw, Mapping) else {})
            except UnsupportedScheme as exc:
                refused[name] = str(exc)
        return cls(placements, refused)

    def alternatives(self, requirements: Sequence[Mapping[str, Any]]) -> list[list[Placement]] | None:
        """The requirements a client can meet, each a list of placements; None when there are
        none or one of them is empty (the operation is open). A requirement naming a scheme
        that cannot be placed (or is not declared) can never be met, so it is left out."""
        if not requirements:
            return None
        met: list[list[Placement]] = []
        for requirement in requirements:
            if not requirement:
                return None
            if all(name in self.placements for name in requirement):
                met.append([self.placements[name] for name in requirement])
        return met

    def first(self, requirements: Sequence[Mapping[str, Any]]) -> Placement | None:
        """How a client sends its one key: the first placeable scheme the requirements name."""
        for requirement in requirements:
            for name in requirement:
                if name in self.placements:
                    return self.placements[name]
        return None

    def unservable(self, operations: Sequence[Operation]) -> tuple[str, Path, str] | None:
        """Where and why a server cannot serve this contract truthfully: a secured operation
        every requirement of which names a scheme that cannot be placed or is not declared
        (no client could ever be let in): (lint rule, where, message), or None."""
        stuck = [operation for operation in operations if self.alternatives(operation.security) == []]
        if not stuck:
            return None
        names = [name for requirement in stuck[0].security for name in requirement if name not in self.placements]
        name = names[0]
        rule = "security-unsupported" if name in self.refused else INVALID
        why = self.refused.get(name, f"security scheme {name!r} is not declared in components.securitySchemes")
        others = f" and {len(stuck) - 1} more" if len(stuck) > 1 else ""
        where: Path = ("components", "securitySchemes", name)
        return rule, where, f"{why} ({stuck[0].operation_id}{others} accept nothing else)"


def client_placement(document: Mapping[str, Any]) -> Placement | None:
    """How a client of this contract sends its key: the first scheme it can place that the
    root's requirements name, else the first an operation's name; None when nothing is secured."""
    security = Security.of(document)
    for _, requirements in _requirements(document):
        if isinstance(requirements, list):
            found = security.first([requirement for requirement in requirements if isinstance(requirement, Mapping)])
            if found is not None:
                return found
    return None


def security_problems(document: Mapping[str, Any]) -> Iterator[tuple[str, Path, str]]:
    """(rule, where, message) for each scheme that cannot be placed and each requirement
    that names an undeclared scheme; what ``lint`` reports of a contract's security."""
    declared = _declared(document)
    for name, raw in declared.items():
        try:
            placement_of(name, raw if isinstance(raw, Mapping) else {})
        except UnsupportedScheme as exc:
            yield exc.rule, ("components", "securitySchemes", name), str(exc)
    for where, requirements in _requirements(document):
        for index, requirement in enumerate(requirements if isinstance(requirements, list) else ()):
            for name in requirement if isinstance(requirement, Mapping) else ():
                if name not in declared:
                    yield (
                        INVALID,
                        (*where, index, name),
                        f"security requirement names {name!r}, which components.securitySchemes does not declare",
                    )


def _declared(document: Mapping[str, Any]) -> Mapping[str, Any]:
    """components.securitySchemes, or nothing where a broken document has no mapping there
    (``openapi-valid`` reports that; lint must not stop at it)."""
    components = document.get("components")
    schemes = components.get("securitySchemes") if isinstance(components, Mapping) else None
    return schemes if isinstance(schemes, Mapping) else {}


def _requirements(document: Mapping[str, Any]) -> Iterator[tuple[Path, Any]]:
    if "security" in document:
        yield ("security",), document["security"]
    paths = document.get("paths")
    for path, item in paths.items() if isinstance(paths, Mapping) else ():
        for method in HTTP_METHODS:
            raw = item.get(method) if isinstance(item, Mapping) else None
            if isinstance(raw, Mapping) and "security" in raw:
                yield ("paths", path, method, "security"), raw["security"]
