"""Campaign id generators, injected so tests can predict ids."""

from __future__ import annotations

import secrets
import threading
import uuid
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from campaign_mock.contract.ids import id_style
from campaign_mock.contract.integers import whole_number


class IdGenerator(Protocol):
    def new_id(self) -> str: ...

    def observe(self, campaign_id: str) -> None:
        """An id now in use (seeded, or loaded at start): later ids must not repeat it."""
        ...

    def fresh(self) -> IdGenerator:
        """A generator of the same kind that starts over, for a new sandbox."""
        ...


@runtime_checkable
class Restartable(Protocol):
    """A generator that counts (``1, 2, 3``): a world's reset starts the count over, so a test
    after a reset sees the ids a fresh mock gives (those that draw at random have nothing to redo)."""

    def restart(self) -> None: ...


class RandomIds:
    """``cmp_`` and 20 random hex digits (or ``length`` of them: Mailchimp's ids are 10):
    unguessable, URL-safe, fits the id pattern."""

    def __init__(self, prefix: str = "cmp_", length: int = 20) -> None:
        self._prefix = prefix
        self._length = length

    def new_id(self) -> str:
        return f"{self._prefix}{secrets.token_hex((self._length + 1) // 2)[: self._length]}"

    def observe(self, campaign_id: str) -> None:
        """Nothing to do: 80 random bits do not repeat a stored id."""

    def fresh(self) -> RandomIds:
        return RandomIds(self._prefix, self._length)


class SequentialIds:
    """``cmp_1``, ``cmp_2``, ...: for tests that name ids up front."""

    def __init__(self, prefix: str = "cmp_") -> None:
        self.prefix = prefix
        self._next = 1
        self._lock = threading.Lock()

    def new_id(self) -> str:
        with self._lock:
            number, self._next = self._next, self._next + 1
        return f"{self.prefix}{number}"

    def observe(self, campaign_id: str) -> None:
        """Continue after the highest number in use (Altcraft's next ``add`` after a restart
        reused id 1 and answered 500)."""
        number = whole_number(campaign_id.removeprefix(self.prefix)) if campaign_id.startswith(self.prefix) else None
        if number is not None:
            with self._lock:
                self._next = max(self._next, number + 1)

    def fresh(self) -> SequentialIds:
        return SequentialIds(self.prefix)

    def restart(self) -> None:
        """The next id is ``PREFIX1`` again (the world was reset: no campaign holds an id)."""
        with self._lock:
            self._next = 1


class UuidIds:
    """Random UUIDs (version 4), for vendors whose ids are UUIDs."""

    def new_id(self) -> str:
        return str(uuid.uuid4())

    def observe(self, campaign_id: str) -> None:
        """Nothing to do: random UUIDs do not repeat a stored id."""

    def fresh(self) -> UuidIds:
        return UuidIds()


def numeric_ids(document: Mapping[str, Any]) -> bool:
    """Whether the spec's campaigns show their ids as numbers (``x-ids: {format: integer}``)."""
    return bool((document.get("x-ids") or {}).get("format") == "integer")


def ids_for(document: Mapping[str, Any]) -> IdGenerator:
    """The generator the spec's ``x-ids`` asks for: ``{format: uuid}``, ``{format: integer}``
    (1, 2, 3, ...) or random hex after ``prefix`` (default ``cmp_``), ``length`` digits
    (``{format: hex, length: 10}``; default 20). ``contract.ids`` checks the shape."""
    style = id_style(document)
    if style.format == "uuid":
        return UuidIds()
    if style.format == "integer":
        return SequentialIds(prefix="")
    return RandomIds(style.prefix, style.length)
