"""``headers``: the response headers the spec documents keep their meaning.

Read from the spec, never assumed: each rule runs where the operation documents the header.
- ``headers.etag-stable``: where reads document ``ETag``, two reads with no write between
  them carry the same tag;
- ``headers.etag-changes``: a write (an update, an allowed action) changes the tag, and the
  tag the write answers with is the one the next read shows;
- ``headers.if-match-stale``: where writes take an ``If-Match`` header, one naming a tag that
  is no longer current is refused (412, or the status the spec documents for it) and
  changes nothing;
- ``headers.location``: where create documents ``Location``, it points at the created
  campaign (a read of it answers that campaign).
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import urljoin

from campaign_mock.conformance.context import KitContext, Scenario
from campaign_mock.conformance.groups.lifecycle import LifecycleChecks
from campaign_mock.conformance.results import GroupResult
from campaign_mock.conformance.target import Exchange
from campaign_mock.contract.operations import Operation

GROUP = "headers"
RACERS = 4  # conditional writes sent at once with the same tag
NEVER_ISSUED = '"kit-never-issued"'


def documents(operation: Operation | None, header: str) -> bool:
    """Whether the operation's success answer documents ``header``."""
    if operation is None:
        return False
    response = operation.responses.get(str(operation.success_status()))
    return response is not None and header.lower() in {name.lower() for name in response.headers}


def takes_header(operation: Operation | None, header: str) -> bool:
    return operation is not None and any(p.name.lower() == header.lower() for p in operation.parameters_in("header"))


def _tag(exchange: Exchange | None) -> str | None:
    return None if exchange is None else exchange.response_headers.get("ETag")


