"""pytest fixtures that run the mock inside the test process, like moto's threaded server.

Installed with campaign-mock (entry point ``pytest11``), so in any project:

    def test_my_client_pauses(campaign_mock):
        client = MyClient(campaign_mock.base_url, campaign_mock.api_key)
        ...
        assert campaign_mock.admin.journal(method="POST", path="/campaigns/*/pause")

``campaign_mock`` starts one server per session (waitress on a free loopback port) and
resets it before each test. Override ``campaign_mock_settings`` to serve another spec,
set limits or freeze the clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from campaign_mock.server.admin_client import AdminClient
from campaign_mock.server.run.assembly import assemble
from campaign_mock.server.run.config import ServeSettings
from campaign_mock.server.run.threaded import ThreadedServer

DEFAULT_TEST_KEY = "test-key"


@dataclass(frozen=True)
class RunningMock:
    base_url: str
    api_key: str
    admin: AdminClient

    @property
    def auth_headers(self) -> dict[str, str]:
        """``Authorization: Bearer KEY`` (for specs with bearer auth)."""
        return {"Authorization": f"Bearer {self.api_key}"}


@pytest.fixture(scope="session")
def campaign_mock_settings() -> ServeSettings:
    """What the session's mock serves; override this fixture to change it."""
    return ServeSettings(api_keys=[DEFAULT_TEST_KEY], log_requests=False, port=0)


@pytest.fixture(scope="session")
def campaign_mock_server(campaign_mock_settings: ServeSettings) -> Iterator[RunningMock]:
    """The session's mock, started once; prefer ``campaign_mock``, which also resets it."""
    assembled = assemble(campaign_mock_settings)
    with ThreadedServer(
        assembled.app,
        host=campaign_mock_settings.host,
        port=campaign_mock_settings.port,
        threads=campaign_mock_settings.effective_threads(),
    ) as server:
        admin = AdminClient(server.base_url, campaign_mock_settings.admin_key)
        yield RunningMock(server.base_url + assembled.contract.base_path, assembled.api_keys[0], admin)


@pytest.fixture
def campaign_mock(campaign_mock_server: RunningMock) -> RunningMock:
    """The running mock, reset to its configured start for this test."""
    campaign_mock_server.admin.reset()
    return campaign_mock_server
