"""What a refused request must answer, for the rules that judge one (a forbidden move, a
refusal, a refused delete): one description, so each is judged the same way
(``LifecycleChecks.judge_refused``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Refused:
    """What a refused request must answer: ``status`` under ``rule`` (``why`` says it), the
    error ``kind`` whose vendor code applies, and the rules its body and its no-change are
    judged under (default: ``rule``)."""

    rule: str
    label: str
    status: int
    why: str
    kind: str
    body_rule: str | None = None
    changes_rule: str | None = None
