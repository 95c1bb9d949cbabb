"""``updates``: an update lands, whole and alone.

The kit brings a campaign into a state that takes updates, reads it, sends the update (the
spec's example, or a body made from the schema) and reads it again:
- ``updates.lands``: every member the update sent reads back as sent; under JSON merge patch
  (where the operation takes ``application/merge-patch+json``) a nested object merges into
  the stored one and ``null`` removes a member;
- ``updates.merges``: where merge patch applies, a patch of one member of a nested object
  leaves its other members as they were;
- ``updates.nothing-else``: no member the update did not send changes, except the status
  where the lifecycle moves it and the members the server stamps on writes (``x-stamp:
  write``; where the spec declares no stamps, ``readOnly`` date-times such as ``updated_at``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from campaign_mock.conformance.context import KitContext, Scenario
from campaign_mock.conformance.groups.lifecycle import LifecycleChecks
from campaign_mock.conformance.results import GroupResult
from campaign_mock.conformance.target import Exchange
from campaign_mock.contract.operations import Operation, resolve
from campaign_mock.contract.schemas import campaign_schema_pointer
from campaign_mock.contract.timefmt import parse_timestamp

GROUP = "updates"
MERGE_PATCH = "application/merge-patch+json"


def same(sent: Any, read: Any) -> bool:
    """Equal as JSON, with two timestamps equal when they name the same instant (a server may
    answer in UTC what was sent with an offset)."""
    if isinstance(sent, str) and isinstance(read, str) and sent != read:
        first, second = parse_timestamp(sent), parse_timestamp(read)
        return first is not None and second is not None and first == second
    if isinstance(sent, Mapping) and isinstance(read, Mapping):
        return set(sent) == set(read) and all(same(sent[key], read[key]) for key in sent)
    if isinstance(sent, list) and isinstance(read, list):
        return len(sent) == len(read) and all(same(a, b) for a, b in zip(sent, read, strict=True))
    return bool(sent == read)


def merged(stored: Any, patch: Any) -> Any:
    """RFC 7396: what ``patch`` makes of ``stored``."""
    if not isinstance(patch, Mapping):
        return patch
    result = dict(stored) if isinstance(stored, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merged(result.get(key), value)
    return result


class UpdateChecks:
    def __init__(self, context: KitContext, result: GroupResult, updater: Operation, reader: Operation) -> None:
        self.context = context
        self.view = context.view
        self.result = result
        self.updater = updater
        self.reader = reader
        self.lifecycle = LifecycleChecks(context, result)
        self.merge_patch = MERGE_PATCH in updater.body_schemas
        self.server_set = self._server_set_members()

    def _server_set_members(self) -> frozenset[str]:
        """Members the server may change on any write: where the contract declares ``x-stamp``,
        exactly its ``write`` members (a ``create`` stamp must never move); else readOnly
        date-times (an updated_at); where the schema marks none readOnly, every date-time that
        is no lifecycle time."""
        stamps = self.view.stamps()
        if stamps:
            return frozenset(name for name, kind in stamps.items() if kind == "write")
        pointer = campaign_schema_pointer(self.view.contract)
        if pointer is None:
            return frozenset()
        schema, _ = resolve(self.view.contract.document, {"$ref": f"#{pointer}"}, "")
        read_only, times = set(), set()
        for name, member in (schema.get("properties") or {}).items() if isinstance(schema, Mapping) else ():
            resolved, _ = resolve(self.view.contract.document, member, "")
            if not isinstance(resolved, Mapping) or resolved.get("format") != "date-time":
                continue
            times.add(str(name))
            if member.get("readOnly") or resolved.get("readOnly"):
                read_only.add(str(name))
        return frozenset(read_only or times - self.view.time_fields())

    def read(self, scenario: Scenario, campaign_id: str) -> tuple[dict[str, Any] | None, Exchange]:
        exchange = scenario.send(self.reader, path_values=self.lifecycle.path_values(self.reader, campaign_id))
        campaign = self.view.campaign_in(self.reader, exchange.json())
        return (campaign if isinstance(campaign, dict) else None), exchange

    def send(self, scenario: Scenario, campaign_id: str, media_type: str, patch: Any) -> Exchange:
        return scenario.send(
            self.updater,
            path_values=self.lifecycle.path_values(self.updater, campaign_id),
            json_body=patch,
            content_type=media_type,
        )

    def check_lands(
        self,
        state: str,
        before: dict[str, Any],
        after: dict[str, Any],
        patch: Mapping[str, Any],
        steps: tuple[str, ...],
        rule: str = "updates.lands",
    ) -> None:
        label = f"{self.updater.operation_id} in {state}"
        for name, value in patch.items():
            expected = merged(before.get(name), value) if self.merge_patch else value
            if value is None:
                landed = after.get(name) is None
            elif isinstance(value, Mapping) and not self.merge_patch:
                landed = isinstance(after.get(name), Mapping) and all(
                    same(item, after[name].get(key)) for key, item in value.items()
                )
            else:
                landed = same(expected, after.get(name))
            self.result.check(
                landed,
                rule,
                f"{label}: {name}",
                f"{name} read back as sent: {expected!r}" if value is not None else f"{name} removed (sent null)",
                f"{after.get(name)!r}",
                steps,
            )

    def check_nothing_else(
        self,
        state: str,
        before: dict[str, Any],
        after: dict[str, Any],
        patch: Mapping[str, Any],
        steps: tuple[str, ...],
    ) -> None:
        moves = self.view.lifecycle.after_update(state) != state
        allowed = set(patch) | self.server_set | ({self.view.lifecycle.status_field} if moves else set())
        changed = sorted(
            name
            for name in set(before) | set(after)
            if name not in allowed and not same(before.get(name), after.get(name))
        )
        self.result.check(
            not changed,
            "updates.nothing-else",
            f"{self.updater.operation_id} in {state}",
            f"only {', '.join(sorted(patch))} changed (and server-set {', '.join(sorted(self.server_set)) or '-'})",
            "; ".join(f"{name}: {before.get(name)!r} -> {after.get(name)!r}" for name in changed),
            steps,
        )


def _nested_probes(before: Mapping[str, Any], patch_schema: Any, document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Merge patches, one per scalar member of a nested object the campaign has
    (``settings.daily_limit``, then ``settings.track_opens``), each away from its stored value.
    Sent one after another to one campaign, each later patch must keep what the earlier ones
    set: a server that fills the members a patch leaves out with their defaults is caught
    even where the campaign held the defaults to begin with."""
    schema, _ = resolve(document, patch_schema, "") if isinstance(patch_schema, Mapping) else (None, "")
    properties = (schema or {}).get("properties") or {}
    found: list[dict[str, Any]] = []
    for name, member in properties.items():
        stored = before.get(name)
        if not isinstance(stored, Mapping) or len(stored) < 2:
            continue
        nested, _ = resolve(document, member, "")
        for key, sub in ((nested or {}).get("properties") or {}).items():
            sub_schema, _ = resolve(document, sub, "")
            value = stored.get(key)
            kinds = (sub_schema or {}).get("type")
            if isinstance(value, bool) and "boolean" in str(kinds):
                found.append({name: {key: not value}})
            elif isinstance(value, int) and not isinstance(value, bool) and "integer" in str(kinds):
                maximum = (sub_schema or {}).get("maximum")
                changed = value + 1 if maximum is None or value + 1 <= maximum else value - 1
                found.append({name: {key: changed}})
        if found:
            return found
    return found


