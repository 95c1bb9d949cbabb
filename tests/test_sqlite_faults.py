"""A SQLite store whose disk fails under a running server: a full disk, a file system gone
read-only, an I/O error, overwritten pages. Each is made for real (a 2 MiB tmpfs, an ext4 image
on a loop device, bytes written over the file) under the real server, and each must be a 507 or
503 in the configured error format, never a 500: logged once, nothing half-applied, and writes
resume by themselves when the cause is gone.

Mounting needs root; without it these tests skip, saying why.
"""

from __future__ import annotations

import errno
import fcntl
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import requests

from campaign_mock.server.stores.sqlite_faults import what_was_kept
from tests.cli_process import run_cli, serving

KEY = {"Authorization": "Bearer fault-key"}
SERVE = ("--api-key", "fault-key", "--no-request-log")
EXT4_IOC_SHUTDOWN = 0x8004587D  # _IOR('X', 125, __u32): what xfs_io's "shutdown" sends
EXT4_GOING_FLAGS_NOLOGFLUSH = 2  # stop at once, as a disk that stops answering


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=False)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A folder on a 2 MiB tmpfs: a disk that really fills up."""
    folder = tmp_path / "small"
    folder.mkdir()
    mounted = _run("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder))
    if mounted.returncode:
        pytest.skip(f"cannot mount a 2 MiB tmpfs (needs root): {mounted.stderr.strip()}")
    yield folder
    _run("umount", "-l", str(folder))


@pytest.fixture
def ext4_disk(tmp_path: Path) -> Iterator[Path]:
    """A folder on a 16 MiB ext4 image (a loop device) that goes read-only on an error, as a
    real disk's file system does. (A tmpfs cannot be remounted read-only under a server that
    holds its files open for writing: Linux answers EBUSY.)"""
    image, folder = tmp_path / "disk.img", tmp_path / "ext4"
    folder.mkdir()
    with image.open("wb") as stream:
        stream.truncate(16 << 20)
    made = _run("mkfs.ext4", "-q", "-F", str(image))
    mounted = made if made.returncode else _run("mount", "-o", "loop,errors=remount-ro", str(image), str(folder))
    if mounted.returncode:
        pytest.skip(f"cannot make and mount an ext4 image (needs root, mkfs.ext4, a loop device): {mounted.stderr}")
    yield folder
    _run("umount", str(folder))


def _fill(folder: Path) -> Path:
    """Write a file until the file system has no byte left."""
    filler = folder / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for chunk in (1 << 16, 1 << 12, 1 << 9):
            with pytest.raises(OSError, match=os.strerror(errno.ENOSPC)):
                _write_until_refused(descriptor, b"\0" * chunk)
    finally:
        os.close(descriptor)
    return filler


def _write_until_refused(descriptor: int, chunk: bytes) -> None:
    while True:
        os.write(descriptor, chunk)


def _ext4_device(folder: Path) -> str:
    return Path(_run("findmnt", "-no", "SOURCE", str(folder)).stdout.strip()).name


def _create(url: str, name: str = "Kept") -> requests.Response:
    return requests.post(f"{url}/campaigns", json={"name": name}, headers=KEY, timeout=10)


def _act(url: str, campaign_id: str, action: str) -> requests.Response:
    return requests.post(f"{url}/campaigns/{campaign_id}/{action}", headers=KEY, timeout=10)


def _state(url: str, campaign_id: str) -> tuple[str, str, int]:
    """(status, ETag, number of events) of a campaign, as the server answers them."""
    current = requests.get(f"{url}/campaigns/{campaign_id}", headers=KEY, timeout=10)
    events = requests.get(f"{url}/campaigns/{campaign_id}/events", headers=KEY, timeout=10)
    assert (current.status_code, events.status_code) == (200, 200), (current.text, events.text)
    return current.json()["status"], current.headers["ETag"], len(events.json()["data"])


def _stored(database: Path) -> dict[str, Any]:
    """What the file holds, read by SQLite itself after the server stopped."""
    with closing(sqlite3.connect(database)) as connection:
        return {
            "integrity": connection.execute("PRAGMA integrity_check").fetchall(),
            "campaigns": dict(connection.execute("SELECT id, status FROM campaigns").fetchall()),
            "events": connection.execute("SELECT COUNT(*) FROM events").fetchone()[0],
        }


def _logged_once(stderr: str, failure: str) -> None:
    """One line when the outage starts, none per request, no traceback or failed ROLLBACK."""
    assert "Traceback" not in stderr, stderr
    assert "cannot rollback" not in stderr, stderr
    assert stderr.count(failure) == 1, stderr


def test_a_full_disk_answers_507_keeps_nothing_of_the_failed_writes_and_writes_resume_once_space_is_freed(
    small_disk: Path,
) -> None:
    database = small_disk / "mock.db"
    with serving("--store", f"sqlite:{database}", *SERVE) as served:
        campaign = _create(served.url).json()
        filler = _fill(small_disk)
        refused = [_create(served.url, "Lost") for _ in range(3)]
        moved = _act(served.url, campaign["id"], "activate")
        while_full = _state(served.url, campaign["id"])
        filler.unlink()
        after = _act(served.url, campaign["id"], "activate"), _create(served.url, "After")
        resumed = _state(served.url, campaign["id"])
        _, _, stderr = served.interrupt()
    for answer in [*refused, moved]:
        assert answer.status_code == 507, answer.text
        assert answer.headers["Content-Type"] == "application/problem+json"
        assert answer.headers["Retry-After"] == "5"
        assert answer.json()["type"] == "urn:campaign-mock:problem:store-full"
        assert "the disk under it is full" in answer.json()["detail"]
        assert "nothing of this request was kept" in answer.json()["detail"]
    assert while_full == ("draft", '"1"', 0), "the refused activate must not be half-applied or cached"
    assert [answer.status_code for answer in after] == [200, 201]
    assert resumed == ("active", '"2"', 1)
    _logged_once(stderr, "failed: the disk under it is full")
    assert "is back after" in stderr
    assert "4 call(s) failed meanwhile" in stderr
    stored = _stored(database)
    assert stored["integrity"] == [("ok",)]
    assert sorted(stored["campaigns"].values()) == ["active", "draft"], "the refused creates must not be kept"
    assert stored["events"] == 1


def test_a_file_system_gone_read_only_answers_503_with_retry_after_in_the_configured_format(
    ext4_disk: Path,
) -> None:
    database = ext4_disk / "mock.db"
    with serving("--store", f"sqlite:{database}", "--error-format", "envelope", *SERVE) as served:
        campaign = _create(served.url).json()
        Path(f"/sys/fs/ext4/{_ext4_device(ext4_disk)}/trigger_fs_error").write_text("1")
        refused = [_create(served.url, "Lost"), _act(served.url, campaign["id"], "activate")]
        still = _state(served.url, campaign["id"])
        _, _, stderr = served.interrupt()
    for answer in refused:
        assert answer.status_code == 503, answer.text
        assert answer.headers["Content-Type"] == "application/json"
        assert answer.headers["Retry-After"] == "1"
        error = answer.json()["error"]
        assert (error["code"], error["status"]) == ("store-unavailable", 503)
        assert "it cannot be written (a read-only file system or file)" in error["message"]
        assert "nothing of this request was kept" in error["message"]
    assert still == ("draft", '"1"', 0)
    _logged_once(stderr, "failed: it cannot be written")
    # Back read-write (ext4 needs an unmount after an error): the file holds what was acknowledged.
    assert _run("umount", str(ext4_disk)).returncode == 0
    image = ext4_disk.parent / "disk.img"
    assert _run("mount", "-o", "loop", str(image), str(ext4_disk)).returncode == 0
    with serving("--store", f"sqlite:{database}", *SERVE) as served:
        assert _state(served.url, campaign["id"]) == ("draft", '"1"', 0)
        assert _act(served.url, campaign["id"], "activate").status_code == 200
        listed = requests.get(f"{served.url}/campaigns", headers=KEY, timeout=10).json()["data"]
        served.interrupt()
    assert [item["name"] for item in listed] == ["Kept"]


def test_an_io_error_answers_503_and_does_not_claim_the_write_was_not_kept(ext4_disk: Path) -> None:
    """ext4's shutdown (what a disk that stops answering looks like): every write is EIO."""
    database = ext4_disk / "mock.db"
    with serving("--store", f"sqlite:{database}", *SERVE) as served:
        campaign = _create(served.url).json()
        for _ in range(20):  # every request thread opens its connection before the disk stops
            requests.get(f"{served.url}/campaigns", headers=KEY, timeout=10)
        descriptor = os.open(ext4_disk, os.O_RDONLY)
        try:
            fcntl.ioctl(descriptor, EXT4_IOC_SHUTDOWN, EXT4_GOING_FLAGS_NOLOGFLUSH.to_bytes(4, "little"))
        finally:
            os.close(descriptor)
        refused = [_create(served.url, "Unsure"), _act(served.url, campaign["id"], "activate")]
        _, _, stderr = served.interrupt()
    for answer in refused:
        assert answer.status_code == 503, answer.text
        assert answer.headers["Retry-After"] == "1"
        assert answer.json()["type"] == "urn:campaign-mock:problem:store-unavailable"
        assert "failed: an I/O error" in answer.json()["detail"]
    _logged_once(stderr, "failed: an I/O error")


