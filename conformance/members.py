"""What a write may change in a campaign, member by member: a pure judge of (before, after).

A write changes only what the contract lets it change (a differential check, the kit's model
against the server's answer): the status field (judged by the lifecycle rules), the members
the write sets (its guards' stored members, the members its body names), and the members the
server stamps (``x-stamp``): ``write`` ones move forward, never back; ``create`` ones never
change. Every other member the contract declares must come back exactly as it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from campaign_mock.contract.timefmt import parse_timestamp

ABSENT = "(absent)"
SHOWN_CHARS = 80


def shown(value: Any) -> str:
    text = ABSENT if value is _MISSING else repr(value)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 3] + "..."


_MISSING = object()


@dataclass(frozen=True)
class MoveChanges:
    status_field: str
    stamps: Mapping[str, str]  # member -> "create" | "write"
    may_set: frozenset[str] = frozenset()
    declared: frozenset[str] | None = None  # the members the contract declares (None: judge every one)

    def describe(self) -> str:
        parts = [self.status_field, *sorted(self.may_set)]
        parts += [f"{name} (forward)" for name, kind in sorted(self.stamps.items()) if kind == "write"]
        return ", ".join(parts)

    def unexpected(self, before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
        """Each member that changed although the write may not change it, said as ``name: a -> b``."""
        found = []
        for name in sorted(set(before) | set(after)):
            if self.declared is not None and name not in self.declared:
                continue  # a member the contract does not declare is the schema rules' business
            old, new = before.get(name, _MISSING), after.get(name, _MISSING)
            if name == self.status_field or (name in self.may_set and self.stamps.get(name) != "create"):
                continue
            if self.stamps.get(name) == "write":
                if moved_back(old, new):
                    found.append(f"{name} went back: {shown(old)} -> {shown(new)}")
                continue
            if old != new:
                found.append(f"{name}: {shown(old)} -> {shown(new)}")
        return found


def moved_back(old: Any, new: Any) -> bool:
    """Whether a stamp is earlier than before (or vanished); unreadable stamps are left to the schema."""
    if old is _MISSING or not isinstance(old, str):
        return False
    if new is _MISSING or new is None:
        return True
    before, after = parse_timestamp(old), parse_timestamp(new) if isinstance(new, str) else None
    return before is not None and after is not None and after < before


def stamp_moved_forward(old: Any, new: Any) -> bool:
    """A ``write`` stamp after a write made at least a second after the stamp was set."""
    before = parse_timestamp(old) if isinstance(old, str) else None
    after = parse_timestamp(new) if isinstance(new, str) else None
    return before is not None and after is not None and after > before


def differences(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Every member that differs, said as ``name: a -> b``: a refused request changes none,
    not even a stamp the server moves on every write."""
    return [
        f"{name}: {shown(before.get(name, _MISSING))} -> {shown(after.get(name, _MISSING))}"
        for name in sorted(set(before) | set(after))
        if before.get(name, _MISSING) != after.get(name, _MISSING)
    ]
