"""Every mistake a user can make is one line naming what to fix, and exit status 2: a wrong
base URL or spec for the kit, a spec lint rejects, an unwritable output, a relative path in a
config file, either spelling of the key variable; ``--help`` names every value and default."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from campaign_mock.contract.bounds import Bounded
from campaign_mock.server.cli import main as cli_main
from campaign_mock.server.run.assembly import assemble
from campaign_mock.server.run.config import SETTINGS, ConfigError, ServeSettings, resolve_settings
from tests.cli_process import cli_command, run_cli, serving
from tests.conftest import CANONICAL_SPEC, REPO, local_client


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.mark.parametrize(
    ("spec", "suffix", "named"),
    [
        ("campaigns", "/v2", "listCampaigns is not served there"),
        ("woodpecker", "", "createCampaign is not served there"),
    ],
    ids=["a wrong path (list)", "another server's spec (create)"],
)
def test_check_against_the_wrong_base_url_or_spec_is_a_usage_error(spec: str, suffix: str, named: str) -> None:
    with serving("--no-request-log") as served:
        result = run_cli("check", "--spec", spec, "--base-url", served.url + suffix, "--api-key", "demo-key")
        served.interrupt()
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert named in line
    assert "--base-url must be where the spec's paths start" in line
    assert result.stdout == ""


def test_a_refused_connection_is_one_readable_line() -> None:
    result = run_cli("check", "--spec", "campaigns", "--base-url", "http://127.0.0.1:9")
    assert result.returncode == 2
    assert one_line(result.stderr) == (
        "campaign-mock: error: cannot reach http://127.0.0.1:9 (--base-url): [Errno 111] Connection refused"
    )


def test_the_pytest_kit_without_a_target_fails_naming_the_pytest_option() -> None:
    ran = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--pyargs",
            "campaign_mock.conformance",
            "-q",
            "-p",
            "no:cacheprovider",
            "-n",
            "0",
        ],
        capture_output=True,
        text=True,
        cwd=REPO / "tests",
        timeout=120,
        check=False,
    )
    assert ran.returncode == 1, ran.stdout[-2000:]
    assert "give --base-url URL" in ran.stdout
    assert "passed" not in ran.stdout.splitlines()[-1]


def test_serve_refuses_a_spec_that_lint_rejects_and_serves_it_with_lint_warn(tmp_path: Path) -> None:
    spec = tmp_path / "unreachable.yaml"
    text = CANONICAL_SPEC.read_text()
    spec.write_text(
        text.replace(
            "    complete: {from: [active, paused], to: completed}\n",
            "    complete: {from: [active, paused], to: completed}\n    unarchive: {from: [archived], to: draft}\n",
        )
    )
    refused = run_cli("serve", "--port", "0", "--spec", str(spec))
    assert refused.returncode == 2
    line = one_line(refused.stderr)
    assert re.search(rf"{re.escape(str(spec))}:\d+:\d+: \S+: ", line), line
    assert "--lint warn serves the spec anyway" in line
    with serving("--spec", str(spec), "--lint", "warn", "--no-request-log") as served:
        served.interrupt()


def test_a_contract_error_names_the_file_line_and_column(tmp_path: Path) -> None:
    spec = tmp_path / "conflict.yaml"
    spec.write_text(CANONICAL_SPEC.read_text().replace("  conflict: 409\n", "  conflict: 999\n"))
    line = one_line(run_cli("serve", "--port", "0", "--spec", str(spec)).stderr)
    expected = next(number for number, text in enumerate(spec.read_text().splitlines(), 1) if "conflict: 999" in text)
    assert f"{spec}:{expected}:" in line
    assert "x-lifecycle.conflict: expected a 4xx status, got 999" in line


def test_diagram_into_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    result = run_cli("diagram", "campaigns", "-o", str(tmp_path / "missing" / "dir" / "x.svg"))
    assert result.returncode == 2
    assert "cannot write" in one_line(result.stderr)


def test_paths_in_a_config_file_are_relative_to_that_file(tmp_path: Path) -> None:
    folder = tmp_path / "config"
    folder.mkdir()
    shutil.copy(CANONICAL_SPEC, folder / "mine.yaml")
    config = folder / "mock.yaml"
    config.write_text("spec: mine.yaml\nstate_file: state/mock.json\n")
    settings = resolve_settings(str(config), {}, {})
    assert (settings.spec, settings.state_file) == (str(folder / "mine.yaml"), str(folder / "state" / "mock.json"))
    assert resolve_settings(None, {}, {"spec": "mine.yaml"}).spec == "mine.yaml"  # flags stay as given
    named = tmp_path / "named.yaml"
    named.write_text("spec: ocamba\n")
    assert resolve_settings(str(named), {}, {}).spec == "ocamba"  # a bundled name stays a name


def test_serve_and_check_read_either_spelling_of_the_key_variable() -> None:
    singular = resolve_settings(None, {"CAMPAIGN_MOCK_API_KEY": "one-key"}, {})
    plural = resolve_settings(None, {"CAMPAIGN_MOCK_API_KEYS": "a-key,b-key"}, {})
    assert (singular.api_keys, plural.api_keys) == (["one-key"], ["a-key", "b-key"])
    with serving("--api-key", "env-key", "--no-request-log") as served:
        env = {**os.environ, "CAMPAIGN_MOCK_API_KEYS": "env-key"}
        env.pop("CAMPAIGN_MOCK_API_KEY", None)
        checked = subprocess.run(
            [*cli_command(), "check", "--spec", "campaigns", "--base-url", served.url, "--only", "listing"],
            capture_output=True,
            text=True,
            timeout=120,
            env={**env, "PYTHONUNBUFFERED": "1"},
            check=False,
        )
        served.interrupt()
    assert checked.returncode == 0, checked.stderr[-2000:] + checked.stdout[-2000:]


def test_serve_help_names_every_options_values_and_default() -> None:
    text = run_cli("serve", "--help").stdout
    blocks = re.split(r"\n  (?=-)", text.split("options:", 1)[1])
    described = {block.split()[0]: " ".join(block.split()) for block in blocks if block.strip()}
    flattened = " ".join(text.split())
    assert len(described) > 30
    for option, block in described.items():
        if option in ("-h,", "--config"):
            continue
        assert "Default:" in block, option
    for choice in ("{key,operation,global}", "{fixed-window,token-bucket}", "{ietf,legacy,none}", "{waitress,granian}"):
        assert choice in text, choice
    assert "--no-admin serve the admin API under /__admin; --no-admin leaves it out. Default: served." in flattened
    assert "KEY#SCOPE,SCOPE" in flattened


def _usage_error(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """The one line ``campaign-mock ARGS`` prints for a mistake (run in-process), having exited 2."""
    assert cli_main(list(args)) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    return one_line(captured.err)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["serve", "--prot", "8080"], "campaign-mock serve: error: unknown option --prot; did you mean --port?"),
        (["serve", "--prot=8080"], "campaign-mock serve: error: unknown option --prot; did you mean --port?"),
        (
            ["check", "--bsae-url", "x"],
            "campaign-mock check: error: unknown option --bsae-url; did you mean --base-url?",
        ),
        (
            ["lint", "campaigns", "--formt", "json"],
            "campaign-mock lint: error: unknown option --formt; did you mean --format?",
        ),
        (
            ["diagram", "campaigns", "--ouptut", "x"],
            "campaign-mock diagram: error: unknown option --ouptut; did you mean --output?",
        ),
        (["serve", "stray"], "campaign-mock serve: error: unexpected argument 'stray'"),
    ],
)
def test_an_unknown_option_is_one_line_naming_the_nearest_option_of_its_own_command(
    capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    line = _usage_error(capsys, *args)
    assert line.startswith(expected), line
    assert f"`campaign-mock {args[0]} --help`" in line  # the subcommand's help, not the top level's


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["serve", "--spec"], "--spec"),
        (["check", "--base-url", "u", "--spec"], "--spec"),
        (["lint", "campaigns", "--format"], "--format"),
        (["diagram", "campaigns", "-o"], "--output"),
    ],
)
def test_an_option_without_its_value_is_one_line_naming_it(
    capsys: pytest.CaptureFixture[str], args: list[str], option: str
) -> None:
    assert _usage_error(capsys, *args) == (
        f"campaign-mock {args[0]}: error: {option} needs a value; `campaign-mock {args[0]} --help` says which"
    )


def test_a_missing_or_misspelt_command_is_one_line_naming_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert _usage_error(capsys).startswith("campaign-mock: error: give a command: serve, check, lint, diagram")
    assert _usage_error(capsys, "serv").startswith("campaign-mock: error: unknown command 'serv'; did you mean serve?")
    assert _usage_error(capsys, "diagram", "campaigns", "--format", "png").startswith(
        "campaign-mock diagram: error: --format: unknown value 'png' (one of: svg, mermaid)"
    )


def test_every_bounded_option_shows_in_help_the_range_its_error_names(capsys: pytest.CaptureFixture[str]) -> None:
    bounded = [setting for setting in SETTINGS if isinstance(setting.parse, Bounded)]
    assert len(bounded) > 20
    assert cli_main(["serve", "--help"]) == 0
    serve_help = " ".join(capsys.readouterr().out.split())
    for setting in bounded:
        assert isinstance(setting.parse, Bounded)
        assert setting.values == setting.parse.range, setting.key
        assert f"{setting.option} {setting.values}" in serve_help or f"Values: {setting.values}." in serve_help
        assert f"Default: {setting.shown_default()}." in serve_help
    assert "--max-query-bytes 256..1048576" in serve_help
    assert "Values: 256..1048576. Default: 8192." in serve_help
    with pytest.raises(ConfigError, match=r"--max-query-bytes: expected an integer from 256 to 1048576, got '50'"):
        resolve_settings(None, {}, {"max_query_bytes": "50"})
    assert cli_main(["check", "--help"]) == 0
    check_help = " ".join(capsys.readouterr().out.split())
    for shown in ("--max-examples 1..100000", "--workers 1..64", "--timer-step 0.2..600"):
        assert shown in check_help
    assert _usage_error(capsys, "check", "--spec", "s", "--base-url", "u", "--timer-step", "0.1") == (
        "campaign-mock check: error: --timer-step: expected seconds from 0.2 to 600, got '0.1'; "
        "see `campaign-mock check --help`"
    )


@pytest.mark.parametrize("events", [[], None], ids=["events: []", "no events"])
def test_a_seed_whose_history_does_not_reach_its_state_is_refused_saying_what_to_send(
    events: list[object] | None,
) -> None:
    mock = local_client(assemble(ServeSettings(log_requests=False)).app)
    paused: dict[str, object] = {"name": "x", "status": "paused"}
    if events is not None:
        paused["events"] = events
    refused = mock.simulate_post("/__admin/campaigns", json={"campaigns": [{"name": "fine"}, paused]})
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"  # the configured error format
    assert refused.json["errors"][0]["pointer"] == "/campaigns/1/events"
    detail = refused.json["detail"]
    assert "a campaign seeded in 'paused' needs the events that brought it there, ending in 'paused'" in detail
    assert "e.g. events for activate (draft -> active), pause (active -> paused)" in detail
    assert "only a campaign in a state a create lands in (draft) may have none" in detail
    assert mock.simulate_get("/__admin/campaigns").json["total"] == 0  # all or nothing
    history = [
        {"action": "activate", "from": "draft", "to": "active", "reason": None, "at": "2026-10-02T00:00:00Z"},
        {"action": "pause", "from": "active", "to": "paused", "reason": None, "at": "2026-10-03T00:00:00Z"},
    ]
    fine = [{"name": "draft", "events": []}, {"name": "paused", "status": "paused", "events": history}]
    assert mock.simulate_post("/__admin/campaigns", json={"campaigns": fine}).status_code == 201
