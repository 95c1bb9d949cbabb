"""The client report: what the client under test did wrong, read from a world's journal.

A stand-in for a vendor API is there to test the *client*. The mock sees every request and
knows the contract, so it can say which requests broke the contract or the vendor's rules,
each with the journal entries that show it and one line on what a correct client does
instead. Rules read the contract (operation kinds, ``deprecated``, an ``If-Match``
parameter), never a path or a state name.

An error answer is judged by what it means, not by its status: the journal keeps the kind of
error the mock raised (``invalid-transition``, ``state-conflict``, ...), so a forbidden move
answered with the lifecycle's conflict status is one whether that is 409, 400 (Altcraft,
Ocamba) or 403, and never an invalid request or a bad credential.

The report covers the journal as it stands: bounded (``--journal-size``), newest kept, so it
tells of the last requests only, and says how many it read. Timing rules compare both the
mock's clock and the wall clock, and flag a request only when it came too early on both: a
test may freeze the mock's clock, or advance it instead of sleeping.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from campaign_mock.contract.operations import Contract, Operation
from campaign_mock.contract.timefmt import format_timestamp
from campaign_mock.server.traffic.journal import JournalEntry
from campaign_mock.server.traffic.redaction import Redactor, mask

DEFAULT_DUPLICATE_WINDOW_SECONDS = 2.0
DEFAULT_EXAMPLES = 20
IDEMPOTENCY_HEADER = "idempotency-key"
REFUSED_BY_CONTRACT = frozenset({400, 413, 414, 415, 422, 431})
REFUSED_BEFORE_ROUTING = frozenset({414, 431})  # over the query or header limits: no operation known yet
NON_IDEMPOTENT_KINDS = frozenset({"create", "transition", "copy"})
FORBIDDEN_MOVE = "invalid-transition"  # an action (or copy) the campaign's state does not allow
STATE_REFUSAL = "state-conflict"  # an update or delete the campaign's state refuses
LIFECYCLE_KINDS = frozenset({FORBIDDEN_MOVE, STATE_REFUSAL})
CONTENT_REFUSAL = "action-refused"  # a refusing guard: what the request carries, at any status
MOVE_KINDS = frozenset({"transition", "copy"})
WRITE_KINDS = frozenset({"update", "transition", "delete"})


@dataclass(frozen=True)
class Rule:
    """One thing a correct client does not do; ``advice`` says what it does instead."""

    id: str
    title: str
    advice: str
    optional: bool = False  # off unless asked for (``rules=ID``)


RULES: tuple[Rule, ...] = (
    Rule(
        "invalid-request",
        "Requests the contract refuses (invalid body, parameters or content type)",
        "Build each request from the operation's schemas: every required member and parameter, in its "
        "declared type and format, with a Content-Type the operation accepts.",
    ),
    Rule(
        "unknown-route",
        "Requests to a path or method the contract does not have",
        "Call only the paths and methods the spec documents: check the base URL (and sandbox prefix) and the spelling.",
    ),
    Rule(
        "bad-credentials",
        "Requests with missing or wrong credentials (401, 403)",
        "Send the credential the spec's security scheme names, with a key the server knows and the scopes it needs.",
    ),
    Rule(
        "forbidden-transition",
        "Actions the lifecycle forbids in the campaign's state (its conflict status: 409, or x-lifecycle.conflict)",
        "Read the campaign's status (or handle the conflict answer) and send only the actions its state allows; "
        "x-lifecycle in the spec lists them.",
    ),
    Rule(
        "update-of-terminal",
        "Updates or deletes of campaigns whose state refuses them (the lifecycle's conflict status)",
        "Stop writing to a campaign once its state is final; read its status before an update or a delete.",
    ),
    Rule(
        "ignored-retry-after",
        "Requests sent before a Retry-After the client was given had passed",
        "After a 429 or 503 with Retry-After, wait that many seconds before the next request.",
    ),
    Rule(
        "repeated-429",
        "Retries faster than the limit allows: a 429 after a 429 for the same operation, no success between",
        "Back off on a 429 (Retry-After, else exponentially) instead of retrying at once.",
    ),
    Rule(
        "duplicate-write",
        "A create or an action sent again, alike, soon after it succeeded, nothing else on that campaign between",
        "Do not resend a write that succeeded; when its answer was lost, read the resource first, "
        "or send an Idempotency-Key.",
    ),
    Rule(
        "write-without-if-match",
        "Writes without If-Match where the operation accepts one (a race was possible)",
        "Send If-Match with the ETag you last read, so a concurrent change is refused (412) instead of overwritten.",
        optional=True,
    ),
    Rule(
        "deprecated-operation",
        "Requests to operations the spec marks deprecated",
        "Move to the operation the spec names as the replacement of the deprecated one.",
    ),
)
RULES_BY_ID: Mapping[str, Rule] = {rule.id: rule for rule in RULES}


@dataclass(frozen=True)
class OperationFacts:
    """What the rules need to know of one operation."""

    kind: str
    deprecated: bool
    accepts_if_match: bool
    conflict_status: int = 409  # x-lifecycle.conflict: how entries without an error kind are judged
    path: str = ""  # the path template, to find the campaign in a request's path
    id_from_body: str | None = None  # the body member naming the campaign, where the path does not

    def campaign_of(self, entry: JournalEntry) -> str:
        """Which campaign ``entry`` touched ("" for the collection: creates, lists), so
        ``duplicate-write`` can tell whether anything else was sent on it between two writes."""
        if self.id_from_body:
            named = _body_member(entry.body, self.id_from_body)
            if named is not None:
                return named
        template = self.path.strip("/").split("/")
        where = next((index for index, segment in enumerate(template) if "{" in segment), None)
        concrete = entry.path.strip("/").split("/")
        offset = len(concrete) - len(template)  # a sandbox prefix or base path comes before
        if where is None or offset < 0:
            return ""
        return concrete[offset + where]


def _body_member(body: bytes | None, member: str) -> str | None:
    try:
        parsed = json.loads(body or b"")
    except ValueError:
        return None
    value = parsed.get(member) if isinstance(parsed, dict) else None
    return None if value is None else str(value)


def operation_facts(contract: Contract) -> dict[str, OperationFacts]:
    """What the rules need of each operation of ``contract``, by operationId."""
    conflict = contract.lifecycle.conflict_status

    def facts(operation: Operation) -> OperationFacts:
        raw = (contract.document.get("paths") or {}).get(operation.path, {}).get(operation.method.lower(), {})
        if_match = any(parameter.name.lower() == "if-match" for parameter in operation.parameters_in("header"))
        from_body = operation.extension.get("id_from_body")
        return OperationFacts(
            operation.kind,
            raw.get("deprecated") is True,
            if_match,
            conflict,
            operation.path,
            from_body if isinstance(from_body, str) else None,
        )

    return {operation.operation_id: facts(operation) for operation in contract.operations}


@dataclass(frozen=True)
class ReportOptions:
    enabled: frozenset[str] = frozenset(rule.id for rule in RULES if not rule.optional)
    duplicate_window_seconds: float = DEFAULT_DUPLICATE_WINDOW_SECONDS
    examples: int = DEFAULT_EXAMPLES

    @classmethod
    def asking_for(cls, optional: Iterable[str], **settings: Any) -> ReportOptions:
        """The default rules, and the optional ones named (each must be a rule id)."""
        named = set(optional)
        unknown = sorted(named - set(RULES_BY_ID))
        if unknown:
            raise ValueError(f"unknown rule(s) {', '.join(unknown)}; known: {', '.join(RULES_BY_ID)}")
        return cls(enabled=cls().enabled | frozenset(named), **settings)


@dataclass
class Finding:
    """A rule's verdict on one entry, and why (the detail a person reads)."""

    rule: str
    entry: JournalEntry
    why: str
    client: str


