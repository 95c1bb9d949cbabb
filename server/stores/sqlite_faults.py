"""What a failed SQLite call tells the client, and the one log line per outage.

SQLite names each failure by a result code; the client gets what it can act on:

- ``SQLITE_FULL`` (the disk, or the file system, is full): 507 with Retry-After, since it
  passes once space is freed;
- ``SQLITE_READONLY`` (a file system gone read-only), ``SQLITE_IOERR``, ``SQLITE_BUSY``,
  ``SQLITE_CANTOPEN``: 503 with Retry-After;
- ``SQLITE_CORRUPT``, ``SQLITE_NOTADB`` (overwritten pages): 503 without Retry-After, since
  a damaged file does not mend itself.

What the answer says was kept is what SQLite guarantees: a transaction whose statement or
COMMIT fails is undone whole (SQLite rolls it back itself after a full disk or an I/O error,
the store does otherwise), so nothing of the failed write stays. Earlier writes of the same
request (a campaign committed before its timer) do stay: the answer counts them. One case is
unknown, and said so: an I/O error *during* COMMIT may come after the log frames were written,
so a restart could find that write.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from campaign_mock.server.domain.errors import ApiError, DiskFull, StoreDamaged, StoreUnavailable

log = logging.getLogger("campaign_mock.store")

SQLITE_BUSY, SQLITE_LOCKED, SQLITE_READONLY, SQLITE_IOERR = 5, 6, 8, 10
SQLITE_CORRUPT, SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_NOTADB = 11, 13, 14, 26


@dataclass(frozen=True)
class Cause:
    what: str  # as the answer and the log name it
    remedy: str  # what makes it pass
    answer: type[ApiError]


RESTORE = "restore it from a copy, or serve a new path"
BUSY = Cause("it is locked by another process", "retry in a moment", StoreUnavailable)
CAUSES = {
    SQLITE_FULL: Cause(
        "the disk under it is full", "free space there; writes resume by themselves, no restart needed", DiskFull
    ),
    SQLITE_READONLY: Cause(
        "it cannot be written (a read-only file system or file)",
        "make it writable again (e.g. remount read-write); writes resume by themselves",
        StoreUnavailable,
    ),
    SQLITE_IOERR: Cause("an I/O error", "check the disk; writes resume once it answers", StoreUnavailable),
    SQLITE_CANTOPEN: Cause("its file cannot be opened", "check that it is still there", StoreUnavailable),
    SQLITE_BUSY: BUSY,
    SQLITE_LOCKED: BUSY,
    SQLITE_CORRUPT: Cause("the file is damaged (corrupt pages)", RESTORE, StoreDamaged),
    SQLITE_NOTADB: Cause("the file is no longer a database", RESTORE, StoreDamaged),
}
UNKNOWN = Cause("it failed", "retry later", StoreUnavailable)


# I/O errors that come before a transaction's commit frame is whole in the log (SQLite writes
# the frames in order, the commit frame last, then syncs): the transaction cannot come back.
SQLITE_IOERR_READ, SQLITE_IOERR_SHORT_READ, SQLITE_IOERR_WRITE = 266, 522, 778
BEFORE_THE_COMMIT_FRAME = frozenset({SQLITE_IOERR_READ, SQLITE_IOERR_SHORT_READ, SQLITE_IOERR_WRITE})


def error_code(exc: sqlite3.Error) -> int:
    """SQLite's extended result code (its low byte is the primary code); 0 when none is known."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code if isinstance(code, int) else 0


def cause_of(exc: sqlite3.Error, path: Path) -> Cause:
    """What failed. A file system gone read-only shows as an I/O error on a write (EROFS), so
    the file system is asked which it was."""
    primary = error_code(exc) & 0xFF
    if primary in (SQLITE_IOERR, SQLITE_READONLY) and _read_only(path):
        return CAUSES[SQLITE_READONLY]
    if primary in (SQLITE_CORRUPT, SQLITE_NOTADB) and not _readable(path):
        return CAUSES[SQLITE_IOERR]  # a disk that does not answer reads as a damaged file to SQLite
    return CAUSES.get(primary, UNKNOWN)


def _read_only(path: Path) -> bool:
    try:
        return bool(os.statvfs(path.parent).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _readable(path: Path) -> bool:
    try:
        with path.open("rb") as stream:
            stream.read(1)
    except OSError:
        return False
    return True


def what_was_kept(exc: sqlite3.Error, earlier_writes: int, committing: bool) -> str:
    """The true sentence about this request's writes, given how the call failed."""
    code = error_code(exc)
    unknown = committing and code & 0xFF == SQLITE_IOERR and code not in BEFORE_THE_COMMIT_FRAME
    if unknown:
        failed = "whether this write was kept is not known (the I/O error came while committing it"
        failed += ": a restart may find it)"
    elif earlier_writes == 0:
        return "nothing of this request was kept (SQLite undid the failed transaction whole)"
    else:
        failed = "the write that failed was undone whole"
    if earlier_writes:
        failed += f", but {earlier_writes} earlier write(s) of this request were committed and stay"
    return failed + "; read the campaign before trying again"


class Outage:
    """The log of one store's failures: a line when they start (or their cause changes), and one
    when a write succeeds again, with how many calls failed meanwhile; not a line per request."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._cause: Cause | None = None
        self._failures = 0
        self._since = 0.0

    def answer(self, exc: sqlite3.Error, earlier_writes: int, committing: bool = False) -> ApiError:
        """The 503 or 507 for ``exc``, noted in the log if it starts an outage."""
        cause = cause_of(exc, self._path)
        with self._lock:
            self._failures += 1
            if self._cause is None:
                self._since = time.monotonic()
            if self._cause is not cause:
                self._cause = cause
                shown = (self._path, cause.what, exc, cause.answer.status)
                log.error("the SQLite store %s failed: %s (%s); answering %d until it passes", *shown)
        detail = (
            f"The SQLite store {self._path} failed: {cause.what} ({exc}); "
            f"{what_was_kept(exc, earlier_writes, committing)}. To the operator: {cause.remedy}."
        )
        return cause.answer(detail)

    def passed(self) -> None:
        """A write was committed: an outage, if there was one, is over."""
        if self._cause is None:  # the usual case, without the lock
            return
        with self._lock:
            if self._cause is None:
                return
            log.warning(
                "the SQLite store %s is back after %.1f s; %d call(s) failed meanwhile",
                self._path,
                time.monotonic() - self._since,
                self._failures,
            )
            self._cause, self._failures = None, 0