def run(context: KitContext) -> GroupResult:
    result = context.start(GROUP)
    view = context.view
    updater, reader = view.one("update"), view.one("get")
    if updater is None:
        result.not_applicable("updates.lands", "-", "the spec has no update operation")
        return result
    if reader is None:
        result.skipped("updates.lands", updater.operation_id, "no read operation to read the update back")
        return result
    body = view.update_body()
    if body is None or not isinstance(body[1], dict) or not body[1]:
        result.skipped("updates.lands", updater.operation_id, "no update body to send (no example, none made)")
        return result
    checks = UpdateChecks(context, result, updater, reader)
    plans = checks.lifecycle.plans()
    state = next((s for s in [view.lifecycle.initial, *plans] if s in plans and view.lifecycle.may_update(s)), None)
    if state is None:
        result.skipped("updates.lands", updater.operation_id, "no state the kit reaches takes updates")
        return result
    media_type, patch = body
    probes: list[tuple[str, dict[str, Any], str]] = [(media_type, patch, "updates.lands")]
    reached = None
    for index, (media, patch_body, rule) in enumerate(probes):
        if index <= 1:  # the documented update on a campaign of its own; the merge patches share one
            reached = checks.lifecycle.reach(plans[state], state)
        if reached is None:
            return result
        scenario, campaign_id = reached
        before, _ = checks.read(scenario, campaign_id)
        sent = checks.send(scenario, campaign_id, media, patch_body)
        if not result.check(
            sent.status == updater.success_status(),
            rule,
            f"{updater.operation_id} in {state}",
            f"{updater.success_status()} for the update",
            sent.brief(),
            scenario.steps(),
        ):
            continue
        after, _ = checks.read(scenario, campaign_id)
        if before is None or after is None:
            continue
        checks.check_lands(state, before, after, patch_body, scenario.steps(), rule)
        checks.check_nothing_else(state, before, after, patch_body, scenario.steps())
        if checks.merge_patch and len(probes) == 1:
            schema = {"$ref": f"#{updater.body_schemas[MERGE_PATCH]}"}
            for nested in _nested_probes(after, schema, view.contract.document):
                probes.append((MERGE_PATCH, nested, "updates.merges"))
    merged_member = f", and {len(probes) - 1} merge patches of {next(iter(probes[1][1]))}" if len(probes) > 1 else ""
    result.summary = f"update in {state}{merged_member}"
    return result