class HeaderChecks:
    def __init__(self, context: KitContext, result: GroupResult) -> None:
        self.context = context
        self.view = context.view
        self.result = result
        self.lifecycle = LifecycleChecks(context, result)
        self.reader = self.view.one("get")

    def read(self, scenario: Scenario, campaign_id: str) -> Exchange | None:
        return self.lifecycle.read_status(scenario, campaign_id)[1]

    def a_write(self, state: str) -> tuple[str, Operation] | None:
        """A step that writes from ``state`` and is allowed there: the update, else an action."""
        found = self.writes(state)
        return found[0] if found else None

    def writes(self, state: str) -> list[tuple[str, Operation]]:
        """One write of each kind allowed in ``state``: the update, and an action. Every kind
        must change the tag and make the old one stale, not only the update."""
        found: list[tuple[str, Operation]] = []
        updater = self.view.one("update")
        if updater is not None and self.view.update_body() is not None and self.view.lifecycle.may_update(state):
            found.append(("(update)", updater))
        for action in self.view.lifecycle.allowed_actions(state):
            operation = self.view.transition(action)
            if operation is not None:
                found.append((action, operation))
                break
        return found

    def etag(self, scenario: Scenario, campaign_id: str, state: str, write: tuple[str, Operation] | None) -> None:
        first, second = self.read(scenario, campaign_id), self.read(scenario, campaign_id)
        label = f"{self.reader.operation_id if self.reader else '-'} in {state}"
        if not self.result.check(
            _tag(first) is not None and _tag(first) == _tag(second),
            "headers.etag-stable",
            label,
            "the same ETag on two reads with no write between",
            f"{_tag(first)!r} then {_tag(second)!r}",
            scenario.steps(),
        ):
            return
        if write is None:
            self.result.skipped("headers.etag-changes", label, f"no write the kit can make in {state}")
            return
        step, operation = write
        written = self.lifecycle.act(scenario, step, campaign_id)
        if written is None or written.status != operation.success_status():
            self.result.skipped("headers.etag-changes", operation.operation_id, "the write did not succeed")
            return
        after = self.read(scenario, campaign_id)
        self.result.check(
            _tag(after) is not None and _tag(after) != _tag(first),
            "headers.etag-changes",
            f"{operation.operation_id} in {state}",
            f"a new ETag after the write (before: {_tag(first)})",
            f"{_tag(after)!r}",
            scenario.steps(),
        )
        if documents(operation, "ETag"):
            self.result.check(
                _tag(written) == _tag(after),
                "headers.etag-changes",
                f"{operation.operation_id} in {state}",
                f"the write's ETag ({_tag(written)}) is the one the next read shows",
                f"{_tag(after)!r}",
                scenario.steps(),
            )

    def conditional_write(
        self, scenario: Scenario, step: str | None, operation: Operation, campaign_id: str, tag: str
    ) -> tuple[Exchange, int]:
        """``operation`` sent with ``If-Match: tag`` (the update's body, or ``step``'s action body),
        and the status a stale tag must meet: 412, or 428 where only that is documented."""
        chosen: tuple[str | None, Any] = (None, None)
        if step == "(update)":
            chosen = self.view.update_body() or (None, None)
        elif step is not None:
            chosen = self.lifecycle.action_body(step)
        content_type, body = chosen
        sent = scenario.send(
            operation,
            path_values=self.lifecycle.path_values(operation, campaign_id),
            json_body=body,
            content_type=content_type,
            auth_override={"If-Match": tag},
        )
        return sent, 412 if "412" in operation.responses or "428" not in operation.responses else 428

    def if_match(self, scenario: Scenario, campaign_id: str, state: str, write: tuple[str, Operation]) -> None:
        """``write`` makes the tag read before it stale; a second write naming that tag is refused."""
        second_kind = self.a_write(state)
        if second_kind is None or not takes_header(second_kind[1], "If-Match"):
            self.result.not_applicable("headers.if-match-stale", "-", "no write takes If-Match")
            return
        step, operation = write
        made_stale_by = step
        stale = _tag(self.read(scenario, campaign_id))
        if stale is None:
            self.result.skipped("headers.if-match-stale", operation.operation_id, "reads carry no ETag to name")
            return
        first = self.lifecycle.act(scenario, step, campaign_id)  # the tag read above is now stale
        state_now, current = self.lifecycle.read_status(scenario, campaign_id)
        second = self.a_write(str(state_now))
        if first is None or first.status != operation.success_status() or second is None:
            self.result.skipped("headers.if-match-stale", operation.operation_id, "no second write to try")
            return
        step, operation = second
        refused, expected = self.conditional_write(scenario, step, operation, campaign_id, stale)
        label = f"{operation.operation_id} in {state_now} with the If-Match read before {made_stale_by}"
        self.result.check(
            refused.status == expected,
            "headers.if-match-stale",
            label,
            f"{expected} (If-Match {stale} is no longer current)",
            refused.brief(),
            scenario.steps(),
        )
        after = self.read(scenario, campaign_id)
        self.result.check(
            _tag(after) == _tag(current),
            "headers.if-match-stale",
            label,
            f"nothing changed: the ETag still {_tag(current)}",
            f"{_tag(after)!r}",
            scenario.steps(),
        )

    def if_match_forms(self, scenario: Scenario, campaign_id: str, state: str) -> None:
        """``If-Match`` as HTTP defines it (RFC 9110 13.1.1): a list matches when any of its tags
        is current, and two writes racing with the same current tag are one success and one 412
        (the check and the write are one step, or an update is lost)."""
        write = self.a_write(state)
        current = _tag(self.read(scenario, campaign_id))
        if write is None or current is None or not takes_header(write[1], "If-Match"):
            return
        step, operation = write
        stale_only, expected = self.conditional_write(scenario, step, operation, campaign_id, '"kit-a", "kit-b"')
        self.result.check(
            stale_only.status == expected and _tag(self.read(scenario, campaign_id)) == current,
            "headers.if-match-list",
            f'{operation.operation_id} in {state} with If-Match: "kit-a", "kit-b"',
            f"{expected} and nothing changed (no tag in the list is current)",
            stale_only.brief(),
            scenario.steps(),
        )
        listed, _ = self.conditional_write(scenario, step, operation, campaign_id, f'"kit-stale-tag", {current}')
        self.result.check(
            listed.status == operation.success_status(),
            "headers.if-match-list",
            f'{operation.operation_id} in {state} with If-Match: "kit-stale-tag", {current}',
            f"{operation.success_status()} (the list names the current tag)",
            listed.brief(),
            scenario.steps(),
        )
        if step != "(update)" or listed.status != operation.success_status():
            return  # only an update can be sent twice in a row from the same state
        tag = _tag(self.read(scenario, campaign_id))
        if tag is None:
            return
        answers: list[int] = []
        racers = [
            threading.Thread(
                target=lambda: answers.append(
                    self.conditional_write(scenario, step, operation, campaign_id, tag)[0].status
                )
            )
            for _ in range(RACERS)
        ]
        for racer in racers:
            racer.start()
        for racer in racers:
            racer.join(self.context.target.timeout)
        won = sum(1 for status in answers if status == operation.success_status())
        self.result.check(
            won == 1,
            "headers.if-match-race",
            f"{RACERS} x {operation.operation_id} at once with If-Match: {tag}",
            "exactly one success, the others 412 (the tag is stale once one has written)",
            ", ".join(map(str, sorted(answers))),
            scenario.steps()[-RACERS:],
        )

    def if_match_on_every_write(self, plans: dict[str, Any]) -> None:
        """Every write that takes ``If-Match``, each kind on its own (every action, the update,
        the delete), refuses a tag the server never issued and changes nothing: a server that
        checks the precondition on some writes and forgets it on one loses updates there."""
        lifecycle = self.view.lifecycle
        for operation in self.view.contract.operations:
            if not takes_header(operation, "If-Match") or operation.kind not in ("transition", "update", "delete"):
                continue
            action = operation.action or (operation.actions[0] if operation.actions else None)
            action = action if operation.kind == "transition" else None
            state = next(
                (
                    candidate
                    for candidate in plans
                    if (action is not None and action in lifecycle.allowed_actions(candidate))
                    or (operation.kind == "update" and lifecycle.may_update(candidate))
                    or operation.kind == "delete"
                ),
                None,
            )
            if state is None:
                continue
            reached = self.lifecycle.reach(plans[state], state)
            if reached is None:
                continue
            scenario, campaign_id = reached
            before = _tag(self.read(scenario, campaign_id))
            step = "(update)" if operation.kind == "update" else action
            refused, expected = self.conditional_write(scenario, step, operation, campaign_id, NEVER_ISSUED)
            after = self.read(scenario, campaign_id)
            label = f"{operation.operation_id} in {state} with If-Match: {NEVER_ISSUED}"
            self.result.check(
                refused.status == expected and after is not None and after.status < 300 and _tag(after) == before,
                "headers.if-match-stale",
                label,
                f"{expected} and nothing changed (a tag the server never issued)",
                f"{refused.brief()}; then {after.brief() if after else 'no read'}",
                scenario.steps(),
            )

    def location(self) -> None:
        creator = self.view.one("create")
        if not documents(creator, "Location"):
            self.result.not_applicable("headers.location", "-", "create documents no Location header")
            return
        scenario = Scenario(self.context)
        campaign_id = self.lifecycle.create(scenario)
        created = self.lifecycle.created
        if campaign_id is None or created is None or creator is None:
            return
        location = created.response_headers.get("Location")
        if not self.result.check(
            bool(location),
            "headers.location",
            creator.operation_id,
            "a Location header",
            ", ".join(created.response_headers) or "no headers",
            scenario.steps(),
        ):
            return
        target = self.context.target
        url = urljoin(target.base_url + "/", str(location))
        read = scenario.send(self.reader, url=url, method=self.reader.method) if self.reader else None
        shown = self.view.campaign_in(self.reader, read.json()) if self.reader and read else None
        found = isinstance(shown, dict) and str(shown.get(self.view.id_field())) == campaign_id
        self.result.check(
            read is not None and read.status == 200 and found,
            "headers.location",
            creator.operation_id,
            f"Location {location} reads back the created campaign {campaign_id}",
            read.brief() if read else "no read operation",
            scenario.steps(),
        )


