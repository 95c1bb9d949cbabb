"""The ``sqlite:PATH`` backend: every world's campaigns in one SQLite file (stdlib ``sqlite3``,
write-ahead log), each acknowledged write committed before its answer.

What the file keeps: campaigns, their versions, events and the status index, id counters,
pending timers and the list of sandboxes; a restart, even after ``kill -9``, finds all of it.
What it does not: the clock, the fault plan, the journal and the rate-limit counters, which
are the settings and traffic of one run and start from the configuration each time (they
live in the process, as with ``memory:``). One process serves a file: ``--workers`` stays 1.

Every thread reads through its own connection (readers never wait for writers under WAL);
writes are serialised by one lock and each is one transaction, so a compare-and-set, the
version, the event and the index move together or not at all. ``synchronous=full`` (the
default) makes a commit survive a power cut; ``?synchronous=normal`` survives a crash of the
mock (kill -9) but not of the machine, for about a tenth of the cost per write.

Past ~300 lines because each store protocol (campaigns, timers, ids, sandboxes) has its SQL
here beside the one connection and lock they share; what a failing disk answers lives apart
(``stores.sqlite_faults``).
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from campaign_mock.contract.integers import whole_number
from campaign_mock.contract.jsontext import json_ascii, parse_json
from campaign_mock.server.domain.errors import ApiError
from campaign_mock.server.domain.ids import IdGenerator, SequentialIds
from campaign_mock.server.stores.base import (
    AddOutcome,
    Campaign,
    Event,
    Record,
    SandboxIndex,
    StaleVersion,
    StoreFull,
    WorldSpec,
    WorldStores,
)
from campaign_mock.server.stores.memory import local_gate, local_limiter
from campaign_mock.server.stores.read_cache import ReadCache
from campaign_mock.server.stores.sqlite_faults import Outage
from campaign_mock.server.traffic.journal import RequestJournal

SCHEMA_VERSION = 1
SQLITE_MAGIC = b"SQLite format 3\x00"
SYNCHRONOUS = ("full", "normal")
BUSY_TIMEOUT_MS = 5000
OWNER_WAIT_SECONDS = 5.0  # a killed server's worker may take a moment to let go of the file

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sandboxes (name TEXT PRIMARY KEY, last_used REAL NOT NULL);
CREATE TABLE IF NOT EXISTS campaigns (
    sandbox TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL, status TEXT NOT NULL,
    version INTEGER NOT NULL, event_count INTEGER NOT NULL, document TEXT NOT NULL,
    PRIMARY KEY (sandbox, id)
);
CREATE INDEX IF NOT EXISTS campaigns_by_order ON campaigns (sandbox, seq);
CREATE INDEX IF NOT EXISTS campaigns_by_status ON campaigns (sandbox, status, seq);
CREATE TABLE IF NOT EXISTS events (
    sandbox TEXT NOT NULL, campaign TEXT NOT NULL, number INTEGER NOT NULL, document TEXT NOT NULL,
    PRIMARY KEY (sandbox, campaign, number)
);
CREATE TABLE IF NOT EXISTS timers (
    sandbox TEXT NOT NULL, campaign TEXT NOT NULL, due REAL NOT NULL, PRIMARY KEY (sandbox, campaign)
);
CREATE INDEX IF NOT EXISTS timers_by_due ON timers (sandbox, due);
CREATE TABLE IF NOT EXISTS counters (
    sandbox TEXT NOT NULL, name TEXT NOT NULL, value INTEGER NOT NULL, PRIMARY KEY (sandbox, name)
);
"""
WORLD_TABLES = ("campaigns", "events", "timers", "counters")


class SqliteError(Exception):
    """The file cannot be used as asked; the message names it and what to do."""


def is_sqlite_file(path: Path) -> bool:
    try:
        with path.open("rb") as stream:
            return stream.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return False


