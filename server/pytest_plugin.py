"""pytest fixtures that run the mock for the tests of any project, like moto's threaded server.

Installed with campaign-mock (entry point ``pytest11``), so in any project:

    def test_my_client_pauses(campaign_mock):
        client = MyClient(campaign_mock.base_url, campaign_mock.api_key)
        ...
        assert campaign_mock.admin.journal(method="POST", path="/campaigns/*/pause")
        campaign_mock.assert_clean_client()  # no request broke the contract or its rules

``campaign_mock`` is a sandbox of its own for each pytest-xdist worker (or each test, with
``--campaign-mock-sandbox test`` or ``@pytest.mark.campaign_mock_sandbox``), reset before
each test: workers never see each other's campaigns, clock, faults or limits. The server is
started in-process (waitress on a free loopback port), or, with ``--campaign-mock-url URL``
(env ``CAMPAIGN_MOCK_URL``), one already running is shared, by a whole CI fleet if need be.

What a test is served is its settings: the ``campaign_mock_settings`` fixture (override it in
a conftest, a module or a class, at any scope), changed by the closest
``@pytest.mark.campaign_mock(spec=..., **settings)`` marker (a module's ``pytestmark``, a
class's, a test's). Each distinct settings gets its own in-process server, started on first
use and kept for the session, so two modules of one run that serve two vendors never share a
world (a single shared server serves its one spec: a test asking for another fails, saying so).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import secrets
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

import pytest
import yaml

from campaign_mock.contract.security import Placement, client_placement
from campaign_mock.contract.specs import read_source
from campaign_mock.contract.tenancy import split_key
from campaign_mock.server.admin_client import AdminClient, ClientNotClean, broken_rules, describe_broken
from campaign_mock.server.run.assembly import assemble
from campaign_mock.server.run.config import ServeSettings
from campaign_mock.server.run.threaded import ThreadedServer

DEFAULT_TEST_KEY = "test-key"
SHARED_DEFAULT_KEY = "demo-key"
MARKER = "campaign_mock_sandbox"
SETTINGS_MARKER = "campaign_mock"
SETTINGS_FIELDS = frozenset(field.name for field in dataclasses.fields(ServeSettings))
BEARER = Placement("bearer", "bearer")


@dataclass(frozen=True)
class RunningMock:
    base_url: str  # where the spec's paths are served: server root, sandbox prefix and base path
    api_key: str
    admin: AdminClient  # steers this sandbox
    sandbox: str = "default"
    server_url: str = ""  # the server's root (scheme, host, port)
    credential: Placement | None = BEARER  # where the spec says the key goes; None: no security
    spec: str = ""  # the spec served (``ServeSettings.spec``; the shared server's, when shared)

    @property
    def auth_headers(self) -> dict[str, str]:
        """The headers that carry the key as the spec says: ``Authorization: Bearer KEY``,
        ``Authorization: Basic base64(anystring:KEY)``, ``X-Api-Key: KEY``; none where the key
        travels in the query (see ``auth_params``) or the spec declares no security."""
        return self.credential.headers_for(self.api_key) if self.credential is not None else {}

    @property
    def auth_params(self) -> dict[str, str]:
        """The query parameters that carry the key, where the spec puts it in the query."""
        return self.credential.query_for(self.api_key) if self.credential is not None else {}

    def client_report(self, rules: list[str] | tuple[str, ...] = (), **options: Any) -> dict[str, Any]:
        """What the client under test did wrong in this sandbox so far, per rule
        (``GET /__admin/client-report``; ``rules`` turns optional rules on)."""
        return self.admin.client_report(rules=rules, **options)

    def assert_clean_client(
        self, allow: list[str] | tuple[str, ...] = (), rules: list[str] | tuple[str, ...] = (), **options: Any
    ) -> dict[str, Any]:
        """Fail the test, listing each broken rule with its requests and what to do instead,
        unless every rule found nothing (rules in ``allow`` may find something). The report."""
        report = self.client_report(rules, **options)
        broken = broken_rules(report, allow)
        if broken:
            raise ClientNotClean(describe_broken(broken))
        return report


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("campaign-mock", "campaign-mock: the mock for your tests")
    group.addoption(
        "--campaign-mock-url",
        default=os.environ.get("CAMPAIGN_MOCK_URL"),
        help="use this running campaign-mock (its root URL) instead of starting one; env CAMPAIGN_MOCK_URL",
    )
    group.addoption(
        "--campaign-mock-api-key",
        default=os.environ.get("CAMPAIGN_MOCK_API_KEY"),
        help=f"the API key the shared server accepts (default: {SHARED_DEFAULT_KEY}); env CAMPAIGN_MOCK_API_KEY",
    )
    group.addoption(
        "--campaign-mock-admin-key",
        default=os.environ.get("CAMPAIGN_MOCK_ADMIN_KEY"),
        help="the shared server's admin key, if it has one; env CAMPAIGN_MOCK_ADMIN_KEY",
    )
    group.addoption(
        "--campaign-mock-sandbox",
        choices=("worker", "test"),
        default="worker",
        help="a sandbox per pytest-xdist worker (default) or per test",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}: give this test a sandbox of its own (dropped after it)")
    config.addinivalue_line(
        "markers",
        f"{SETTINGS_MARKER}(spec=None, **settings): serve this module, class or test another spec or "
        "settings (ServeSettings fields), on a mock of its own",
    )


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _sandbox_name(label: str) -> str:
    """A name no other worker, test run or CI job picks: the label and random hex."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "-", label)[:40].strip("-") or "test"
    return f"pytest-{cleaned}-{secrets.token_hex(4)}"


