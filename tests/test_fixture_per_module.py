"""The ``campaign_mock`` fixture serves each module (or test) the spec and settings it asks
for, in one pytest run: a module marked for Altcraft talks to an Altcraft mock, the module
beside it to the canonical one, each in a world of its own, reset between tests."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from campaign_mock.contract.security import Placement
from campaign_mock.server.admin_client import AdminClient
from campaign_mock.server.domain.clock import ControllableClock
from campaign_mock.server.domain.ids import ids_for
from campaign_mock.server.pytest_plugin import RunningMock
from campaign_mock.server.run.assembly import assemble, load_checked_contract
from campaign_mock.server.run.config import ServeSettings
from campaign_mock.server.run.threaded import ThreadedServer
from campaign_mock.server.stores.base import Backend
from campaign_mock.server.stores.memory import MemoryBackend
from campaign_mock.server.stores.sqlite import SqliteBackend
from campaign_mock.server.web.app import AppOptions, build_runtime
from tests.conftest import CANONICAL_SPEC, REPO

pytest_plugins = ["pytester"]

ALTCRAFT_SPEC = REPO / "openapi" / "profiles" / "altcraft.yaml"

CANONICAL_MODULE = """
import requests


def test_the_canonical_module_gets_the_canonical_spec(campaign_mock):
    assert campaign_mock.spec == "campaigns"
    made = requests.post(f"{campaign_mock.base_url}/campaigns", json={"name": "Q4"},
                         headers=campaign_mock.auth_headers, timeout=10)
    assert made.status_code == 201, made.text
    assert made.json()["id"].startswith("cmp_")
    title = requests.get(f"{campaign_mock.server_url}/openapi.yaml", timeout=10).text
    assert "Altcraft" not in title
"""

ALTCRAFT_MODULE = """
import pytest
import requests

pytestmark = pytest.mark.campaign_mock(spec=SPEC)


def add(campaign_mock, name):
    answer = requests.post(f"{campaign_mock.base_url}/add", json={"name": name},
                           headers=campaign_mock.auth_headers, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]["id"]


def test_the_altcraft_module_gets_altcraft_and_integer_ids_from_1(campaign_mock):
    assert campaign_mock.api_key == "demo-key"  # the spec's demo key, not the default test key
    assert [add(campaign_mock, "a"), add(campaign_mock, "b")] == [1, 2]
    assert "Altcraft" in requests.get(f"{campaign_mock.server_url}/openapi.yaml", timeout=10).text


def test_after_the_reset_between_tests_ids_start_at_1_again(campaign_mock):
    assert add(campaign_mock, "c") == 1


@pytest.mark.campaign_mock_sandbox
def test_a_sandbox_of_its_own_counts_from_1_too(campaign_mock):
    assert add(campaign_mock, "d") == 1


@pytest.mark.campaign_mock(spec="campaigns")
def test_a_test_marker_overrides_the_modules(campaign_mock):
    assert campaign_mock.spec == "campaigns"
    made = requests.post(f"{campaign_mock.base_url}/campaigns", json={"name": "Q4"},
                         headers=campaign_mock.auth_headers, timeout=10)
    assert made.status_code == 201, made.text
"""

OVERRIDE_MODULE = """
import pytest

from campaign_mock.testing import ServeSettings


@pytest.fixture(scope="module")
def campaign_mock_settings():
    return ServeSettings(api_keys=["module-key"], log_requests=False, port=0)


def test_a_module_fixture_override_gets_its_own_server(campaign_mock):
    assert campaign_mock.api_key == "module-key"
    assert campaign_mock.admin.config()["api_keys"] == "1 key(s)"
"""

SCHEMES_MODULE = """
import pytest
import requests

SCHEMES = SPECS


@pytest.mark.parametrize(
    "scheme", [pytest.param(name, marks=pytest.mark.campaign_mock(spec=path)) for name, path in SCHEMES.items()]
)
def test_the_credentials_go_where_the_scheme_says(campaign_mock, scheme):
    url = f"{campaign_mock.base_url}/campaigns"
    assert requests.get(url, timeout=10).status_code == 401
    sent = requests.get(url, headers=campaign_mock.auth_headers, params=campaign_mock.auth_params, timeout=10)
    assert sent.status_code == 200, (scheme, sent.text)
