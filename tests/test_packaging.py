"""One namespace: installed, campaign-mock is ``campaign_mock.*`` and nothing else.

A user project with its own ``server`` package must be able to run pytest with the
``campaign_mock`` fixture beside it (the top-level ``server`` package we used to install
broke exactly that).
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from campaign_mock import __version__
from tests.conftest import REPO

SOURCE_FOLDERS = ("server", "contract", "conformance")
TOP_LEVEL_IMPORT = re.compile(r"^\s*(from|import) (server|contract|conformance)\b", re.MULTILINE)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(out), str(REPO)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    (found,) = out.glob("campaign_mock-*.whl")
    return found


def test_the_wheel_holds_one_top_level_package_with_every_module_and_spec(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert {name.split("/")[0] for name in names} == {"campaign_mock", f"campaign_mock-{__version__}.dist-info"}
    for folder in SOURCE_FOLDERS:
        for module in (REPO / folder).rglob("*.py"):
            assert f"campaign_mock/{module.relative_to(REPO).as_posix()}" in names, module
    for spec in (REPO / "openapi").rglob("*.yaml"):
        assert f"campaign_mock/{spec.relative_to(REPO).as_posix()}" in names, spec
    for page in (REPO / "server").rglob("*.html"):
        assert f"campaign_mock/{page.relative_to(REPO).as_posix()}" in names, page
    entry_points = zipfile.ZipFile(wheel).read(f"campaign_mock-{__version__}.dist-info/entry_points.txt").decode()
    assert "campaign-mock = campaign_mock.server.cli:main" in entry_points
    assert "campaign_mock = campaign_mock.server.pytest_plugin" in entry_points


def test_no_module_imports_a_top_level_name_that_only_exists_in_a_checkout() -> None:
    modules = [*(REPO / "campaign_mock").glob("*.py")]
    modules += [path for folder in (*SOURCE_FOLDERS, "tests", "bench") for path in (REPO / folder).rglob("*.py")]
    this = Path(__file__).resolve()  # its user project's test imports the project's own "server"
    offenders = [
        str(path.relative_to(REPO)) for path in modules if path != this and TOP_LEVEL_IMPORT.search(path.read_text())
    ]
    assert offenders == []


USER_TEST = """
import pytest
import requests

from campaign_mock.testing import ServeSettings
from server import greeting  # the project's own package called "server"


@pytest.fixture(scope="session")
def campaign_mock_settings():
    return ServeSettings(api_keys=["user-key"], log_requests=False, port=0)


def test_the_projects_own_server_package_is_importable():
    assert greeting() == "mine"


def test_the_fixture_serves_the_mock(campaign_mock):
    created = requests.post(
        f"{campaign_mock.base_url}/campaigns", json={"name": "Q4"}, headers=campaign_mock.auth_headers, timeout=10
    )
    assert created.status_code == 201
    assert campaign_mock.api_key == "user-key"
    assert len(campaign_mock.admin.journal(method="POST")) == 1
    campaign_mock.assert_clean_client()
    page = requests.get(f"{campaign_mock.server_url}/__admin/ui", timeout=10)
    assert page.status_code == 200 and "campaign-mock" in page.text
"""


def test_a_project_with_its_own_server_package_runs_pytest_with_the_installed_wheel(
    wheel: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-compile", str(wheel)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    site = next((venv / "lib").glob("python3*/site-packages"))
    assert not (site / "server").exists()
    assert not (site / "contract").exists()
    assert not (site / "conformance").exists()
    project = tmp_path / "project"
    (project / "server").mkdir(parents=True)
    (project / "server" / "__init__.py").write_text('def greeting():\n    return "mine"\n')
    (project / "tests").mkdir()
    (project / "tests" / "test_user.py").write_text(textwrap.dedent(USER_TEST))
    (project / "pyproject.toml").write_text('[tool.pytest.ini_options]\npythonpath = ["."]\n')
    ran = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        capture_output=True,
        text=True,
        cwd=project,
        timeout=300,
        check=False,
    )
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-2000:]
    assert "2 passed" in ran.stdout
    version = subprocess.run(
        [str(python), "-m", "campaign_mock", "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    assert version.stdout.strip() == f"campaign-mock {__version__}"
