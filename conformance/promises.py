"""The contract's promises, one by one, each checked, broken or not checked (and why).

Rule groups say what the kit did; a reader of the contract wants to know what of *it* was
proven. So the promises are enumerated from the contract alone (each operation's documented
statuses and response headers, each state x action move, each state's clock-driven fate,
each list parameter, each place a key may travel, each campaign member and what may change
it), and each is then matched with the outcomes that judged it: broken when one of them
failed, checked when one passed (or, for a status or header, when an answer showed it), not
checked otherwise, with the reason the kit recorded or the one that applies.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from campaign_mock.conformance.coverage import Coverage
from campaign_mock.conformance.results import Outcome, Verdict
from campaign_mock.conformance.view import ContractView
from campaign_mock.contract.listing import parameter_names
from campaign_mock.contract.security import Security

MEMBER_RULES = frozenset(
    {
        "updates.nothing-else",
        "updates.lands",
        "updates.merges",
        "lifecycle.move-changes-only-its-members",
        "lifecycle.stamps",
    }
)


class Standing(StrEnum):
    CHECKED = "checked"
    BROKEN = "broken"
    NOT_CHECKED = "not checked"


@dataclass(frozen=True)
class Promise:
    kind: str  # status, header, move, clock, parameter, credential, member
    subject: str
    says: str
    standing: Standing
    why: str = ""  # broken: the first failure; not checked: the reason


@dataclass(frozen=True)
class _Ledger:
    """The run's outcomes, indexed for matching promises."""

    failed: list[Outcome]
    passed: list[Outcome]
    skipped: list[Outcome]

    @classmethod
    def of(cls, outcomes: Iterable[Outcome]) -> _Ledger:
        kept = list(outcomes)
        return cls(
            [o for o in kept if o.failed],
            [o for o in kept if o.verdict is Verdict.PASSED],
            [o for o in kept if o.verdict is Verdict.SKIPPED and o.applicable],
        )

    def judge(
        self, kind: str, subject: str, says: str, about: Callable[[Outcome], bool], seen: bool = False, unseen: str = ""
    ) -> Promise:
        broken = next((o for o in self.failed if about(o)), None)
        if broken is not None:
            return Promise(kind, subject, says, Standing.BROKEN, f"{broken.rule}: expected {broken.expected}")
        if seen or any(about(o) for o in self.passed):
            return Promise(kind, subject, says, Standing.CHECKED)
        skipped = next((o for o in self.skipped if about(o)), None)
        return Promise(kind, subject, says, Standing.NOT_CHECKED, skipped.note if skipped else unseen)


def _names(outcome: Outcome, operation_id: str) -> bool:
    return outcome.operation == operation_id or outcome.operation.startswith(operation_id + " ")


def _statuses(view: ContractView, coverage: Coverage, ledger: _Ledger) -> Iterable[Promise]:
    for operation in view.contract.operations:
        for status in operation.responses:
            if not status.isdecimal():
                continue
            op = operation.operation_id

            def about(outcome: Outcome, op: str = op, status: str = status) -> bool:
                return _names(outcome, op) and status in outcome.expected

            yield ledger.judge(
                "status",
                f"{op} {status}",
                f"{operation.method} {operation.path} may answer {status}, as documented",
                about,
                seen=(op, int(status)) in coverage.answers,
                unseen="no request the kit sent was answered with it",
            )


def _headers(view: ContractView, coverage: Coverage, ledger: _Ledger) -> Iterable[Promise]:
    for operation in view.contract.operations:
        for status, response in operation.responses.items():
            if not status.isdecimal():
                continue
            for header in response.headers:
                op, lower = operation.operation_id, header.lower()

                def about(outcome: Outcome, op: str = op, lower: str = lower) -> bool:
                    text = f"{outcome.rule} {outcome.expected}".lower()
                    return _names(outcome, op) and lower in text

                yield ledger.judge(
                    "header",
                    f"{op} {status} {header}",
                    f"the {status} answer of {op} carries {header}",
                    about,
                    seen=lower in coverage.answers.get((op, int(status)), set()),
                    unseen=f"no {status} answer was seen",
                )


def _moves(view: ContractView, coverage: Coverage) -> Iterable[Promise]:
    lifecycle = view.lifecycle
    for state in lifecycle.states:
        for action, move in lifecycle.transitions.items():
            says = f"{action} from {state} " + (
                f"lands in {move.target}" if state in move.sources else f"is refused ({lifecycle.conflict_status})"
            )
            outcomes = coverage.pairs.get((state, action), [])
            failed = next((o for o in outcomes if o.failed), None)
            judged = any(o.verdict is not Verdict.SKIPPED for o in outcomes)
            if failed is not None:
                yield Promise("move", f"{state} x {action}", says, Standing.BROKEN, f"{failed.rule}: {failed.expected}")
            elif judged:
                yield Promise("move", f"{state} x {action}", says, Standing.CHECKED)
            else:
                why = next((o.note for o in outcomes if o.note), f"the kit could not bring a campaign to {state}")
                yield Promise("move", f"{state} x {action}", says, Standing.NOT_CHECKED, why)


