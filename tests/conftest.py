"""Shared fixtures: the canonical contract, in-process clients, live waitress servers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import falcon.testing
import pytest
import requests

from campaign_mock.contract.operations import Contract
from campaign_mock.server.domain.clock import ControllableClock
from campaign_mock.server.domain.ids import RandomIds, SequentialIds
from campaign_mock.server.pytest_plugin import RunningMock
from campaign_mock.server.run.assembly import load_checked_contract
from campaign_mock.server.run.threaded import ThreadedServer
from campaign_mock.server.web.app import AppOptions, create_app
from campaign_mock.server.web.error_formats import ErrorFormat, ProblemFormat
from campaign_mock.server.web.guard import MARKER_HEADER
from tests.redis_server import namespace, redis_process, redis_url  # noqa: F401 (fixtures for every test module)

REPO = Path(__file__).resolve().parent.parent
CANONICAL_SPEC = REPO / "openapi" / "campaigns.yaml"
KEY = "test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
START = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


HTTP_SERVERS = ("waitress", "granian")


@pytest.fixture(params=HTTP_SERVERS)
def server(request: pytest.FixtureRequest) -> str:
    """A test that asks for ``server`` runs once under each HTTP server ``serve`` offers."""
    return str(request.param)


@pytest.fixture(scope="session")
def contract() -> Contract:
    return load_checked_contract(str(CANONICAL_SPEC))


@pytest.fixture
def clock() -> ControllableClock:
    return ControllableClock(start=START, frozen=True)


ClientFactory = Callable[..., falcon.testing.TestClient]


def local_client(app: falcon.App[falcon.Request, falcon.Response]) -> falcon.testing.TestClient:
    """An in-process client that talks as a local one does: ``Host: localhost`` (falcon's own
    default host is not one the mock answers for) and the admin API's no-browser marker."""
    return falcon.testing.TestClient(app, headers={"Host": "localhost", MARKER_HEADER: "tests"})


@pytest.fixture
def make_client(contract: Contract, clock: ControllableClock) -> ClientFactory:
    """A falcon.testing client over a fresh app; options may be overridden per test."""

    def build(
        *, error_format: ErrorFormat | None = None, max_body_bytes: int = 1024 * 1024, **options: Any
    ) -> falcon.testing.TestClient:
        settings = AppOptions(
            api_keys=[KEY],
            error_format=error_format or ProblemFormat(),
            max_body_bytes=max_body_bytes,
            log_requests=False,
            **options,
        )
        app = create_app(contract, settings, clock=clock, ids=SequentialIds())
        return local_client(app)

    return build


@pytest.fixture
def client(make_client: ClientFactory) -> falcon.testing.TestClient:
    return make_client()


@pytest.fixture
def live_url(contract: Contract) -> Iterator[str]:
    """A real waitress server on an ephemeral loopback port, real time, fresh state."""
    app = create_app(
        contract, AppOptions(api_keys=[KEY], log_requests=False), clock=ControllableClock(), ids=RandomIds()
    )
    with ThreadedServer(app) as server:
        yield server.base_url


def create(client: falcon.testing.TestClient, **fields: Any) -> dict[str, Any]:
    """Create a campaign (name defaults to 'Launch') and return it; asserts the 201."""
    result = client.simulate_post("/campaigns", json={"name": "Launch", **fields}, headers=AUTH)
    assert result.status_code == 201, result.text
    body: dict[str, Any] = result.json
    return body


@pytest.fixture
def http(campaign_mock: RunningMock) -> Iterator[requests.Session]:
    """A session to the ``campaign_mock`` fixture's sandbox, sending its credentials."""
    with requests.Session() as session:
        session.headers.update(campaign_mock.auth_headers)
        yield session


def create_over_http(http: requests.Session, base: str, **fields: Any) -> dict[str, Any]:
    """Create a campaign at ``base`` (name defaults to 'Admin test') and return it; asserts the 201."""
    answer = http.post(f"{base}/campaigns", json={"name": "Admin test", **fields}, timeout=10)
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created