def marked_settings(settings: ServeSettings, marker: pytest.Mark | None) -> ServeSettings:
    """``settings`` as a ``campaign_mock`` marker changes them: ``spec`` (also its one positional
    argument) and any other ServeSettings field by name. Keys belong to a spec: a marker that
    names another spec and no ``api_keys`` serves that spec's demo keys (``x-demo-keys``)."""
    if marker is None:
        return settings
    changes = dict(marker.kwargs)
    if marker.args:
        if len(marker.args) > 1 or "spec" in changes:
            raise pytest.UsageError(f"@pytest.mark.{SETTINGS_MARKER}: give the spec once (its one positional argument)")
        changes["spec"] = marker.args[0]
    unknown = sorted(set(changes) - SETTINGS_FIELDS)
    if unknown:
        raise pytest.UsageError(
            f"@pytest.mark.{SETTINGS_MARKER}: unknown setting(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(SETTINGS_FIELDS))}"
        )
    if "spec" in changes and changes["spec"] != settings.spec and "api_keys" not in changes:
        changes["api_keys"] = []
    return replace(settings, **changes)


class MockServers:
    """The mocks a session runs: one in-process server per distinct settings (started on first
    use, stopped when the session ends), or the one shared server; each with this worker's sandbox."""

    def __init__(self, config: pytest.Config) -> None:
        self._config = config
        self._running: dict[str, RunningMock] = {}
        self._stack = contextlib.ExitStack()

    def serving(self, settings: ServeSettings) -> RunningMock:
        shared = self._config.getoption("campaign_mock_url")
        key = "shared" if shared else repr(settings)
        running = self._running.get(key)
        if running is None:
            running = self._running[key] = self._shared(str(shared)) if shared else self._started(settings)
        if shared:
            _check_shared_spec(running, settings)
        return running

    def close(self) -> None:
        self._stack.close()

    def _shared(self, root_url: str) -> RunningMock:
        root = root_url.rstrip("/")
        admin_key = self._config.getoption("campaign_mock_admin_key")
        key = self._config.getoption("campaign_mock_api_key") or SHARED_DEFAULT_KEY
        sandbox = _sandbox_name(_worker())
        AdminClient(root, admin_key).create_sandbox(sandbox)  # also where sandboxes are made only on request
        self._stack.callback(AdminClient(root, admin_key).drop_sandbox, sandbox)
        admin = AdminClient(root, admin_key, sandbox=sandbox)
        base_path = str(admin.config().get("base_path", ""))
        document = _served_document(root)
        credential = client_placement(document)
        return RunningMock(f"{root}/sandboxes/{sandbox}{base_path}", key, admin, sandbox, root, credential, "")

    def _started(self, settings: ServeSettings) -> RunningMock:
        try:
            assembled = assemble(settings)
        except Exception as exc:  # a spec or setting the mock refuses: say which, not a traceback
            pytest.fail(f"campaign_mock cannot serve spec {settings.spec!r}: {exc}", pytrace=False)
        server = self._stack.enter_context(
            ThreadedServer(
                assembled.app,
                host=settings.host,
                port=settings.port,
                threads=settings.effective_threads(),
                limits=assembled.limits,
                render=assembled.errors.render,
            )
        )
        sandbox = _sandbox_name(_worker())
        AdminClient(server.base_url, settings.admin_key).create_sandbox(sandbox)
        admin = AdminClient(server.base_url, settings.admin_key, sandbox=sandbox)
        return RunningMock(
            f"{server.base_url}/sandboxes/{sandbox}{assembled.contract.base_path}",
            split_key(assembled.api_keys[0])[0],
            admin,
            sandbox,
            server.base_url,
            client_placement(assembled.contract.document),
            settings.spec,
        )


