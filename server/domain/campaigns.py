"""The campaign domain: create, read, update, delete and move campaigns by the lifecycle.

Knows no HTTP and no state names: every rule comes from the contract's ``x-lifecycle``.
Writes go through the store's compare-and-set and are retried when another thread got
there first, so each change is applied whole or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any, TypeVar

from campaign_mock.contract.integers import whole_number
from campaign_mock.contract.lifecycle import Lifecycle, Timer
from campaign_mock.contract.stamps import CANONICAL_STAMPS, Stamps
from campaign_mock.contract.timefmt import format_timestamp, normalize_timestamp, parse_moment
from campaign_mock.server.domain.clock import Clock
from campaign_mock.server.domain.errors import (
    ActionRefused,
    Conflict,
    InsufficientStorage,
    InvalidBody,
    InvalidTransition,
    NotFound,
    PreconditionFailed,
    StateConflict,
)
from campaign_mock.server.domain.ids import IdGenerator
from campaign_mock.server.domain.merge import fill_defaults, merge_patch
from campaign_mock.server.domain.timers import TimerQueue
from campaign_mock.server.stores.base import (
    Campaign,
    CampaignStore,
    Event,
    Record,
    StaleVersion,
    StoreFull,
    TimerStore,
)

T = TypeVar("T")
ID_FIELD = "id"
MAX_TIMER_MOVES = 64
ID_ATTEMPTS = 8  # fresh ids tried when a generated one is taken (by a seeded campaign)
UPDATE_EVENT = "update"
"""The event action recorded when an update moves a campaign (``x-lifecycle.updates.moves``)."""


def _sort_key(value: Any) -> tuple[int, Any]:
    """Numbers before text, each in its own order, so mixed values never fail to compare."""
    return (0, value) if isinstance(value, int | float) and not isinstance(value, bool) else (1, str(value))


def _plus(moment: datetime | None, delay: timedelta) -> datetime | None:
    """``moment`` + ``delay``, the time a delayed timer fires (None stays None; past the
    calendar's end it never fires)."""
    if moment is None:
        return None
    try:
        return moment + delay
    except OverflowError:
        return None


def entity_tag(record: Record) -> str:
    """The strong ETag of a campaign as read: its version, which every write raises."""
    return f'"{record.version}"'


def _check_precondition(if_match: str | None, record: Record) -> None:
    """RFC 9110 If-Match: ``*`` or a list of strong tags, one of which must be current."""
    if if_match is None:
        return
    tags = [tag.strip() for tag in if_match.split(",") if tag.strip()]
    if "*" in tags or entity_tag(record) in tags:
        return
    raise PreconditionFailed(
        f"If-Match {if_match!r} does not name the current version {entity_tag(record)}; read the campaign again.",
        extra={"current_etag": entity_tag(record)},
    )


class CampaignService:
    def __init__(
        self,
        lifecycle: Lifecycle,
        store: CampaignStore,
        clock: Clock,
        ids: IdGenerator,
        defaults: Mapping[str, Any] | None = None,
        fixed: Iterable[str] = (),
        numeric_ids: bool = False,
        max_events: int | None = None,
        timers: TimerStore | None = None,
        stamps: Stamps = CANONICAL_STAMPS,
        addressable: Callable[[Any], str | None] | None = None,
    ) -> None:
        """``fixed``: fields set at creation that no update may change (a tenant's workspace);
        ``numeric_ids``: campaigns show their id as a number (the store keys it as text);
        ``max_events``: the longest history a campaign may have (actions and updates beyond it
        answer 507; clock-driven moves, at most one per timer, are always recorded); ``timers``:
        where pending clock moves wait (the store's, when it is shared); ``stamps``: the members
        stamped with the time, at creation and on every write (the contract's ``x-stamp``);
        ``addressable``: what is wrong with an id the API's requests could not name (no
        campaign is seeded or created with one)."""
        self.lifecycle = lifecycle
        self._store = store
        self._clock = clock
        self._ids = ids
        self._defaults = dict(defaults or {})
        self._timers: TimerStore = timers if timers is not None else TimerQueue()
        self._stamps = stamps
        self._protected = {ID_FIELD, lifecycle.status_field, *stamps.all}
        self._fixed = frozenset(fixed)
        self._id_value: Callable[[str], Any] = int if numeric_ids else str
        self._max_events = max_events
        self._addressable = addressable  # what is wrong with an id requests could not name

    # -- reads ---------------------------------------------------------------------------
    def get(self, campaign_id: str) -> Campaign:
        return self._existing(campaign_id).campaign

    def count(self) -> int:
        """How many campaigns this world holds."""
        return self._store.count()

    def read(self, campaign_id: str) -> Record:
        """The campaign with its version (what an ETag names)."""
        return self._existing(campaign_id)

    def page(
        self,
        statuses: frozenset[str] | None,
        offset: int,
        limit: int,
        match: Callable[[Campaign], bool] | None = None,
        order: tuple[str, bool] | None = None,
    ) -> tuple[list[Campaign], int]:
        """One page in creation order, or by ``order`` (field, descending); ``match`` narrows it."""
        self._fire_due_timers()
        if order is None:
            return self._store.page(self.lifecycle.status_field, statuses, offset, limit, match)
        everything, total = self._store.page(self.lifecycle.status_field, statuses, 0, 1 << 62, match)
        name, descending = order
        present = [campaign for campaign in everything if campaign.get(name) is not None]
        absent = [campaign for campaign in everything if campaign.get(name) is None]
        # ties keep creation order, newest first when descending (a frozen clock stamps alike)
        source = present[::-1] if descending else present
        ordered = sorted(source, key=lambda campaign: _sort_key(campaign[name]), reverse=descending) + absent
        return ordered[offset : offset + limit], total

    def events(self, campaign_id: str, offset: int = 0, limit: int | None = None) -> tuple[list[Event], int]:
        """A page of the campaign's history, oldest first, and the history's length."""
        self._fire_due_timers()
        page = self._store.events(campaign_id, offset, limit)
        if page is None:
            raise self._not_found(campaign_id)
        return page

    # -- writes --------------------------------------------------------------------------
    def create(self, fields: Mapping[str, Any]) -> Campaign:
        return self.create_record(fields).campaign

    def create_record(self, fields: Mapping[str, Any]) -> Record:
        self._fire_due_timers()
        self._reject_disordered_times(fields)
        now = format_timestamp(self._clock.now())
        given = {key: value for key, value in fields.items() if key not in self._protected}
        body = self._normalized(fill_defaults(merge_patch({}, given), self._defaults))
        state = self._creation_state(fields)
        for _ in range(ID_ATTEMPTS):
            campaign_id = self._ids.new_id()
            problem = self._addressable(self._id_value(campaign_id)) if self._addressable else None
            if problem is not None:
                raise InsufficientStorage(
                    f"The next campaign id would be {campaign_id}, but {problem}: this mock has run out of ids "
                    "(seeded ones pushed the count there); reset it (POST /__admin/reset) or seed lower ids."
                )
            campaign = {ID_FIELD: self._id_value(campaign_id), self.lifecycle.status_field: state, **body}
            campaign.update(dict.fromkeys(self._stamps.all, now))
            try:
                record = self._store.insert(campaign_id, campaign)
            except StaleVersion:
                continue  # the id is taken (a seeded campaign named it): draw another
            except StoreFull as full:
                raise InsufficientStorage(
                    f"This mock holds {full.capacity} campaigns, the most it keeps (--max-campaigns); "
                    "delete some or reset it (POST /__admin/reset)."
                ) from full
            self._schedule(record.campaign)
            return record
        raise Conflict(f"No free campaign id after {ID_ATTEMPTS} tries; reset the mock or seed ids apart.")

    def update(self, campaign_id: str, patch: Mapping[str, Any], if_match: str | None = None) -> Record:
        """Apply a merge patch; ``if_match`` (an If-Match header) must name the current version."""
        self._reject_disordered_times(patch)
        changes = {key: value for key, value in patch.items() if key not in self._protected | self._fixed}

        def write(record: Record) -> Record:
            _check_precondition(if_match, record)
            state = record.campaign[self.lifecycle.status_field]
            if not self.lifecycle.may_update(state):
                why = "a terminal state" if self.lifecycle.is_terminal(state) else "updates are refused in it"
                raise self._conflict(StateConflict, f"Cannot update a campaign that is {state} ({why}).", state)
            merged = self._normalized(fill_defaults(merge_patch(record.campaign, changes), self._defaults))
            self._check_against_state(record.campaign, merged, state)
            now = format_timestamp(self._clock.now())
            merged.update(dict.fromkeys(self._stamps.written, now))
            target = self.lifecycle.after_update(state)
            event = None
            if target != state:
                self._room_for_event(record, campaign_id)
                merged[self.lifecycle.status_field] = target
                event = {"action": UPDATE_EVENT, "from": state, "to": target, "reason": None, "at": now}
            return self._store.replace(campaign_id, record.version, merged, event)

        return self._write(campaign_id, write)

    def act(
        self,
        campaign_id: str,
        action: str,
        params: Mapping[str, Any] | None = None,
        if_match: str | None = None,
    ) -> Record:
        """Apply a lifecycle action with the request's ``params`` (``reason``, and whatever a
        guard reads); ``if_match`` (an If-Match header) must name the current version."""
        move = self.lifecycle.transitions[action]
        params = params or {}
        reason = params.get("reason")

        def write(record: Record) -> Record:
            _check_precondition(if_match, record)
            state = record.campaign[self.lifecycle.status_field]
            if state not in move.sources:
                raise self._not_allowed(action, state)
            now = self._clock.now()
            read_time = self._time_reader(record.campaign)
            refusal = self.lifecycle.refusal(action, read_time, now, params)
            asked = self.lifecycle.with_now(params, now)
            if refusal is not None:
                raise self._conflict(ActionRefused, refusal.message, state, refusal.status)
            self._room_for_event(record, campaign_id)
            target, guard = self.lifecycle.landing(action, read_time, now, asked)
            moved = {**record.campaign, **move.reset, self.lifecycle.status_field: target}
            moved.update(dict.fromkeys((*self._stamps.written, *move.stamps), format_timestamp(now)))
            if guard is not None and guard.sets is not None:
                moved[guard.sets] = self._moment_param(str(guard.param), asked[str(guard.param)])
            event = {"action": action, "from": state, "to": target, "reason": reason, "at": format_timestamp(now)}
            return self._store.replace(campaign_id, record.version, moved, event)

        return self._write(campaign_id, write)

    def copy(
        self, campaign_id: str, name: str, if_match: str | None = None, given: Mapping[str, Any] | None = None
    ) -> Record:
        """A new campaign made from an existing one by the lifecycle's copy ``name``
        (``x-lifecycle.copies``): members copied but for the id, status, stamps and ``reset``
        ones, then the members the request ``given`` (a new name); the copy starts in the
        initial state. The source is not changed."""
        rule = self.lifecycle.copies[name]
        source = self._existing(campaign_id)
        _check_precondition(if_match, source)
        state = source.campaign[self.lifecycle.status_field]
        if not rule.allowed_from(state):
            raise self._not_allowed(name, state)
        copied = {key: value for key, value in source.campaign.items() if key not in self._protected}
        given = dict(given or {})
        copied.update(rule.reset_values(source.campaign, given))
        kept = self._protected | self._fixed | (rule.named_in_reset() - source.campaign.keys())
        copied.update({key: value for key, value in given.items() if key not in kept})
        return self.create_record(copied)

    def delete(self, campaign_id: str) -> None:
        record = self._existing(campaign_id)
        state = record.campaign[self.lifecycle.status_field]
        if not self.lifecycle.may_delete(state):
            raise self._conflict(
                StateConflict,
                f"A campaign that is {state} cannot be deleted; it can be in: "
                f"{', '.join(sorted(self.lifecycle.deletable or ()))}.",
                state,
                self.lifecycle.delete_refusal_status(),
            )
        if not self._store.delete(campaign_id):
            raise self._not_found(campaign_id)

    def reset(self) -> None:
        self._store.reset()
        self._timers.clear()

    def restore(self, entries: list[dict[str, Any]]) -> None:
        """Load checked records ({id, version, campaign, events}, as an old state file holds
        them) into an empty world; clock-driven moves that came due meanwhile happen on the
        next request."""
        for entry in entries:
            self._store.insert(str(entry["id"]), entry["campaign"], entry["events"], int(entry["version"]))
            self._ids.observe(str(entry["id"]))
            self._schedule(entry["campaign"])

    def prepare_seed(self, fields: Mapping[str, Any]) -> tuple[Campaign, list[Event]]:
        """A campaign as given (any known state, given id and times), with defaults filled."""
        given = {key: value for key, value in fields.items() if key != "events"}
        state = given.pop(self.lifecycle.status_field, self.lifecycle.initial)
        if state not in self.lifecycle.states:
            raise InvalidBody(
                f"{self.lifecycle.status_field} {state!r} is not a state of this lifecycle "
                f"({', '.join(self.lifecycle.states)})."
            )
        now = format_timestamp(self._clock.now())
        asked_id = given.pop(ID_FIELD, None)
        campaign_id = str(self._ids.new_id() if asked_id is None else asked_id)
        created = {name: given.pop(name, now) for name in self._stamps.created}
        first = next(iter(created.values()), now)
        written = {name: given.pop(name, first) for name in self._stamps.written}
        body = self._normalized(fill_defaults(given, self._defaults))
        if self._id_value is int and whole_number(campaign_id) is None:
            raise InvalidBody(f"{ID_FIELD} {campaign_id!r}: this contract's ids are whole numbers.")
        problem = self._addressable(self._id_value(campaign_id)) if self._addressable else None
        if problem is not None:
            raise InvalidBody(f"{ID_FIELD} {campaign_id!r}: {problem}; seed only ids requests can name.")
        campaign = {
            ID_FIELD: self._id_value(campaign_id),
            self.lifecycle.status_field: state,
            **body,
            **{name: normalize_timestamp(value) for name, value in {**created, **written}.items()},
        }
        return campaign, list(fields.get("events") or [])

    def store_seeds(self, seeds: list[tuple[Campaign, list[Event]]]) -> list[Campaign]:
        """Insert every seed or none: an id in use answers 409 and nothing is kept."""
        taken = [campaign[ID_FIELD] for campaign, _ in seeds if self._store.get(str(campaign[ID_FIELD])) is not None]
        ids = [str(campaign[ID_FIELD]) for campaign, _ in seeds]
        repeated = sorted({campaign_id for campaign_id in ids if ids.count(campaign_id) > 1})
        if taken or repeated:
            raise Conflict(f"Campaign id(s) already in use or given twice: {', '.join(map(str, taken or repeated))}.")
        stored: list[Campaign] = []
        try:
            for campaign, events in seeds:
                stored.append(self._store.insert(str(campaign[ID_FIELD]), campaign, events).campaign)
        except (StaleVersion, StoreFull) as refused:
            for campaign in stored:
                self._store.delete(str(campaign[ID_FIELD]))
            if isinstance(refused, StoreFull):
                raise InsufficientStorage(
                    f"Seeding {len(seeds)} campaign(s) would pass the {refused.capacity} this mock holds "
                    "(--max-campaigns); nothing was seeded."
                ) from refused
            raise Conflict(f"Campaign id in use: {refused}.") from refused
        for campaign in stored:
            self._ids.observe(str(campaign[ID_FIELD]))
            self._schedule(campaign)
        return stored

    # -- helpers -------------------------------------------------------------------------
    def _existing(self, campaign_id: str) -> Record:
        self._fire_due_timers()
        record = self._store.get(campaign_id)
        if record is None:
            raise self._not_found(campaign_id)
        return record

    def _write(self, campaign_id: str, attempt: Callable[[Record], Record]) -> Record:
        """Run ``attempt`` on a fresh read until its compare-and-set lands."""
        while True:
            record = self._existing(campaign_id)
            try:
                written = attempt(record)
            except StaleVersion:
                continue
            self._schedule(written.campaign)
            return written

    @staticmethod
    def _moment_param(name: str, value: Any) -> str:
        """A time a request gives for a guard (``scheduled_time``), stored in UTC; 422 if no time."""
        moment = parse_moment(value) if isinstance(value, str) else None
        if moment is None:
            raise InvalidBody(
                f"{name} {value!r} is not a time; send YYYY-MM-DD HH:MM:SS (UTC) or RFC 3339.",
                extra={"errors": [{"in": "body", "name": name, "detail": "not a valid time"}]},
            )
        return format_timestamp(moment)

    def _creation_state(self, fields: Mapping[str, Any]) -> str:
        """The initial state, or one of ``create_into`` when the body asks for it."""
        asked = fields.get(self.lifecycle.status_field)
        if asked is None:
            return self.lifecycle.initial
        if asked not in self.lifecycle.creatable():
            raise InvalidBody(
                f"{self.lifecycle.status_field} {asked!r}: a campaign can be created in "
                f"{', '.join(self.lifecycle.creatable())} only.",
                extra={"errors": [{"in": "body", "name": self.lifecycle.status_field, "detail": "not creatable"}]},
            )
        return str(asked)

    def _room_for_event(self, record: Record, campaign_id: str) -> None:
        if self._max_events is not None and record.event_count >= self._max_events:
            raise InsufficientStorage(
                f"Campaign {campaign_id!r} has {record.event_count} events, the most a history keeps here "
                "(--max-events); delete it or reset the mock (POST /__admin/reset)."
            )

    def _not_found(self, campaign_id: str) -> NotFound:
        return NotFound(f"No campaign with id {campaign_id!r}.")

    def _conflict(self, kind: type[StateConflict], detail: str, state: str, status: int | None = None) -> StateConflict:
        return kind(
            detail,
            current_status=state,
            allowed_actions=self.lifecycle.allowed_actions(state),
            status=status if status is not None else self.lifecycle.conflict_status,
        )

    def _not_allowed(self, action: str, state: str) -> StateConflict:
        """Worded so any action name reads (``paused``, ``sendNow``, ``cancel-send``)."""
        allowed = self.lifecycle.allowed_actions(state)
        return self._conflict(
            InvalidTransition,
            f"Action {action!r} is not allowed on a campaign that is {state}; "
            f"allowed from {state}: {', '.join(allowed) if allowed else 'none'}.",
            state,
        )

    def _normalized(self, campaign: dict[str, Any]) -> dict[str, Any]:
        for name in self.lifecycle.time_fields():
            if name in campaign:
                campaign[name] = normalize_timestamp(campaign[name])
        return campaign

    @staticmethod
    def _time_reader(campaign: Mapping[str, Any]) -> Callable[[str], datetime | None]:
        def read(name: str) -> datetime | None:
            value = campaign.get(name)
            return parse_moment(value) if isinstance(value, str) else None

        return read

    def _disordered_pair(self, values: Mapping[str, Any]) -> tuple[str, str] | None:
        read = self._time_reader(values)
        fields = self.lifecycle.ordered_times
        for earlier, later in pairwise(fields):
            first, second = read(earlier), read(later)
            if first is not None and second is not None and second <= first:
                return earlier, later
        return None

    def _reject_disordered_times(self, values: Mapping[str, Any]) -> None:
        pair = self._disordered_pair(values)
        if pair is not None:
            earlier, later = pair
            raise InvalidBody(
                f"{later} ({values[later]}) must be after {earlier} ({values[earlier]}).",
                extra={
                    "errors": [
                        {"in": "body", "name": later, "pointer": f"/{later}", "detail": f"must be after {earlier}"}
                    ]
                },
            )

    def _check_against_state(self, before: Mapping[str, Any], merged: Mapping[str, Any], state: str) -> None:
        pair = self._disordered_pair(merged)
        if pair is not None:
            earlier, later = pair
            raise self._conflict(
                StateConflict,
                f"After this update {later} ({merged[later]}) would not be after {earlier} ({merged[earlier]}); "
                f"change both together or pick another time.",
                state,
            )
        for timer in self.lifecycle.timers_from(state):
            if before.get(timer.at_field) is not None and merged.get(timer.at_field) is None:
                raise self._conflict(
                    StateConflict,
                    f"A {state} campaign waits on {timer.at_field}; it cannot be cleared in this state.",
                    state,
                )

    # -- timers --------------------------------------------------------------------------
    def _next_timer(self, campaign: Mapping[str, Any]) -> tuple[Timer, datetime] | None:
        read = self._time_reader(campaign)
        upcoming = [
            (moment, timer)
            for timer in self.lifecycle.timers_from(campaign[self.lifecycle.status_field])
            if (moment := _plus(read(timer.at_field), timer.delay)) is not None
        ]
        if not upcoming:
            return None
        moment, timer = min(upcoming, key=lambda pair: pair[0])
        return timer, moment

    def _schedule(self, campaign: Mapping[str, Any]) -> None:
        upcoming = self._next_timer(campaign)
        if upcoming is not None:
            self._timers.schedule(str(campaign[ID_FIELD]), upcoming[1])

    def _fire_due_timers(self) -> None:
        now = self._clock.now()
        for campaign_id in self._timers.pop_due(now):
            self._settle(campaign_id, now)

    def _settle(self, campaign_id: str, now: datetime) -> None:
        """Apply every clock move now due on one campaign, earliest first.

        Bounded, so timers that lead in a circle (a contract mistake) cannot hang a request.
        """
        for _ in range(MAX_TIMER_MOVES):
            record = self._store.get(campaign_id)
            if record is None:
                return
            upcoming = self._next_timer(record.campaign)
            if upcoming is None:
                return
            timer, moment = upcoming
            if moment > now:
                self._timers.schedule(campaign_id, moment)
                return
            state = record.campaign[self.lifecycle.status_field]
            at = format_timestamp(moment)
            moved = {**record.campaign, self.lifecycle.status_field: timer.target}
            moved.update(dict.fromkeys(self._stamps.written, at))
            event = {"action": timer.name, "from": state, "to": timer.target, "reason": None, "at": at}
            try:
                self._store.replace(campaign_id, record.version, moved, event)
            except StaleVersion:
                continue