@dataclass(frozen=True)
class Client:
    """Who sent a request, as far as its credential tells: a label that shows no secret."""

    key: str
    label: str


LABEL_DIGITS = 12


def client_of(entry: JournalEntry, redactor: Redactor) -> Client:
    """The credential the request carried, masked, with a short digest to tell keys apart."""
    sent = [
        (f"{name.title()}: ", value, redactor.header_value(name, value))
        for name, value in entry.headers.items()
        if name.lower() in redactor.headers
    ]
    sent += [(f"?{name}=", value, mask(value)) for name, value in parse_qsl(entry.query) if name in redactor.query]
    if not sent:
        return Client("anonymous", "anonymous")
    where, value, shown = sent[0]
    # Clients are told apart by a 128-bit digest (a 3-byte one collided in about 3,000 tries and
    # merged two clients); the label shows its first 12 hex digits.
    digest = hashlib.blake2s(value.encode("utf-8", errors="replace"), digest_size=16).hexdigest()
    return Client(digest, f"{where}{shown} [{digest[:LABEL_DIGITS]}]")


def _carried(entry: JournalEntry, header: str) -> bool:
    """Whether the request sent ``header`` (any case; ``header`` in lower case)."""
    return any(name.lower() == header for name in entry.headers)


def _earlier_than(entry: JournalEntry, since: JournalEntry, seconds: float) -> bool:
    """Whether ``entry`` came less than ``seconds`` after ``since`` on both clocks (an entry
    without wall time, from an older mock, is judged by the mock's clock alone)."""
    mock_early = (entry.at - since.at).total_seconds() < seconds
    wall_early = not (entry.wall and since.wall) or entry.wall - since.wall < seconds
    return mock_early and wall_early