def _check_shared_spec(running: RunningMock, settings: ServeSettings) -> None:
    """A test that asks for a spec other than the default one must get it: a shared server
    serves one spec, so a test asking for another fails instead of testing the wrong vendor."""
    if settings.spec == ServeSettings().spec:
        return
    wanted = _title(yaml.safe_load(read_source(settings.spec).text))
    served = _title(_served_document(running.server_url))
    if wanted != served:
        pytest.fail(
            f"this test asks for spec {settings.spec!r} ({wanted}), but the shared mock at "
            f"{running.server_url} serves {served}: run it against a mock serving that spec, "
            "or without --campaign-mock-url (an in-process mock per spec)",
            pytrace=False,
        )


def _title(document: Any) -> str:
    info = document.get("info") if isinstance(document, Mapping) else None
    return str(info.get("title")) if isinstance(info, Mapping) else "an untitled spec"


def _served_document(root: str) -> Mapping[str, Any]:
    """The spec a shared mock serves (``/openapi.yaml``), to learn where its key goes."""
    with urllib.request.urlopen(f"{root}/openapi.yaml", timeout=30) as answer:  # noqa: S310 (the mock's URL)
        document = yaml.safe_load(answer.read())
    return document if isinstance(document, Mapping) else {}


@pytest.fixture(scope="session")
def campaign_mock_settings() -> ServeSettings:
    """What an in-process mock serves; override this fixture (any scope: a conftest, a module,
    a class) or mark tests ``@pytest.mark.campaign_mock(spec=...)`` to change it."""
    return ServeSettings(api_keys=[DEFAULT_TEST_KEY], log_requests=False, port=0)


@pytest.fixture(scope="session")
def campaign_mock_servers(request: pytest.FixtureRequest) -> Iterator[MockServers]:
    """Every mock this session runs (one per distinct settings); prefer ``campaign_mock``."""
    servers = MockServers(request.config)
    yield servers
    servers.close()


@pytest.fixture
def campaign_mock_server(
    request: pytest.FixtureRequest, campaign_mock_settings: ServeSettings, campaign_mock_servers: MockServers
) -> RunningMock:
    """The server this test's settings ask for, and this worker's sandbox on it (not reset:
    prefer ``campaign_mock``)."""
    settings = marked_settings(campaign_mock_settings, request.node.get_closest_marker(SETTINGS_MARKER))
    return campaign_mock_servers.serving(settings)


@pytest.fixture
def campaign_mock(request: pytest.FixtureRequest, campaign_mock_server: RunningMock) -> Iterator[RunningMock]:
    """The running mock, in a sandbox reset to its configured start for this test."""
    own = request.config.getoption("campaign_mock_sandbox") == "test" or request.node.get_closest_marker(MARKER)
    if not own:
        campaign_mock_server.admin.reset()
        yield campaign_mock_server
        return
    sandbox = _sandbox_name(request.node.name)
    campaign_mock_server.admin.for_sandbox(None).create_sandbox(sandbox)
    admin = campaign_mock_server.admin.for_sandbox(sandbox)
    base_path = campaign_mock_server.base_url.split(f"/sandboxes/{campaign_mock_server.sandbox}", 1)[1]
    yield replace(
        campaign_mock_server,
        base_url=f"{campaign_mock_server.server_url}/sandboxes/{sandbox}{base_path}",
        admin=admin,
        sandbox=sandbox,
    )
    admin.for_sandbox(None).drop_sandbox(sandbox)
