"""What every store offers, whatever keeps the data: the interface the domain and the traffic
controls are written against, and the errors they share.

A *backend* (``memory:``, ``sqlite:PATH``, ``redis://...``) makes one ``WorldStores`` per
sandbox: every piece of state a world holds, each behind a small protocol. Nothing above this
layer knows which backend it runs on; a backend that keeps its data elsewhere (Redis) makes
each write one atomic step there, so several processes can serve one world.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from campaign_mock.server.domain.clock import ClockState
from campaign_mock.server.domain.ids import IdGenerator
from campaign_mock.server.traffic.concurrency import ConcurrencyLimit, Gate
from campaign_mock.server.traffic.faults import FaultState
from campaign_mock.server.traffic.journal import Journal, JournalBudget
from campaign_mock.server.traffic.ratelimit import Limiter, Window

Campaign = dict[str, Any]
Event = dict[str, Any]


@dataclass(frozen=True)
class Record:
    """A campaign as read, with the version a later write must name and its history's length.
    Read-only: the memory store hands out the stored objects themselves (copy on write)."""

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
    """Campaigns, their versions and histories, and the status index listing reads.

    Every write is one atomic step per campaign: a transition replaces the campaign and appends
    its event together, guarded by the version the caller read (compare-and-set). Callers get
    copies and never touch what the store holds."""

    def insert(self, campaign_id: str, campaign: Campaign, events: Iterable[Event] = (), version: int = 1) -> Record:
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


class TimerStore(Protocol):
    """When campaigns are next due for a clock-driven move.

    Entries may be stale (the campaign moved or its time changed since): whoever pops one
    re-reads the campaign and decides, so scheduling again is always safe. A due entry is
    popped by one caller only, even across processes; the store's compare-and-set then makes
    the move itself happen once."""

    def schedule(self, campaign_id: str, moment: datetime) -> None: ...

    def pop_due(self, now: datetime) -> list[str]:
        """Ids with a moment at or before ``now``, earliest first, each once."""
        ...

    def clear(self) -> None: ...


@dataclass(frozen=True)
class WorldSpec:
    """What a backend needs to know to make a world's stores."""

    status_field: str
    max_campaigns: int | None
    journal_size: int
    journal_bytes: int
    ids: IdGenerator  # the kind of ids the contract asks for; the backend decides where the counter lives
    journal_budget: JournalBudget | None = None  # the bytes all of this process's journals share


@dataclass(frozen=True)
class WorldStores:
    """Every piece of state one sandbox holds."""

    campaigns: CampaignStore
    timers: TimerStore
    ids: IdGenerator
    clock: ClockState | None  # None: the clock's reading stays in this process
    faults: FaultState | None  # None: the fault plan and its sequence stay in this process
    journal: Journal
    limiter: Callable[[str, Sequence[Window]], Limiter]  # (algorithm, windows) -> the world's limiter
    gate: Callable[[str, ConcurrencyLimit], Gate]  # (bucket, limit) -> that bucket's gate
    begin: Callable[[float], None] | None = None  # at a request's start, given the host's time (scope.py)


AddOutcome = Literal["added", "exists", "full"]


class SandboxIndex(Protocol):
    """Which sandboxes exist and when each was last used (wall-clock seconds): in the process,
    or in the store, where every process serving it sees the same list."""

    def add(self, name: str, now: float, limit: int) -> AddOutcome:
        """Register ``name`` unless ``limit`` names are listed already, in one atomic step (so
        processes sharing the index cannot overshoot the limit together)."""
        ...

    def remove(self, name: str) -> bool: ...

    def contains(self, name: str) -> bool: ...

    def names(self) -> list[str]: ...

    def count(self) -> int: ...

    def touch(self, name: str, now: float) -> None: ...

    def last_used(self, name: str) -> float | None: ...

    def idle_since(self, before: float) -> list[str]:
        """Sandboxes not used since ``before``."""
        ...


class Backend(Protocol):
    """A place to keep state: makes each sandbox's stores, and lists the sandboxes."""

    kind: str  # memory, sqlite or redis
    shared: bool  # whether several processes can serve one state through it

    def describe(self) -> str:
        """The store as the startup line and the admin config show it (no password)."""
        ...

    def world(self, name: str, spec: WorldSpec) -> WorldStores: ...

    def drop(self, name: str) -> None:
        """Forget everything the sandbox ``name`` holds."""
        ...

    @property
    def sandboxes(self) -> SandboxIndex: ...

    def close(self) -> None: ...


def clone(value: Any) -> Any:
    """A copy of a JSON value (dicts, lists, scalars): much cheaper than copy.deepcopy."""
    if isinstance(value, dict):  # scalars are shared, not visited: a campaign is mostly scalars
        return {key: clone(item) if isinstance(item, dict | list) else item for key, item in value.items()}
    if isinstance(value, list):
        return [clone(item) if isinstance(item, dict | list) else item for item in value]
    return value