def _retry_after_seconds(entry: JournalEntry) -> float | None:
    if entry.retry_after is None or entry.status not in (429, 503):
        return None
    try:
        return max(0.0, float(entry.retry_after))
    except ValueError:
        return None  # an HTTP date: the mock never sends one


Check = Callable[[list[tuple[JournalEntry, Client]]], list[Finding]]
Verdict = Callable[[JournalEntry, OperationFacts | None], str | None]  # why an entry breaks a rule, or None


def _per_entry(rule: str, verdict: Verdict, facts: Mapping[str, OperationFacts]) -> Check:
    def check(entries: list[tuple[JournalEntry, Client]]) -> list[Finding]:
        found = []
        for entry, client in entries:
            why = verdict(entry, facts.get(entry.operation_id or ""))
            if why:
                found.append(Finding(rule, entry, why, client.label))
        return found

    return check


def _answered(entry: JournalEntry) -> bool:
    """An answer of the mock's own: not a dropped connection nor an injected error."""
    return entry.status is not None and entry.fault != "error"


def lifecycle_kind(entry: JournalEntry, facts: OperationFacts | None) -> str | None:
    """The lifecycle error an answer was (``invalid-transition``, ``state-conflict``), or None.
    The kind the journal kept decides; an entry without one (a journal an older mock wrote)
    is judged by the contract's conflict status on the operation's kind."""
    if not _answered(entry):
        return None
    if entry.error_code is not None:
        return entry.error_code if entry.error_code in LIFECYCLE_KINDS else None
    if facts is None or entry.status != facts.conflict_status:
        return None
    if facts.kind in MOVE_KINDS:
        return FORBIDDEN_MOVE
    return STATE_REFUSAL if facts.kind in ("update", "delete") else None


def _refused_by_contract(entry: JournalEntry, facts: OperationFacts | None) -> str | None:
    if not _answered(entry) or lifecycle_kind(entry, facts) is not None:
        return None
    if entry.error_code != CONTENT_REFUSAL and entry.status not in REFUSED_BY_CONTRACT:
        return None
    if facts is None and entry.status not in REFUSED_BEFORE_ROUTING:
        return None  # no operation: unknown-route's, not this rule's
    return f"answered {entry.status} ({entry.error_code or 'refused'})"


def _unknown_route(entry: JournalEntry, facts: OperationFacts | None) -> str | None:
    if entry.operation_id is None and entry.status in (404, 405):
        return f"no operation is {entry.method} {entry.path}"
    return None