def run(context: KitContext) -> GroupResult:
    result = context.start(GROUP)
    checks = HeaderChecks(context, result)
    reader = context.view.one("get")
    checks.location()
    if reader is None or not documents(reader, "ETag"):
        result.not_applicable("headers.etag-stable", "-", "reads document no ETag header")
        return result
    plans = checks.lifecycle.plans()
    state = context.view.lifecycle.initial
    if state not in plans:
        result.skipped("headers.etag-stable", reader.operation_id, "could not bring a campaign to a state")
        return result
    writes = checks.writes(state)
    chosen: list[tuple[str, Operation] | None] = [*writes] or [None]
    for write in chosen:  # with no write, etag-stable is still judged
        reached = checks.lifecycle.reach(plans[state], state)
        if reached is None:
            return result
        checks.etag(*reached, state, write)
    for write in writes:
        reached = checks.lifecycle.reach(plans[state], state)
        if reached is not None:
            checks.if_match(*reached, state, write)
    reached = checks.lifecycle.reach(plans[state], state)
    if reached is not None:
        checks.if_match_forms(*reached, state)
    checks.if_match_on_every_write(plans)
    kinds = " and ".join(step for step, _ in writes) or "no write"
    result.summary = f"ETag, If-Match and Location from {state}, after {kinds}"
    return result
