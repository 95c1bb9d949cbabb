"""What a run covered of what the contract promises, as checked/total: operations, documented
statuses, documented response headers, state x action pairs, list parameters.

Filled as the run goes: the target records every answer the kit's own groups get,
schemathesis' groups record theirs, the lifecycle group the pairs it judged and the listing
group the parameters it exercised. A report that says "conformant" also says how much of
the contract that verdict rests on.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from campaign_mock.conformance.results import Outcome, Verdict
from campaign_mock.contract.listing import parameter_names
from campaign_mock.contract.operations import Contract


@dataclass(frozen=True)
class Share:
    checked: int
    total: int

    def __str__(self) -> str:
        return f"{self.checked}/{self.total}"


@dataclass
class Coverage:
    answers: dict[tuple[str, int], set[str]] = field(default_factory=lambda: defaultdict(set))
    """(operationId, status) answered -> the header names seen on those answers (lower case)."""
    pairs: dict[tuple[str, str], list[Outcome]] = field(default_factory=lambda: defaultdict(list))
    """(state, action) -> the outcomes of the lifecycle rules judged on that pair."""
    list_parameters: set[str] = field(default_factory=set)
    too_many: list[tuple[Mapping[str, str], str]] = field(default_factory=list)
    """429 answers schemathesis' groups met (headers, curl), judged by the rate-limit group."""

    def answered(self, operation_id: str, status: int, headers: Mapping[str, str]) -> None:
        self.answers[(operation_id, status)].update(name.lower() for name in headers)

    def judged(self, state: str, action: str, outcomes: list[Outcome]) -> None:
        self.pairs[(state, action)].extend(outcomes)

    def shares(self, contract: Contract) -> dict[str, Share]:
        operations = contract.operations
        answered_operations = {operation_id for operation_id, _ in self.answers}
        statuses = [(op.operation_id, status) for op in operations for status in op.responses if status.isdecimal()]
        seen_statuses = [(op, status) for op, status in statuses if (op, int(status)) in self.answers]
        headers = [
            (op.operation_id, status, header)
            for op in operations
            for status, response in op.responses.items()
            if status.isdecimal()
            for header in response.headers
        ]
        seen_headers = [
            entry for entry in headers if entry[2].lower() in self.answers.get((entry[0], int(entry[1])), set())
        ]
        lifecycle = contract.lifecycle
        pairs = len(lifecycle.states) * len(lifecycle.transitions)
        judged = sum(1 for outcomes in self.pairs.values() if any(o.verdict is not Verdict.SKIPPED for o in outcomes))
        lister = contract.one_of_kind("list")
        parameters = parameter_names(contract.document, lister) if lister is not None else set()
        return {
            "operations": Share(len(answered_operations & {op.operation_id for op in operations}), len(operations)),
            "documented statuses": Share(len(seen_statuses), len(statuses)),
            "response headers": Share(len(seen_headers), len(headers)),
            "state x action": Share(judged, pairs),
            "list parameters": Share(len(self.list_parameters & parameters), len(parameters)),
        }

    def line(self, contract: Contract) -> str:
        return "Coverage: " + ", ".join(f"{name} {share}" for name, share in self.shares(contract).items())