def _bad_credentials(entry: JournalEntry, facts: OperationFacts | None) -> str | None:
    if lifecycle_kind(entry, facts) is not None or entry.error_code == CONTENT_REFUSAL:
        return None  # a conflict status of 403 is the lifecycle's word, not the credential's
    if _answered(entry) and entry.status in (401, 403):
        return f"answered {entry.status} ({entry.error_code or 'refused'})"
    return None


def _lifecycle_error(error: str, kinds: frozenset[str] | None = None) -> Verdict:
    """Entries answered with the lifecycle error ``error`` (on operations of ``kinds``, if given)."""

    def verdict(entry: JournalEntry, facts: OperationFacts | None) -> str | None:
        if lifecycle_kind(entry, facts) != error:
            return None
        if kinds is not None and (facts is None or facts.kind not in kinds):
            return None
        return f"answered {entry.status} ({entry.error_code or error})"

    return verdict


def _deprecated(entry: JournalEntry, facts: OperationFacts | None) -> str | None:
    if facts is not None and facts.deprecated:
        return f"{entry.operation_id} is deprecated"
    return None


def _without_if_match(entry: JournalEntry, facts: OperationFacts | None) -> str | None:
    if facts is None or facts.kind not in WRITE_KINDS or not facts.accepts_if_match:
        return None
    if _carried(entry, "if-match"):
        return None
    return f"{entry.operation_id} sent without If-Match"


def _ignored_retry_after(entries: list[tuple[JournalEntry, Client]]) -> list[Finding]:
    """A request sent while a Retry-After given to the same client was still running."""
    found: list[Finding] = []
    told: dict[str, tuple[JournalEntry, float]] = {}  # client -> the last answer with Retry-After
    for entry, client in entries:
        given = told.get(client.key)
        if given is not None and _earlier_than(entry, given[0], given[1]):
            waited = entry.at.timestamp() - given[0].at.timestamp()
            found.append(
                Finding(
                    "ignored-retry-after",
                    entry,
                    f"sent {waited:.2f} s (mock clock) after entry {given[0].id} "
                    f"said Retry-After: {given[0].retry_after}",
                    client.label,
                )
            )
        seconds = _retry_after_seconds(entry)
        if seconds is not None:
            told[client.key] = (entry, seconds)
    return found


def _repeated_429(entries: list[tuple[JournalEntry, Client]]) -> list[Finding]:
    found: list[Finding] = []
    refused: dict[tuple[str, str | None], JournalEntry] = {}  # (client, operation) -> the 429 that began the run
    for entry, client in entries:
        key = (client.key, entry.operation_id)
        if entry.status == 429:
            first = refused.get(key)
            if first is not None:
                found.append(
                    Finding(
                        "repeated-429", entry, f"another 429 after entry {first.id}, no success between", client.label
                    )
                )
            else:
                refused[key] = entry
        elif entry.status is not None and entry.status < 400:
            refused.pop(key, None)
    return found


Signature = tuple[str, str, str, bytes]  # (client, method, path, body): what makes two requests alike


def _duplicate_writes(facts: Mapping[str, OperationFacts], window: float) -> Check:
    """A create or action sent again, alike, by the same client, within ``window`` seconds of
    its success, with no other request on that campaign (any client's: a read, another move)
    between: a client that moved the campaign elsewhere and back, or read it and then chose
    to send the action again, did so on purpose."""

    def check(entries: list[tuple[JournalEntry, Client]]) -> list[Finding]:
        found: list[Finding] = []
        last: dict[str, tuple[Signature, JournalEntry | None]] = {}  # campaign -> the last request, its success
        for entry, client in entries:
            operation = facts.get(entry.operation_id or "")
            if operation is None or entry.status is None:
                continue
            campaign = operation.campaign_of(entry)
            signature = (client.key, entry.method, entry.path, entry.body or b"")
            before, succeeded = last.get(campaign, (None, None))
            earlier = succeeded if before == signature else None
            write = operation.kind in NON_IDEMPOTENT_KINDS and not _carried(entry, IDEMPOTENCY_HEADER)
            if write and earlier is not None and _earlier_than(entry, earlier, window):
                found.append(
                    Finding(
                        "duplicate-write",
                        entry,
                        f"the same {entry.operation_id} as entry {earlier.id}, which had succeeded "
                        f"({earlier.status}), nothing else sent on the campaign between",
                        client.label,
                    )
                )
            if write and 200 <= entry.status < 300:
                earlier = entry
            last[campaign] = (signature, earlier)
        return found

    return check


