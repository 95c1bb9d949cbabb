"""Where campaigns and their events live, behind a small interface.

Every write is one atomic step per campaign: a transition replaces the campaign and
appends its event together, guarded by the version the caller read (compare-and-set), so a
shared store (Redis) can implement the same contract later. Callers get copies and never
touch the underlying dicts.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

Campaign = dict[str, Any]
Event = dict[str, Any]


@dataclass(frozen=True)
class Record:
    """A campaign as read, with the version a later write must name."""

    campaign: Campaign
    version: int


class StaleVersion(Exception):
    """The campaign changed (or vanished) since the caller read it."""


class CampaignStore(Protocol):
    def insert(self, campaign_id: str, campaign: Campaign, events: Iterable[Event] = ()) -> Record: ...

    def get(self, campaign_id: str) -> Record | None: ...

    def replace(self, campaign_id: str, expected_version: int, campaign: Campaign, event: Event | None) -> Record:
        """Write ``campaign`` (and append ``event``) only if still at ``expected_version``."""
        ...

    def delete(self, campaign_id: str) -> bool: ...

    def events(self, campaign_id: str) -> list[Event] | None: ...

    def page(
        self, status_field: str, statuses: frozenset[str] | None, offset: int, limit: int
    ) -> tuple[list[Campaign], int]:
        """Campaigns in creation order, filtered by status: one page and the total."""
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


class InMemoryCampaignStore:
    """A dict guarded by one lock: every operation is atomic and sees a consistent state."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def insert(self, campaign_id: str, campaign: Campaign, events: Iterable[Event] = ()) -> Record:
        stored = copy.deepcopy(campaign)
        with self._lock:
            if campaign_id in self._entries:
                raise StaleVersion(f"campaign {campaign_id!r} exists already")
            self._entries[campaign_id] = _Entry(stored, 1, copy.deepcopy(list(events)))
        return Record(copy.deepcopy(stored), 1)

    def get(self, campaign_id: str) -> Record | None:
        with self._lock:
            entry = self._entries.get(campaign_id)
            if entry is None:
                return None
            return Record(copy.deepcopy(entry.campaign), entry.version)

    def replace(self, campaign_id: str, expected_version: int, campaign: Campaign, event: Event | None) -> Record:
        stored = copy.deepcopy(campaign)
        with self._lock:
            entry = self._entries.get(campaign_id)
            if entry is None or entry.version != expected_version:
                raise StaleVersion(campaign_id)
            entry.campaign = stored
            entry.version += 1
            if event is not None:
                entry.events.append(dict(event))
            return Record(copy.deepcopy(stored), entry.version)

    def delete(self, campaign_id: str) -> bool:
        with self._lock:
            return self._entries.pop(campaign_id, None) is not None

    def events(self, campaign_id: str) -> list[Event] | None:
        with self._lock:
            entry = self._entries.get(campaign_id)
            return None if entry is None else copy.deepcopy(entry.events)

    def page(
        self, status_field: str, statuses: frozenset[str] | None, offset: int, limit: int
    ) -> tuple[list[Campaign], int]:
        with self._lock:
            matching = [
                entry.campaign
                for entry in self._entries.values()
                if statuses is None or entry.campaign.get(status_field) in statuses
            ]
            return copy.deepcopy(matching[offset : offset + limit]), len(matching)

    def reset(self) -> None:
        with self._lock:
            self._entries.clear()

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {"id": campaign_id, "version": entry.version, "campaign": entry.campaign, "events": entry.events}
                for campaign_id, entry in copy.deepcopy(self._entries).items()
            ]

    def restore(self, entries: Iterable[dict[str, Any]]) -> None:
        restored = {
            str(entry["id"]): _Entry(dict(entry["campaign"]), int(entry["version"]), list(entry["events"]))
            for entry in copy.deepcopy(list(entries))
        }
        with self._lock:
            self._entries = restored
