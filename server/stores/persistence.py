"""``--state-file``: the store survives restarts.

Written atomically (a temporary file in the same folder, flushed to disk, then renamed
over the old one), at an interval while serving and once more on shutdown; read on start.
Everything that can go wrong is found at start, as one line: a folder that cannot hold the
file, a file that cannot be read, one written for another spec, a record the contract
forbids (an unknown or missing status, a history the lifecycle could not produce), an id
twice. A file is never overwritten by a server that could not read it.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from campaign_mock.contract.jsontext import json_bytes
from campaign_mock.contract.operations import Contract
from campaign_mock.contract.timefmt import format_timestamp
from campaign_mock.server.domain.campaigns import CampaignService
from campaign_mock.server.domain.clock import Clock
from campaign_mock.server.domain.errors import ApiError
from campaign_mock.server.domain.records import RecordChecks

FORMAT = "campaign-mock-state"
FORMAT_VERSION = 1
log = logging.getLogger("campaign_mock.state")


class StateFileError(Exception):
    """The state file exists but cannot be used; the message names it and the problem."""


def _identity(contract: Contract) -> dict[str, Any]:
    """What says which contract a state file belongs to."""
    return {"title": str(contract.document.get("info", {}).get("title", "")), "states": list(contract.lifecycle.states)}


class StateFile:
    def __init__(self, path: str, service: CampaignService, clock: Clock, contract: Contract) -> None:
        self.path = Path(path)
        self._service = service
        self._clock = clock
        self._contract = contract
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._write_lock = threading.Lock()

    def check_writable(self) -> None:
        """StateFileError unless the file can be written where it is asked for (checked at start,
        so a server never runs for hours to lose every write at its first save)."""
        if self.path.is_dir():
            raise StateFileError(f"{self.path}: is a folder; give --state-file a file's path")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, probe = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
            os.close(handle)
            os.unlink(probe)
        except OSError as exc:
            raise StateFileError(f"{self.path}: cannot write the state file there: {exc.strerror or exc}") from exc

    def load(self) -> int:
        """Restore the store from the file, if there is one; the number of campaigns loaded."""
        if not self.path.exists():
            return 0
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise StateFileError(f"{self.path}: cannot read the state file: {exc}") from exc
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise StateFileError(f'{self.path}: not a campaign-mock state file (no "format": "{FORMAT}")')
        if document.get("version") != FORMAT_VERSION:
            raise StateFileError(
                f"{self.path}: state format version {document.get('version')!r}; this build reads {FORMAT_VERSION}"
            )
        written_for = document.get("contract")
        ours = _identity(self._contract)
        if isinstance(written_for, Mapping) and written_for.get("title") != ours["title"]:
            raise StateFileError(
                f"{self.path}: written by a mock serving {written_for.get('title')!r}, not {ours['title']!r}; "
                "give another --state-file, or serve the spec it belongs to"
            )
        campaigns = document.get("campaigns")
        if not isinstance(campaigns, list) or not all(_is_entry(entry) for entry in campaigns):
            raise StateFileError(f'{self.path}: "campaigns" must be a list of {{id, version, campaign, events}}')
        self._check_records(campaigns)
        self._service.restore(campaigns)
        return len(campaigns)

    def _check_records(self, campaigns: list[dict[str, Any]]) -> None:
        checks = RecordChecks(self._contract)
        seen: set[str] = set()
        for index, entry in enumerate(campaigns):
            campaign_id = entry["id"]
            if campaign_id in seen:
                raise StateFileError(
                    f"{self.path}: campaign id {campaign_id!r} is stored twice (records {index} and before)"
                )
            seen.add(campaign_id)
            if str(entry["campaign"].get("id")) != campaign_id:
                raise StateFileError(f"{self.path}: record {index} ({campaign_id!r}) holds a campaign with another id")
            try:
                checks.check(entry["campaign"], entry["events"], f"/campaigns/{index}")
            except ApiError as problem:
                raise StateFileError(f"{self.path}: campaign {campaign_id!r}: {problem.detail}") from problem

    def save(self) -> int:
        """Write the store now, atomically; the number of campaigns written."""
        campaigns = self._service.snapshot()
        document: dict[str, Any] = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "spec": self._contract.origin,
            "contract": _identity(self._contract),
            "saved_at": format_timestamp(self._clock.now()),
            "campaigns": campaigns,
        }
        encoded = json_bytes(document)  # total: whatever a campaign holds, this writes it
        with self._write_lock:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                handle, temporary = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
            except OSError as exc:
                raise StateFileError(f"{self.path}: cannot write the state file: {exc.strerror or exc}") from exc
            try:
                with os.fdopen(handle, "wb") as stream:
                    stream.write(encoded)
                    stream.flush()
                    os.fsync(stream.fileno())
                os.replace(temporary, self.path)
            except OSError as exc:
                Path(temporary).unlink(missing_ok=True)
                raise StateFileError(f"{self.path}: cannot write the state file: {exc.strerror or exc}") from exc
        return len(campaigns)

    def start(self, interval_seconds: float) -> None:
        """Save every ``interval_seconds`` (0: only on shutdown) until ``stop``."""
        if interval_seconds <= 0:
            return
        self._thread = threading.Thread(target=self._every, args=(interval_seconds,), name="state-file", daemon=True)
        self._thread.start()

    def _every(self, interval_seconds: float) -> None:
        while not self._stop.wait(interval_seconds):
            try:
                self.save()
            except StateFileError as exc:
                log.error("%s (the next save tries again)", exc)
            except Exception:  # the saver must outlive any one failure, or every later write is lost
                log.exception("could not write %s (the next save tries again)", self.path)

    def stop(self) -> int:
        """Stop the interval saves and write a last time."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        return self.save()


def _is_entry(entry: Any) -> bool:
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("id"), str)
        and isinstance(entry.get("version"), int)
        and isinstance(entry.get("campaign"), dict)
        and isinstance(entry.get("events"), list)
    )