PER_ENTRY: Mapping[str, Verdict] = {
    "invalid-request": _refused_by_contract,
    "unknown-route": _unknown_route,
    "bad-credentials": _bad_credentials,
    "forbidden-transition": _lifecycle_error(FORBIDDEN_MOVE),
    "update-of-terminal": _lifecycle_error(STATE_REFUSAL, frozenset({"update", "delete"})),
    "write-without-if-match": _without_if_match,
    "deprecated-operation": _deprecated,
}


def _checks(facts: Mapping[str, OperationFacts], options: ReportOptions) -> dict[str, Check]:
    """One check per rule: those that judge each entry alone, and those that follow a sequence."""
    checks = {rule: _per_entry(rule, verdict, facts) for rule, verdict in PER_ENTRY.items()}
    checks["ignored-retry-after"] = _ignored_retry_after
    checks["repeated-429"] = _repeated_429
    checks["duplicate-write"] = _duplicate_writes(facts, options.duplicate_window_seconds)
    return checks


@dataclass
class ClientReport:
    """Per rule, the entries that broke it; ``clients``: requests and 429s per credential."""

    options: ReportOptions
    entries_read: int
    journal_total: int
    findings: dict[str, list[Finding]] = field(default_factory=dict)
    clients: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return not any(self.findings.values())

    def as_dict(self, redactor: Redactor) -> dict[str, Any]:
        return {
            "clean": self.clean,
            "entries_read": self.entries_read,
            "journal_total": self.journal_total,
            "duplicate_window_seconds": self.options.duplicate_window_seconds,
            "rules": [self._rule(rule, redactor) for rule in RULES],
            "clients": list(self.clients.values()),
        }

    def _rule(self, rule: Rule, redactor: Redactor) -> dict[str, Any]:
        found = self.findings.get(rule.id, [])
        return {
            "id": rule.id,
            "title": rule.title,
            "advice": rule.advice,
            "optional": rule.optional,
            "enabled": rule.id in self.options.enabled,
            "count": len(found),
            "entries": [_shown(finding, redactor) for finding in found[: self.options.examples]],
        }


def _shown(finding: Finding, redactor: Redactor) -> dict[str, Any]:
    entry = finding.entry
    return {
        "id": entry.id,
        "at": format_timestamp(entry.at),
        "method": entry.method,
        "path": entry.path,
        "query": redactor.query_string(entry.query),
        "status": entry.status,
        "operation_id": entry.operation_id,
        "client": finding.client,
        "why": finding.why,
    }


def build_report(
    newest_first: Sequence[JournalEntry],
    journal_total: int,
    facts: Mapping[str, OperationFacts],
    redactor: Redactor,
    options: ReportOptions | None = None,
) -> ClientReport:
    """Run every enabled rule over the journal's entries (given newest first, as journals
    answer); ``facts``: ``operation_facts`` of the served contract, read once at start."""
    options = options or ReportOptions()
    oldest_first = [(entry, client_of(entry, redactor)) for entry in reversed(newest_first)]
    checks = _checks(facts, options)
    report = ClientReport(options, len(oldest_first), journal_total)
    for rule in RULES:
        if rule.id in options.enabled:
            report.findings[rule.id] = checks[rule.id](oldest_first)
    for entry, client in oldest_first:
        seen = report.clients.setdefault(client.key, {"client": client.label, "requests": 0, "refused_429": 0})
        seen["requests"] += 1
        seen["refused_429"] += entry.status == 429
    return report
