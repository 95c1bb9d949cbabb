"""Where campaigns and their events live, behind a small interface.

Every write is one atomic step per campaign: a transition replaces the campaign and
appends its event together, guarded by the version the caller read (compare-and-set), so a
shared store (Redis) can implement the same contract later. Callers get copies and never
touch the underlying dicts.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

Campaign = dict[str, Any]
Event = dict[str, Any]


@dataclass(frozen=True)
class Record:
    """A campaign as read, with the version a later write must name and its history's length."""

    campaign: Campaign
    version: int
    event_count: int = 0


class StaleVersion(Exception):
    """The campaign changed (or vanished) since the caller read it."""


class StoreFull(Exception):
    """The store holds as many campaigns as it may (its ``capacity``)."""

    def __init__(self, capacity: int) -> None:
        super().__init__(f"the store holds {capacity} campaigns, its capacity")
        self.capacity = capacity


class CampaignStore(Protocol):
    def insert(self, campaign_id: str, campaign: Campaign, events: Iterable[Event] = ()) -> Record:
        """Store a new campaign; StaleVersion if the id is taken, StoreFull at capacity."""
        ...

    def get(self, campaign_id: str) -> Record | None: ...

    def replace(self, campaign_id: str, expected_version: int, campaign: Campaign, event: Event | None) -> Record:
        """Write ``campaign`` (and append ``event``) only if still at ``expected_version``."""
        ...

    def delete(self, campaign_id: str) -> bool: ...

    def count(self) -> int:
        """How many campaigns are stored."""
        ...

    def events(self, campaign_id: str, offset: int = 0, limit: int | None = None) -> tuple[list[Event], int] | None:
        """A page of the campaign's history, oldest first, and its length; None if no such campaign."""
        ...

    def page(
        self,
        status_field: str,
        statuses: frozenset[str] | None,
        offset: int,
        limit: int,
        match: Callable[[Campaign], bool] | None = None,
    ) -> tuple[list[Campaign], int]:
        """Campaigns in creation order, filtered by status (and ``match``): one page and the total."""
        ...

    def reset(self) -> None: ...

    def snapshot(self) -> list[dict[str, Any]]:
        """Every campaign with its version and events, in creation order (one consistent moment)."""
        ...

    def restore(self, entries: Iterable[dict[str, Any]]) -> None:
        """Replace everything with ``entries`` as ``snapshot`` wrote them."""
        ...


@dataclass
class _Entry:
    campaign: Campaign
    version: int
    events: list[Event]


def clone(value: Any) -> Any:
    """A copy of a JSON value (dicts, lists, scalars): much cheaper than copy.deepcopy."""
    if isinstance(value, dict):
        return {key: clone(item) for key, item in value.items()}
    if isinstance(value, list):
        return [clone(item) for item in value]
    return value