class Database:
    """One SQLite file: a connection per thread, one writer at a time, errors as 503s and 507s
    (``sqlite_faults``), and how many writes the current request has committed (so a failed
    one's answer can say truly what stayed)."""

    def __init__(self, path: Path, synchronous: str = "full") -> None:
        self.path = path
        self._synchronous = synchronous
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._pid = os.getpid()
        # The earliest pending timer per sandbox, once read: every request asks whether one is
        # due, and one process owns the file (see SqliteBackend.open), so the answer can be kept.
        self._earliest_due: dict[str, float | None] = {}
        self._outage = Outage(path)

    def connection(self) -> sqlite3.Connection:
        if self._pid != os.getpid():  # forked (granian's worker): a connection must not cross a fork
            self._local, self._pid = threading.local(), os.getpid()
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
            try:
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute(f"PRAGMA synchronous={self._synchronous.upper()}")
                connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            except sqlite3.Error:
                connection.close()
                raise
            self._local.connection = connection
        return connection

    def request_starts(self, _host_time: float) -> None:
        """A request starts on this thread (``WorldStores.begin``): none of its writes is committed yet."""
        self._local.committed = 0

    def committed(self) -> int:
        """How many writes this thread committed since its request started."""
        return int(getattr(self._local, "committed", 0))

    def earliest_due(self, sandbox: str) -> float | None:
        """When the first pending timer of ``sandbox`` is due (None: none pending)."""
        kept = self._earliest_due
        if sandbox in kept:
            return kept[sandbox]
        with self._write_lock:  # no write can land between this read and keeping its answer
            if sandbox not in kept:
                rows = self.read("SELECT MIN(due) FROM timers WHERE sandbox = ?", (sandbox,))
                kept[sandbox] = rows[0][0] if rows else None
            return kept[sandbox]

    def timers_changed(self, sandbox: str) -> None:
        """Drop the kept answer of ``earliest_due``; call it inside the write that changes timers."""
        self._earliest_due.pop(sandbox, None)

    def read(self, sql: str, parameters: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return self.connection().execute(sql, tuple(parameters)).fetchall()
        except sqlite3.Error as exc:
            raise self.failed(exc) from exc

    def failed(self, exc: sqlite3.Error, committing: bool = False) -> ApiError:
        """The 503 or 507 that answers ``exc`` (logged once per outage)."""
        return self._outage.answer(exc, self.committed(), committing)

    @contextmanager
    def writing(self, counted: bool = True) -> Iterator[sqlite3.Connection]:
        """One transaction, committed when the block ends, undone whole if anything in it fails.

        ``counted``: whether it is a write of the request's own (a campaign, an event, a timer, a
        sandbox) rather than bookkeeping (an id drawn, a sandbox's last use)."""
        with self._write_lock:
            try:
                connection = self.connection()
                connection.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self.failed(exc) from exc
            try:
                yield connection
            except sqlite3.Error as exc:
                self._roll_back(connection)
                raise self.failed(exc) from exc
            except BaseException:
                self._roll_back(connection)
                raise
            try:
                connection.execute("COMMIT")
            except sqlite3.Error as exc:
                self._roll_back(connection)
                raise self.failed(exc, committing=True) from exc
        self._outage.passed()
        if counted:
            self._local.committed = self.committed() + 1

    def _roll_back(self, connection: sqlite3.Connection) -> None:
        """Undo the open transaction. After a full disk or an I/O error SQLite has undone it
        already (a ROLLBACK would fail: 'no transaction is active'); if the ROLLBACK itself
        fails, the connection is closed, which undoes it and lets go of the write lock."""
        if connection.in_transaction:
            with suppress(sqlite3.Error):
                connection.execute("ROLLBACK")
        if connection.in_transaction:
            connection.close()
            self._local.connection = None

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None


class SqliteCampaignStore:
    def __init__(
        self, database: Database, sandbox: str, status_field: str, capacity: int | None, cache: ReadCache
    ) -> None:
        self._db = database
        self._sandbox = sandbox
        self._status_field = status_field
        self._capacity = capacity
        self._cache = cache

    def _counter(self, connection: sqlite3.Connection, name: str) -> int:
        row = connection.execute(
            "SELECT value FROM counters WHERE sandbox = ? AND name = ?", (self._sandbox, name)
        ).fetchone()
        return int(row[0]) if row else 0

    def _add_to_counter(self, connection: sqlite3.Connection, name: str, amount: int) -> int:
        row = connection.execute(
            "INSERT INTO counters (sandbox, name, value) VALUES (?, ?, ?) "
            "ON CONFLICT (sandbox, name) DO UPDATE SET value = value + excluded.value RETURNING value",
            (self._sandbox, name, amount),
        ).fetchone()
        return int(row[0])

    def insert(self, campaign_id: str, campaign: Campaign, events: Iterable[Event] = (), version: int = 1) -> Record:
        history = list(events)
        status = str(campaign.get(self._status_field))
        document = json_ascii(campaign)
        with self._db.writing() as connection:
            taken = connection.execute(
                "SELECT 1 FROM campaigns WHERE sandbox = ? AND id = ?", (self._sandbox, campaign_id)
            ).fetchone()
            if taken:
                raise StaleVersion(f"campaign {campaign_id!r} exists already")
            if self._capacity is not None and self._counter(connection, "campaigns") >= self._capacity:
                raise StoreFull(self._capacity)
            self._add_to_counter(connection, "campaigns", 1)
            sequence = self._add_to_counter(connection, "sequence", 1)
            connection.execute(
                "INSERT INTO campaigns (sandbox, id, seq, status, version, event_count, document) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (self._sandbox, campaign_id, sequence, status, version, len(history), document),
            )
            connection.executemany(
                "INSERT INTO events (sandbox, campaign, number, document) VALUES (?, ?, ?, ?)",
                [(self._sandbox, campaign_id, number, json_ascii(event)) for number, event in enumerate(history)],
            )
        record = Record(parse_json(document), version, len(history))
        self._cache.written(self._sandbox, campaign_id, record)
        return record

    def get(self, campaign_id: str) -> Record | None:
        cached = self._cache.get(self._sandbox, campaign_id)
        if cached is not None:
            return cached
        generation = self._cache.generation(self._sandbox)
        rows = self._db.read(
            "SELECT document, version, event_count FROM campaigns WHERE sandbox = ? AND id = ?",
            (self._sandbox, campaign_id),
        )
        if not rows:
            return None
        document, version, event_count = rows[0]
        record = Record(parse_json(document), int(version), int(event_count))
        self._cache.offer(self._sandbox, campaign_id, record, generation)
        return record

    def replace(self, campaign_id: str, expected_version: int, campaign: Campaign, event: Event | None) -> Record:
        document = json_ascii(campaign)
        with self._db.writing() as connection:
            row = connection.execute(
                "UPDATE campaigns SET document = ?, status = ?, version = version + 1, "
                "event_count = event_count + ? WHERE sandbox = ? AND id = ? AND version = ? "
                "RETURNING version, event_count",
                (
                    document,
                    str(campaign.get(self._status_field)),
                    0 if event is None else 1,
                    self._sandbox,
                    campaign_id,
                    expected_version,
                ),
            ).fetchone()
            if row is None:
                raise StaleVersion(campaign_id)
            version, event_count = int(row[0]), int(row[1])
            if event is not None:
                connection.execute(
                    "INSERT INTO events (sandbox, campaign, number, document) VALUES (?, ?, ?, ?)",
                    (self._sandbox, campaign_id, event_count - 1, json_ascii(event)),
                )
        record = Record(parse_json(document), version, event_count)
        self._cache.written(self._sandbox, campaign_id, record)
        return record

    def delete(self, campaign_id: str) -> bool:
        with self._db.writing() as connection:
            gone = connection.execute(
                "DELETE FROM campaigns WHERE sandbox = ? AND id = ?", (self._sandbox, campaign_id)
            ).rowcount
            if not gone:
                return False
            connection.execute("DELETE FROM events WHERE sandbox = ? AND campaign = ?", (self._sandbox, campaign_id))
            connection.execute("DELETE FROM timers WHERE sandbox = ? AND campaign = ?", (self._sandbox, campaign_id))
            self._db.timers_changed(self._sandbox)
            self._add_to_counter(connection, "campaigns", -1)
        self._cache.forget(self._sandbox, campaign_id)
        return True

    def count(self) -> int:
        rows = self._db.read("SELECT value FROM counters WHERE sandbox = ? AND name = 'campaigns'", (self._sandbox,))
        return int(rows[0][0]) if rows else 0

    def events(self, campaign_id: str, offset: int = 0, limit: int | None = None) -> tuple[list[Event], int] | None:
        counted = self._db.read(
            "SELECT event_count FROM campaigns WHERE sandbox = ? AND id = ?", (self._sandbox, campaign_id)
        )
        if not counted:
            return None
        rows = self._db.read(
            "SELECT document FROM events WHERE sandbox = ? AND campaign = ? ORDER BY number LIMIT ? OFFSET ?",
            (self._sandbox, campaign_id, -1 if limit is None else limit, offset),
        )
        return [parse_json(document) for (document,) in rows], int(counted[0][0])

    def page(
        self,
        status_field: str,
        statuses: frozenset[str] | None,
        offset: int,
        limit: int,
        match: Callable[[Campaign], bool] | None = None,
    ) -> tuple[list[Campaign], int]:
        indexed = status_field == self._status_field
        where, parameters = "sandbox = ?", [self._sandbox]
        if statuses is not None and indexed:
            where += f" AND status IN ({', '.join('?' for _ in statuses)})"
            parameters += sorted(statuses)
        if match is None and (statuses is None or indexed):
            rows = self._db.read(
                f"SELECT document FROM campaigns WHERE {where} ORDER BY seq LIMIT ? OFFSET ?",  # noqa: S608 (placeholders only)
                [*parameters, limit, offset],
            )
            total = self._db.read(f"SELECT COUNT(*) FROM campaigns WHERE {where}", parameters)[0][0]  # noqa: S608
            return [parse_json(document) for (document,) in rows], int(total)
        everything = (
            parse_json(document)
            for (document,) in self._db.read(
                f"SELECT document FROM campaigns WHERE {where} ORDER BY seq",  # noqa: S608
                parameters,
            )
        )
        kept = [
            campaign
            for campaign in everything
            if (statuses is None or campaign.get(status_field) in statuses) and (match is None or match(campaign))
        ]
        return kept[offset : offset + limit], len(kept)

    def reset(self) -> None:
        with self._db.writing() as connection:
            forget_world(self._db, connection, self._sandbox)
        self._cache.forget(self._sandbox)


def forget_world(database: Database, connection: sqlite3.Connection, sandbox: str) -> None:
    for table in WORLD_TABLES:
        connection.execute(f"DELETE FROM {table} WHERE sandbox = ?", (sandbox,))  # noqa: S608 (a fixed name)
    database.timers_changed(sandbox)


class SqliteTimers:
    """Pending clock moves in the file, so a restart fires what came due while it was down."""

    def __init__(self, database: Database, sandbox: str) -> None:
        self._db = database
        self._sandbox = sandbox

    def schedule(self, campaign_id: str, moment: datetime) -> None:
        with self._db.writing() as connection:
            connection.execute(
                "INSERT INTO timers (sandbox, campaign, due) VALUES (?, ?, ?) "
                "ON CONFLICT (sandbox, campaign) DO UPDATE SET due = MIN(due, excluded.due)",
                (self._sandbox, campaign_id, moment.timestamp()),
            )
            self._db.timers_changed(self._sandbox)

    def pop_due(self, now: datetime) -> list[str]:
        at = now.timestamp()
        earliest = self._db.earliest_due(self._sandbox)
        if earliest is None or earliest > at:  # nothing due: the common case, without touching the file
            return []
        with self._db.writing() as connection:
            rows = connection.execute(
                "DELETE FROM timers WHERE sandbox = ? AND due <= ? RETURNING campaign, due", (self._sandbox, at)
            ).fetchall()
            self._db.timers_changed(self._sandbox)
        return [campaign for campaign, _ in sorted(rows, key=lambda row: row[1])]

    def clear(self) -> None:
        with self._db.writing() as connection:
            connection.execute("DELETE FROM timers WHERE sandbox = ?", (self._sandbox,))
            self._db.timers_changed(self._sandbox)


class SqliteSequentialIds:
    """``cmp_1``, ``cmp_2``, ... from a counter in the file: a restart continues the count."""

    def __init__(self, database: Database, sandbox: str, prefix: str) -> None:
        self._db = database
        self._sandbox = sandbox
        self._prefix = prefix

    def new_id(self) -> str:
        with self._db.writing(counted=False) as connection:
            row = connection.execute(
                "INSERT INTO counters (sandbox, name, value) VALUES (?, 'ids', 1) "
                "ON CONFLICT (sandbox, name) DO UPDATE SET value = value + 1 RETURNING value",
                (self._sandbox,),
            ).fetchone()
        return f"{self._prefix}{row[0]}"

    def observe(self, campaign_id: str) -> None:
        number = whole_number(campaign_id.removeprefix(self._prefix)) if campaign_id.startswith(self._prefix) else None
        if number is None:
            return
        with self._db.writing(counted=False) as connection:
            connection.execute(
                "INSERT INTO counters (sandbox, name, value) VALUES (?, 'ids', ?) "
                "ON CONFLICT (sandbox, name) DO UPDATE SET value = MAX(value, excluded.value)",
                (self._sandbox, number),
            )

    def fresh(self) -> IdGenerator:
        return SequentialIds(self._prefix)


class SqliteSandboxIndex:
    def __init__(self, database: Database) -> None:
        self._db = database

    def add(self, name: str, now: float, limit: int) -> AddOutcome:
        with self._db.writing() as connection:
            if connection.execute("SELECT 1 FROM sandboxes WHERE name = ?", (name,)).fetchone():
                return "exists"
            if int(connection.execute("SELECT COUNT(*) FROM sandboxes").fetchone()[0]) >= limit:
                return "full"
            connection.execute("INSERT INTO sandboxes (name, last_used) VALUES (?, ?)", (name, now))
            return "added"

    def remove(self, name: str) -> bool:
        with self._db.writing() as connection:
            return bool(connection.execute("DELETE FROM sandboxes WHERE name = ?", (name,)).rowcount)

    def contains(self, name: str) -> bool:
        return bool(self._db.read("SELECT 1 FROM sandboxes WHERE name = ?", (name,)))

    def names(self) -> list[str]:
        return [name for (name,) in self._db.read("SELECT name FROM sandboxes ORDER BY name")]

    def count(self) -> int:
        return int(self._db.read("SELECT COUNT(*) FROM sandboxes")[0][0])

    def touch(self, name: str, now: float) -> None:
        with self._db.writing(counted=False) as connection:
            connection.execute("UPDATE sandboxes SET last_used = ? WHERE name = ?", (now, name))

    def last_used(self, name: str) -> float | None:
        rows = self._db.read("SELECT last_used FROM sandboxes WHERE name = ?", (name,))
        return float(rows[0][0]) if rows else None

    def idle_since(self, before: float) -> list[str]:
        return [name for (name,) in self._db.read("SELECT name FROM sandboxes WHERE last_used < ?", (before,))]


class SqliteBackend:
    kind = "sqlite"
    shared = False  # one process per file: the clock and counters live in it

    def __init__(self, path: str, synchronous: str = "full") -> None:
        self.path = Path(path)
        if synchronous not in SYNCHRONOUS:
            raise SqliteError(f"sqlite:{path}: synchronous={synchronous!r}: expected one of {', '.join(SYNCHRONOUS)}")
        self._synchronous = synchronous
        self._db = Database(self.path, synchronous)
        self._index = SqliteSandboxIndex(self._db)
        self._cache = ReadCache()  # reads skip SQLite: one process holds the file (see read_cache)
        self._owner: BinaryIO | None = None

    def describe(self) -> str:
        extra = "" if self._synchronous == "full" else f"?synchronous={self._synchronous}"
        return f"sqlite:{self.path}{extra}"

    def open(self, identity: str) -> None:
        """Create or check the file for the contract named ``identity``; SqliteError (one line) if it
        cannot be used: a folder, unwritable, another kind of file, written for another contract."""
        if self.path.is_dir():
            raise SqliteError(f"{self.path}: is a folder; give the store a file's path")
        if self.path.exists() and self.path.stat().st_size and not is_sqlite_file(self.path):
            raise SqliteError(f"{self.path}: not a SQLite database; give another path")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._own_file()
            connection = self._db.connection()
            connection.executescript(SCHEMA)
            stored = dict(connection.execute("SELECT key, value FROM meta").fetchall())
            # Every page read once (70 ms for 60 MB here): damage is one line now, not 503s later.
            damage = [" ".join(str(row[0]).split()) for row in connection.execute("PRAGMA quick_check(3)")]
        except (OSError, sqlite3.Error) as exc:
            raise SqliteError(f"{self.path}: cannot use it as the store: {exc}") from exc
        if damage != ["ok"]:
            raise SqliteError(
                f"{self.path}: the file is damaged ({'; '.join(damage)}); restore it from a copy, or give another path"
            )
        if not stored:
            try:
                with self._db.writing() as writing:
                    writing.executemany(
                        "INSERT INTO meta (key, value) VALUES (?, ?)",
                        [("schema", str(SCHEMA_VERSION)), ("contract", identity)],
                    )
            except ApiError as exc:
                raise SqliteError(f"{self.path}: cannot use it as the store: {exc.detail}") from exc
            return
        if stored.get("schema") != str(SCHEMA_VERSION):
            raise SqliteError(f"{self.path}: store schema {stored.get('schema')!r}; this build reads {SCHEMA_VERSION}")
        if stored.get("contract") != identity:
            raise SqliteError(
                f"{self.path}: holds the campaigns of {stored.get('contract')!r}, not {identity!r}; "
                "give another path, or serve the spec it belongs to"
            )

    def _own_file(self) -> None:
        """Hold an exclusive lock on the file while serving: one process per file, since the clock,
        faults and counters live in the process (a forked granian worker shares its parent's)."""
        owner = open(self.path, "a+b")  # noqa: SIM115 (held open until close)
        deadline = time.monotonic() + OWNER_WAIT_SECONDS
        while True:
            try:
                fcntl.flock(owner, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._owner = owner
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    owner.close()
                    raise SqliteError(
                        f"{self.path}: another campaign-mock process serves this file; stop it, or give another "
                        "path (one process per SQLite store; to share one state, use --store redis://...)"
                    ) from None
                time.sleep(0.1)

    def world(self, name: str, spec: WorldSpec) -> WorldStores:
        ids = spec.ids
        if isinstance(ids, SequentialIds):
            ids = SqliteSequentialIds(self._db, name, ids.prefix)
        return WorldStores(
            campaigns=SqliteCampaignStore(self._db, name, spec.status_field, spec.max_campaigns, self._cache),
            timers=SqliteTimers(self._db, name),
            ids=ids,
            clock=None,
            faults=None,
            journal=RequestJournal(spec.journal_size, spec.journal_bytes, spec.journal_budget),
            limiter=local_limiter,
            gate=local_gate,
            begin=self._db.request_starts,
        )

    def drop(self, name: str) -> None:
        with self._db.writing() as connection:
            forget_world(self._db, connection, name)
        self._cache.forget(name)

    @property
    def sandboxes(self) -> SandboxIndex:
        return self._index

    def integrity(self) -> str:
        """``ok``, or what SQLite's own check found."""
        return ", ".join(str(row[0]) for row in self._db.read("PRAGMA integrity_check"))

    def close(self) -> None:
        self._db.close()
        if self._owner is not None:
            self._owner.close()  # lets go of the lock
            self._owner = None