"""

SCHEMES: dict[str, dict[str, Any]] = {  # bearer: the modules above; basic: test_basic_auth's fixture tests
    "api-key-header": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
    "api-key-query": {"type": "apiKey", "in": "query", "name": "api_key"},
}


def _spec_with_scheme(folder: Path, name: str, scheme: dict[str, Any]) -> str:
    """The canonical spec with its one security scheme swapped for ``scheme``."""
    document = yaml.safe_load(CANONICAL_SPEC.read_text())
    document["components"]["securitySchemes"] = {"theKey": scheme}
    document["security"] = [{"theKey": []}]
    path = folder / f"spec-{name}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return str(path)


def test_two_modules_for_two_vendors_in_one_run_each_get_their_own_spec_and_world(pytester: pytest.Pytester) -> None:
    specs = {name: _spec_with_scheme(pytester.path, name, scheme) for name, scheme in SCHEMES.items()}
    pytester.makepyfile(
        test_a_canonical=textwrap.dedent(CANONICAL_MODULE),
        test_b_altcraft=textwrap.dedent(ALTCRAFT_MODULE).replace("SPEC", repr(str(ALTCRAFT_SPEC))),
        test_c_canonical_again=textwrap.dedent(CANONICAL_MODULE),
        test_d_override=textwrap.dedent(OVERRIDE_MODULE),
        test_e_schemes=textwrap.dedent(SCHEMES_MODULE).replace("SPECS", repr(specs)),
    )
    result = pytester.runpytest("-p", "no:randomly", "-p", "no:cacheprovider", "-n", "0")
    result.assert_outcomes(passed=9)


def test_an_unknown_marker_setting_is_a_usage_error_naming_the_known_ones(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.campaign_mock(spek="altcraft")
        def test_it(campaign_mock):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:randomly", "-p", "no:cacheprovider", "-n", "0")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*unknown setting(s) spek; known: *spec*"])


@pytest.mark.parametrize(
    ("placement", "headers", "params"),
    [
        (Placement("s", "bearer"), {"Authorization": "Bearer k1"}, {}),
        (Placement("s", "basic"), {"Authorization": "Basic YW55c3RyaW5nOmsx"}, {}),
        (Placement("s", "basic", user="api"), {"Authorization": "Basic YXBpOmsx"}, {}),
        (Placement("s", "header", "X-Api-Key"), {"X-Api-Key": "k1"}, {}),
        (Placement("s", "query", "api_key"), {}, {"api_key": "k1"}),
        (None, {}, {}),
    ],
)
def test_auth_headers_and_params_carry_the_key_for_every_scheme(
    placement: Placement | None, headers: dict[str, str], params: dict[str, str]
) -> None:
    mock = RunningMock("http://mock", "k1", AdminClient("http://mock"), credential=placement)
    assert (mock.auth_headers, mock.auth_params) == (headers, params)


@pytest.mark.parametrize("store", ["memory", "sqlite", "redis"])
def test_a_world_reset_starts_integer_ids_at_1_again_on_every_store(
    store: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    contract = load_checked_contract("altcraft")
    backend: Backend = MemoryBackend()
    if store == "sqlite":
        backend = SqliteBackend(str(tmp_path / "store.db"))
        backend.open(contract.document["info"]["title"])
    elif store == "redis":
        from campaign_mock.server.stores.redis_backend import RedisBackend, RedisOptions  # noqa: PLC0415

        backend = RedisBackend(RedisOptions(request.getfixturevalue("redis_url"), request.getfixturevalue("namespace")))
    try:
        ids = ids_for(contract.document)
        options = AppOptions(api_keys=["k"])
        runtime = build_runtime(contract, options, clock=ControllableClock(), ids=ids, backend=backend)
        sandbox = runtime.worlds.create("reset-ids")[0]
        for world in (runtime.default, sandbox):
            world.begin()  # as each request does
            assert [world.service.create({"name": name})["id"] for name in ("a", "b")] == [1, 2]
            world.reset()
            world.begin()
            assert world.service.create({"name": "c"})["id"] == 1
    finally:
        backend.close()


def test_a_test_asking_a_shared_mock_for_another_spec_fails_naming_both(pytester: pytest.Pytester) -> None:
    settings = ServeSettings(api_keys=["demo-key"], log_requests=False, port=0)
    assembled = assemble(settings)
    pytester.makepyfile(
        test_shared="""
        import pytest

        def test_the_served_spec(campaign_mock):
            assert campaign_mock.admin.config()

        @pytest.mark.campaign_mock(spec="altcraft")
        def test_another_spec(campaign_mock):
            pass
        """
    )
    with ThreadedServer(assembled.app) as server:
        result = pytester.runpytest(
            "-p", "no:randomly", "-p", "no:cacheprovider", "-n", "0", f"--campaign-mock-url={server.base_url}"
        )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*asks for spec 'altcraft' (Altcraft campaigns API*), but the shared mock at *"])
