"""From a store URL to an open backend, checked before anything listens: a file that cannot be
used, a Redis that does not answer, may evict keys or is full, a store written for another
contract, a missing extra, each one line; an old JSON state file at a ``sqlite:`` path is
migrated (its campaigns checked against the contract first).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from campaign_mock.contract.operations import Contract
from campaign_mock.server.domain.errors import InsufficientStorage, StoreUnavailable
from campaign_mock.server.stores.base import Backend
from campaign_mock.server.stores.legacy_state import (
    StateFileError,
    contract_title,
    looks_like_state_file,
    read_state_file,
)
from campaign_mock.server.stores.memory import MemoryBackend
from campaign_mock.server.stores.sqlite import SqliteBackend, SqliteError
from campaign_mock.server.stores.urls import REDIS_EXTRA_HINT, StoreUrl

MIGRATED_SUFFIX = ".pre-sqlite.json"


class StoreError(Exception):
    """The store cannot be opened; the message is one line for the user."""


@dataclass
class OpenedStore:
    backend: Backend
    migrating: list[dict[str, Any]] = field(default_factory=list)  # old state-file records to load
    migrated_from: Path | None = None  # where the old state file was moved

    def undo_migration(self) -> Path | None:
        """Put the old state file back (the migration failed; nothing is lost); where it is now."""
        if self.migrated_from is None:
            return None
        target = Path(str(self.migrated_from).removesuffix(MIGRATED_SUFFIX))
        self.backend.close()
        for leftover in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):
            leftover.unlink(missing_ok=True)
        os.replace(self.migrated_from, target)
        return target


def open_store(store: StoreUrl, namespace: str, contract: Contract) -> OpenedStore:
    if store.kind == "memory":
        return OpenedStore(MemoryBackend())
    if store.kind == "sqlite":
        return _open_sqlite(store, contract)
    return _open_redis(store, namespace, contract)


def _open_sqlite(store: StoreUrl, contract: Contract) -> OpenedStore:
    path = Path(store.path)
    if not path.parent.exists():  # a typo in the path must not quietly make folders
        raise StoreError(
            f"--store sqlite:{store.path}: the folder {path.parent} does not exist; create it "
            f"(mkdir -p {path.parent}) or give a path in an existing folder"
        )
    migrating: list[dict[str, Any]] = []
    moved: Path | None = None
    if path.is_file() and looks_like_state_file(path):
        try:
            migrating = read_state_file(path, contract)
        except StateFileError as exc:
            raise StoreError(f"{exc} (it was to be migrated to SQLite; fix it, or move it away)") from exc
        moved = Path(f"{path}{MIGRATED_SUFFIX}")
        if moved.exists():
            raise StoreError(
                f"{path}: an old JSON state file to migrate, but {moved} exists already; move one of them away"
            )
        os.replace(path, moved)
    backend = SqliteBackend(store.path, store.synchronous)
    try:
        backend.open(contract_title(contract))
    except SqliteError as exc:
        if moved is not None:
            os.replace(moved, path)
        raise StoreError(str(exc)) from exc
    return OpenedStore(backend, migrating, moved)


def _open_redis(store: StoreUrl, namespace: str, contract: Contract) -> OpenedStore:
    try:
        from campaign_mock.server.stores.redis_backend import (  # noqa: PLC0415 (an optional extra)
            RedisBackend,
            RedisOptions,
        )
        from campaign_mock.server.stores.redis_link import shown_url  # noqa: PLC0415
        from campaign_mock.server.stores.redis_namespace import RedisRefused  # noqa: PLC0415
    except ImportError:
        raise StoreError(
            f"--store {store.text} needs redis-py, which the 'redis' extra installs: {REDIS_EXTRA_HINT}"
        ) from None
    backend = RedisBackend(RedisOptions(store.text, namespace))
    shown = shown_url(store.text)
    try:
        backend.open(contract_title(contract))
    except RedisRefused as exc:
        backend.close()
        raise StoreError(str(exc)) from exc
    except InsufficientStorage as exc:
        backend.close()
        raise StoreError(
            f"the Redis store {shown} is full (used memory over its maxmemory: it refuses writes); free memory "
            "there or raise its maxmemory, or give another --store"
        ) from exc
    except StoreUnavailable as exc:
        backend.close()
        cause = str(exc.__cause__ or exc).rstrip(".")  # redis-py ends its text with a full stop
        raise StoreError(
            f"cannot reach the Redis store {shown}: {cause}; start Redis there or give another --store"
        ) from exc
    return OpenedStore(backend)