class InMemoryCampaignStore:
    """A dict guarded by one lock: every operation is atomic and sees a consistent state.

    An index of creation sequence numbers per status keeps a filtered page proportional to
    the page, not to the number of campaigns stored.
    """

    def __init__(self, status_field: str = "status", capacity: int | None = None) -> None:
        self._status_field = status_field
        self._capacity = capacity
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}
        self._sequence = itertools.count()
        self._sequence_of: dict[str, int] = {}
        self._id_of: dict[int, str] = {}
        self._by_status: dict[str, list[int]] = {}

    # -- the status index (callers hold the lock) ----------------------------------------
    def _index(self, campaign_id: str, campaign: Campaign) -> None:
        number = next(self._sequence)
        self._sequence_of[campaign_id] = number
        self._id_of[number] = campaign_id
        bisect.insort(self._by_status.setdefault(str(campaign.get(self._status_field)), []), number)

    def _unindex(self, campaign_id: str, campaign: Campaign) -> None:
        number = self._sequence_of.pop(campaign_id)
        del self._id_of[number]
        self._drop(str(campaign.get(self._status_field)), number)

    def _drop(self, status: str, number: int) -> None:
        numbers = self._by_status.get(status, [])
        at = bisect.bisect_left(numbers, number)
        if at < len(numbers) and numbers[at] == number:
            del numbers[at]

    def _clear(self) -> None:
        self._entries = {}
        self._sequence_of, self._id_of, self._by_status = {}, {}, {}

    # -- the store -------------------------------------------------------------------------
    def insert(self, campaign_id: str, campaign: Campaign, events: Iterable[Event] = ()) -> Record:
        stored = clone(campaign)
        with self._lock:
            if campaign_id in self._entries:
                raise StaleVersion(f"campaign {campaign_id!r} exists already")
            if self._capacity is not None and len(self._entries) >= self._capacity:
                raise StoreFull(self._capacity)
            history = clone(list(events))
            self._entries[campaign_id] = _Entry(stored, 1, history)
            self._index(campaign_id, stored)
        return Record(clone(stored), 1, len(history))

    def get(self, campaign_id: str) -> Record | None:
        with self._lock:
            entry = self._entries.get(campaign_id)
            if entry is None:
                return None
            return Record(clone(entry.campaign), entry.version, len(entry.events))

    def replace(self, campaign_id: str, expected_version: int, campaign: Campaign, event: Event | None) -> Record:
        stored = clone(campaign)
        with self._lock:
            entry = self._entries.get(campaign_id)
            if entry is None or entry.version != expected_version:
                raise StaleVersion(campaign_id)
            before, after = entry.campaign.get(self._status_field), stored.get(self._status_field)
            if before != after:
                number = self._sequence_of[campaign_id]
                self._drop(str(before), number)
                bisect.insort(self._by_status.setdefault(str(after), []), number)
            entry.campaign = stored
            entry.version += 1
            if event is not None:
                entry.events.append(dict(event))
            return Record(clone(stored), entry.version, len(entry.events))

    def count(self) -> int:
        with self._lock:
            return len(self._entries)

    def delete(self, campaign_id: str) -> bool:
        with self._lock:
            entry = self._entries.pop(campaign_id, None)
            if entry is None:
                return False
            self._unindex(campaign_id, entry.campaign)
            return True

    def events(self, campaign_id: str, offset: int = 0, limit: int | None = None) -> tuple[list[Event], int] | None:
        with self._lock:
            entry = self._entries.get(campaign_id)
            if entry is None:
                return None
            end = None if limit is None else offset + limit
            return clone(entry.events[offset:end]), len(entry.events)

    def page(
        self,
        status_field: str,
        statuses: frozenset[str] | None,
        offset: int,
        limit: int,
        match: Callable[[Campaign], bool] | None = None,
    ) -> tuple[list[Campaign], int]:
        with self._lock:
            ids: Iterable[str]
            if match is not None:
                matching = [
                    i
                    for i, e in self._entries.items()
                    if (statuses is None or e.campaign.get(status_field) in statuses) and match(e.campaign)
                ]
                ids, total = matching[offset : offset + limit], len(matching)
            elif statuses is None:
                ids = itertools.islice(self._entries, offset, offset + limit)
                total = len(self._entries)
            elif status_field == self._status_field:
                numbers = [self._by_status.get(status, []) for status in sorted(statuses)]
                total = sum(len(each) for each in numbers)
                merged = numbers[0] if len(numbers) == 1 else heapq.merge(*numbers)
                ids = [self._id_of[number] for number in itertools.islice(merged, offset, offset + limit)]
            else:
                matching = [i for i, e in self._entries.items() if e.campaign.get(status_field) in statuses]
                ids, total = matching[offset : offset + limit], len(matching)
            return [clone(self._entries[campaign_id].campaign) for campaign_id in ids], total

    def reset(self) -> None:
        with self._lock:
            self._clear()

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {"id": campaign_id, "version": entry.version, "campaign": entry.campaign, "events": entry.events}
                for campaign_id, entry in clone_entries(self._entries).items()
            ]

    def restore(self, entries: Iterable[dict[str, Any]]) -> None:
        copied = clone(list(entries))
        with self._lock:
            self._clear()
            for entry in copied:
                campaign_id = str(entry["id"])
                self._entries[campaign_id] = _Entry(
                    dict(entry["campaign"]), int(entry["version"]), list(entry["events"])
                )
                self._index(campaign_id, self._entries[campaign_id].campaign)


def clone_entries(entries: dict[str, _Entry]) -> dict[str, _Entry]:
    return {key: _Entry(clone(entry.campaign), entry.version, clone(entry.events)) for key, entry in entries.items()}
