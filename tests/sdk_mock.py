"""A bundled vendor profile served on a loopback port with a frozen clock, for the tests that
drive it through the vendor's official SDK: the SDK's client, and the clock to steer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests

from campaign_mock.server.run.assembly import assemble
from campaign_mock.server.run.config import ServeSettings
from campaign_mock.server.run.threaded import ThreadedServer


@dataclass(frozen=True)
class Mock:
    root: str
    client: Any  # the SDK's object the tests call

    def now(self) -> datetime:
        answer = requests.get(f"{self.root}/__admin/clock", timeout=5).json()
        return datetime.fromisoformat(answer["now"].replace("Z", "+00:00"))

    def advance(self, seconds: float) -> None:
        answer = requests.post(f"{self.root}/__admin/clock/advance", json={"seconds": seconds}, timeout=5)
        assert answer.status_code == 200, answer.text


@contextmanager
def served(spec: str, key: str, client_for: Callable[[str], Any]) -> Iterator[Mock]:
    """``spec`` served with ``key`` and a frozen clock; ``client_for(root)`` makes the SDK's client."""
    settings = ServeSettings(spec=spec, port=0, log_requests=False, api_keys=[key], freeze_clock=True)
    with ThreadedServer(assemble(settings).app, threads=settings.effective_threads()) as server:
        yield Mock(server.base_url, client_for(server.base_url))
