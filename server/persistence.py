"""``--state-file``: the store survives restarts.

Written atomically (a temporary file in the same folder, flushed to disk, then renamed
over the old one), at an interval while serving and once more on shutdown; read on start.
A file that cannot be read stops the start with one line saying why, rather than
silently starting empty and overwriting it later.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from campaign_mock.contract.timefmt import format_timestamp
from campaign_mock.server.campaigns import CampaignService
from campaign_mock.server.clock import Clock

FORMAT = "campaign-mock-state"
FORMAT_VERSION = 1
log = logging.getLogger("campaign_mock.state")


class StateFileError(Exception):
    """The state file exists but cannot be used; the message names it and the problem."""


class StateFile:
    def __init__(self, path: str, service: CampaignService, clock: Clock, spec: str) -> None:
        self.path = Path(path)
        self._service = service
        self._clock = clock
        self._spec = spec
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._write_lock = threading.Lock()

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
        campaigns = document.get("campaigns")
        if not isinstance(campaigns, list) or not all(_is_entry(entry) for entry in campaigns):
            raise StateFileError(f'{self.path}: "campaigns" must be a list of {{id, version, campaign, events}}')
        self._service.restore(campaigns)
        return len(campaigns)

    def save(self) -> int:
        """Write the store now, atomically; the number of campaigns written."""
        campaigns = self._service.snapshot()
        document: dict[str, Any] = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "spec": self._spec,
            "saved_at": format_timestamp(self._clock.now()),
            "campaigns": campaigns,
        }
        with self._write_lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as stream:
                    json.dump(document, stream, ensure_ascii=False)
                    stream.flush()
                    os.fsync(stream.fileno())
                os.replace(temporary, self.path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
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
            except OSError as exc:
                log.error("could not write %s: %s", self.path, exc)

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