def test_pages_overwritten_under_a_running_server_answer_503_without_retry_after(tmp_path: Path) -> None:
    database = tmp_path / "mock.db"
    with serving("--store", f"sqlite:{database}", *SERVE) as served:
        ids = [_create(served.url, "n" * 150).json()["id"] for _ in range(40)]
        with closing(sqlite3.connect(database)) as outside:
            outside.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every page in the file itself
            page_size = outside.execute("PRAGMA page_size").fetchone()[0]
            pages = database.stat().st_size // page_size
            with database.open("r+b") as stream:
                for number in range(5, pages):  # all but the schema and the first tables
                    stream.seek(number * page_size)
                    stream.write(os.urandom(page_size))
            outside.execute("UPDATE meta SET value = value")  # a commit: the server's page caches go stale
            outside.commit()
        answers = [
            _create(served.url),
            _act(served.url, ids[0], "activate"),
            requests.get(f"{served.url}/campaigns", headers=KEY, timeout=10),
            requests.get(f"{served.url}/campaigns/{ids[-1]}/events", headers=KEY, timeout=10),
        ]
        _, _, stderr = served.interrupt()
    for answer in answers:
        assert answer.status_code == 503, answer.text
        assert "Retry-After" not in answer.headers, "a damaged file does not mend itself"
        assert "the file is damaged (corrupt pages)" in answer.json()["detail"]
    _logged_once(stderr, "failed: the file is damaged")
    restarted = run_cli("serve", "--port", "0", "--store", f"sqlite:{database}")
    assert restarted.returncode == 2
    assert restarted.stderr.count("\n") == 1, restarted.stderr
    assert "the file is damaged (" in restarted.stderr


def _sqlite_error(message: str, code: int) -> sqlite3.Error:
    error = sqlite3.OperationalError(message)
    error.sqlite_errorcode = code
    return error


@pytest.mark.parametrize(
    ("code", "committing", "earlier", "said"),
    [
        (13, True, 0, "nothing of this request was kept"),
        (778, True, 0, "nothing of this request was kept"),  # IOERR_WRITE: the commit frame never got whole
        (1034, True, 0, "whether this write was kept is not known"),  # IOERR_FSYNC: written, maybe not durable
        (1034, False, 0, "nothing of this request was kept"),  # before COMMIT: the transaction was still open
        (13, True, 1, "the write that failed was undone whole, but 1 earlier write(s) of this request were committed"),
    ],
    ids=["full", "write error", "sync error in commit", "sync error before commit", "after a committed write"],
)
def test_an_answer_says_what_was_kept_only_where_sqlite_guarantees_it(
    code: int, committing: bool, earlier: int, said: str
) -> None:
    """The cases a real fault cannot be aimed at (a failed fsync; a timer's write failing after
    its campaign's committed), at the one function that words them."""
    assert said in what_was_kept(_sqlite_error("disk I/O error", code), earlier, committing)