def _clock(view: ContractView, ledger: _Ledger) -> Iterable[Promise]:
    lifecycle = view.lifecycle
    if not lifecycle.timers:
        return
    for state in lifecycle.states:
        if lifecycle.is_terminal(state):
            continue
        timers = [t.name for t in lifecycle.timers if state in t.sources]
        says = (
            f"from {state} the clock moves a campaign by {', '.join(timers)}"
            if timers
            else (f"from {state} the clock moves nothing")
        )

        def about(outcome: Outcome, state: str = state) -> bool:
            return outcome.operation.startswith((f"clock from {state}", f"from {state}")) and outcome.rule in (
                "lifecycle.timer",
                "lifecycle.event-recorded",
                "lifecycle.stamps",
                "lifecycle.history-chain",
            )

        yield ledger.judge("clock", f"clock from {state}", says, about, unseen="no campaign was watched there")


def _parameters(view: ContractView, coverage: Coverage, ledger: _Ledger) -> Iterable[Promise]:
    lister = view.one("list")
    if lister is None:
        return
    for name in sorted(parameter_names(view.contract.document, lister)):

        def about(outcome: Outcome, name: str = name) -> bool:
            return outcome.rule.startswith("listing.") and f"{name}=" in outcome.operation

        yield ledger.judge(
            "parameter",
            f"{lister.operation_id} {name}",
            f"the list's {name} parameter does what it documents",
            about,
            seen=name in coverage.list_parameters,
            unseen="the kit has no rule that sends it",
        )


def _credentials(view: ContractView, ledger: _Ledger) -> Iterable[Promise]:
    security = Security.of(view.contract.document)
    first = security.first(tuple(view.contract.document.get("security") or ()))
    for placement in security.placements.values():
        where = f"{placement.kind} {placement.name}" if placement.kind in ("header", "query") else placement.kind

        def about(outcome: Outcome, where: str = where, used: bool = placement == first) -> bool:
            if not outcome.rule.startswith("auth."):
                return False
            return used or where in outcome.operation

        yield ledger.judge(
            "credential",
            f"{placement.scheme} ({where})",
            f"a valid key in {where} is accepted, any other refused",
            about,
            unseen="no alternative of an operation the kit calls names it",
        )
    token = view.contract.document.get("x-token-field")
    if token:

        def in_body(outcome: Outcome, token: str = str(token)) -> bool:
            return outcome.rule.startswith("auth.") and f'"{token}"' in outcome.operation

        yield ledger.judge(
            "credential", f"x-token-field {token}", "a valid key in the body member is accepted", in_body
        )


def _members(view: ContractView, ledger: _Ledger) -> Iterable[Promise]:
    stamps = view.stamps()
    status_field = view.lifecycle.status_field
    for name in view.campaign_members():
        if name == status_field:
            changes = "only by the lifecycle's moves"
        elif name in stamps:
            changes = "set once at creation" if stamps[name] == "create" else "moved forward by every write"
        else:
            changes = "only by an update that sends it (or an action whose body or guard sets it)"

        def about(outcome: Outcome, name: str = name) -> bool:
            text = f"{outcome.operation} {outcome.expected} {outcome.received}"
            return outcome.rule in MEMBER_RULES and (f"{name}:" in text or f"{name} " in text or f"{name}," in text)

        def checked(outcome: Outcome) -> bool:
            return outcome.rule in ("updates.nothing-else", "lifecycle.move-changes-only-its-members")

        promise = ledger.judge("member", name, f"{name} is changed {changes}", about)
        if promise.standing is Standing.NOT_CHECKED and any(checked(o) for o in ledger.passed):
            promise = Promise("member", name, promise.says, Standing.CHECKED)
        yield promise


def enumerate_promises(view: ContractView, coverage: Coverage, outcomes: Iterable[Outcome]) -> list[Promise]:
    ledger = _Ledger.of(outcomes)
    return [
        *_statuses(view, coverage, ledger),
        *_headers(view, coverage, ledger),
        *_moves(view, coverage),
        *_clock(view, ledger),
        *_parameters(view, coverage, ledger),
        *_credentials(view, ledger),
        *_members(view, ledger),
    ]


def tally(promises: Iterable[Promise]) -> dict[str, Counter[Standing]]:
    """Per kind, how many promises stand each way."""
    counts: dict[str, Counter[Standing]] = defaultdict(Counter)
    for promise in promises:
        counts[promise.kind][promise.standing] += 1
    return dict(counts)


def summary_line(promises: list[Promise]) -> str:
    standing = Counter(promise.standing for promise in promises)
    kinds = ", ".join(
        f"{kind} {counts[Standing.CHECKED] + counts[Standing.BROKEN]}/{sum(counts.values())}"
        for kind, counts in tally(promises).items()
    )
    return (
        f"Promises: {len(promises)}: {standing[Standing.CHECKED]} checked, {standing[Standing.BROKEN]} broken, "
        f"{standing[Standing.NOT_CHECKED]} not checked ({kinds} judged)"
    )
