"""What the kit found: one ``Outcome`` per rule checked, on one operation, with its evidence."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Verdict(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Outcome:
    """One rule on one operation (or scenario): passed, failed (with why) or skipped (with why)."""

    group: str
    rule: str
    operation: str
    verdict: Verdict
    expected: str = ""
    received: str = ""
    steps: tuple[str, ...] = ()  # curl lines that reproduce it from a fresh state
    note: str = ""
    applicable: bool = True  # skipped: False when the spec makes no such promise (no list, no limit)

    @property
    def failed(self) -> bool:
        return self.verdict is Verdict.FAILED


@dataclass
class GroupResult:
    group: str
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0
    summary: str = ""

    def passed(self, rule: str, operation: str, note: str = "") -> None:
        self.outcomes.append(Outcome(self.group, rule, operation, Verdict.PASSED, note=note))

    def failed(self, rule: str, operation: str, expected: str, received: str, steps: tuple[str, ...] = ()) -> None:
        self.outcomes.append(Outcome(self.group, rule, operation, Verdict.FAILED, expected, received, steps))

    def skipped(self, rule: str, operation: str, why: str) -> None:
        """A promise of the spec the kit could not check (listed under "Not checked")."""
        self.outcomes.append(Outcome(self.group, rule, operation, Verdict.SKIPPED, note=why))

    def not_applicable(self, rule: str, operation: str, why: str) -> None:
        """A rule the spec gives nothing to check by (no list operation, no rate limit)."""
        self.outcomes.append(Outcome(self.group, rule, operation, Verdict.SKIPPED, note=why, applicable=False))

    @property
    def checked(self) -> int:
        return sum(1 for outcome in self.outcomes if outcome.verdict is not Verdict.SKIPPED)

    @property
    def checked_nothing(self) -> bool:
        """The group had promises to check and checked none of them."""
        return self.checked == 0 and any(outcome.applicable for outcome in self.outcomes)

    def check(
        self, ok: bool, rule: str, operation: str, expected: str, received: str, steps: tuple[str, ...] = ()
    ) -> bool:
        """Record a pass or a failure; answer whether it passed."""
        if ok:
            self.passed(rule, operation)
        else:
            self.failed(rule, operation, expected, received, steps)
        return ok


class UsageError(Exception):
    """Bad options, an unreadable spec or an unreachable server: exit status 2."""
