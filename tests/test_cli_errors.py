"""A bad flag, config or spec ends in one line naming what to fix, and exit status 2."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml

from campaign_mock.contract.errors import ContractError
from campaign_mock.contract.lint import lint_source
from campaign_mock.contract.specs import SpecSource
from campaign_mock.server.cli import _keys_line, _store_line
from campaign_mock.server.run.assembly import assemble, load_checked_contract
from campaign_mock.server.run.config import ConfigError, ServeSettings
from campaign_mock.server.traffic.redaction import mask
from tests.cli_process import run_cli
from tests.conftest import CANONICAL_SPEC, local_client


def one_line_error(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_an_unknown_config_key_is_named_with_its_line(tmp_path: Path) -> None:
    config = tmp_path / "mock.yaml"
    config.write_text("host: 127.0.0.1\nprot: 9000\n")
    result = run_cli("serve", "--config", str(config))
    assert result.returncode == 2
    line = one_line_error(result.stderr)
    assert f"{config}:2:7: unknown setting 'prot'" in line
    assert "port" in line


def test_a_wrongly_typed_config_value_says_what_is_expected(tmp_path: Path) -> None:
    config = tmp_path / "mock.yaml"
    config.write_text("port: lots\n")
    line = one_line_error(run_cli("serve", "--config", str(config)).stderr)
    assert f"{config}:1:7: port: expected an integer from 0 to 65535, got 'lots'" in line


def test_invalid_yaml_in_the_config_names_the_position(tmp_path: Path) -> None:
    config = tmp_path / "mock.yaml"
    config.write_text("port: [1\n")
    line = one_line_error(run_cli("serve", "--config", str(config)).stderr)
    assert f"{config}:2:1: invalid YAML" in line


def test_a_missing_spec_file_is_named(tmp_path: Path) -> None:
    result = run_cli("serve", "--spec", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    assert "nope.yaml: no such file" in one_line_error(result.stderr)


def test_a_spec_without_a_lifecycle_is_refused_naming_the_extension(tmp_path: Path) -> None:
    spec = tmp_path / "bare.yaml"
    spec.write_text("openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n")
    line = one_line_error(run_cli("serve", "--spec", str(spec)).stderr)
    assert f"{spec}:1:1: x-lifecycle: missing" in line


def test_invalid_openapi_is_refused_naming_the_place(tmp_path: Path) -> None:
    spec = tmp_path / "broken.yaml"
    spec.write_text("openapi: 3.1.0\ninfo: {title: t}\npaths: {}\n")
    line = one_line_error(run_cli("serve", "--spec", str(spec)).stderr)
    assert f"{spec}:2:" in line  # where info lacks its version
    assert "openapi-valid" in line
    assert "version" in line


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--error-format", "fancy"],
            "unknown error format 'fancy'; known: altcraft, ",  # the bundled formats, whichever there are
        ),
        (["--port", "70000"], "--port: expected an integer from 0 to 65535"),
        (["--threads", "0"], "--threads: expected an integer from 1 to 256"),
        (
            ["--clock-start", "9999-01-01T00:00:00Z"],
            "--clock-start: 9999-01-01T00:00:00+00:00 is outside the clock's range",
        ),
    ],
)
def test_bad_flags_are_one_line_errors(args: list[str], message: str) -> None:
    result = run_cli("serve", *args)
    assert result.returncode == 2
    assert message in one_line_error(result.stderr)


def test_help_documents_every_setting_with_its_config_key_and_variable() -> None:
    result = run_cli("serve", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for key in ("spec", "host", "port", "api_keys", "error_format", "threads", "max_body_bytes", "log_requests"):
        assert f"Config key: {key}" in text, key
    assert "CAMPAIGN_MOCK_PORT" in text


def _misspelt_kind(tmp_path: Path) -> tuple[Path, int]:
    """The canonical spec with its create operation's kind misspelt, and that line's number."""
    text = CANONICAL_SPEC.read_text().replace("kind: create", "kind: crate", 1)
    spec = tmp_path / "crate.yaml"
    spec.write_text(text)
    return spec, text.splitlines().index("        kind: crate") + 1


def test_serve_names_a_bad_operation_kind_at_its_line_with_the_allowed_kinds(tmp_path: Path) -> None:
    spec, line = _misspelt_kind(tmp_path)
    result = run_cli("serve", "--spec", str(spec), "--port", "0")
    assert result.returncode == 2
    message = one_line_error(result.stderr)
    assert f"{spec}:{line}:9: createCampaign: x-operation.kind must be one of copy, create, delete" in message
    assert message.endswith("; got 'crate'")
    assert "{" not in message  # not the x-operation mapping, printed as a Python dict


def test_lint_reports_a_bad_operation_kind_once_at_the_line_serve_names(tmp_path: Path) -> None:
    spec, line = _misspelt_kind(tmp_path)
    findings = lint_source(SpecSource(str(spec), spec.read_text()))
    assert [(finding.rule, finding.line) for finding in findings] == [("operation-kind", line)]  # no action findings
    with pytest.raises(ContractError) as refused:
        load_checked_contract(str(spec))
    assert str(refused.value) == findings[0].as_text().replace(": operation-kind", "", 1)


def test_lint_names_an_operation_without_x_operation(tmp_path: Path) -> None:
    document = yaml.safe_load(CANONICAL_SPEC.read_text())
    del document["paths"]["/campaigns"]["post"]["x-operation"]
    spec = tmp_path / "bare-operation.yaml"
    spec.write_text(yaml.safe_dump(document, sort_keys=False))
    findings = lint_source(SpecSource(str(spec), spec.read_text()))
    assert [finding.message for finding in findings if finding.rule == "operation-kind"] == [
        "createCampaign: x-operation.kind must be one of copy, create, delete, events, get, list, status, "
        "transition, update; got no x-operation"
    ]
    assert not [finding for finding in findings if finding.rule == "action-without-operation"]


def test_short_keys_are_masked_apart_by_length_and_fingerprint_in_the_banner_and_the_journal() -> None:
    settings = ServeSettings(api_keys=["k1", "key-two"], log_requests=False)
    assembled = assemble(settings)
    line = _keys_line(settings, assembled)
    first, second = mask("k1"), mask("key-two")
    assert first == f"****(2 chars, sha256 {hashlib.sha256(b'k1').hexdigest()[:6]})"
    assert second.startswith("****(7 chars, sha256 ")
    assert f"API keys: {first}, {second};" in line  # not "****, ****": which keys are set shows
    assert "k1" not in line.replace(first, "")
    assert "key-two" not in line
    mock = local_client(assembled.app)
    mock.simulate_get("/campaigns", headers={"Authorization": "Bearer key-two"})
    entry = mock.simulate_get("/__admin/journal", query_string="limit=1").json["data"][0]
    assert entry["headers"]["AUTHORIZATION"] == f"Bearer {second}"  # the banner's mark, in the journal too
    assert mask("sk-live-0123456789abcdef") == "****cdef"  # a long key keeps its tail


def test_a_sqlite_store_in_a_missing_folder_is_refused_without_making_it(tmp_path: Path) -> None:
    missing = tmp_path / "nonexistent" / "dir"
    result = run_cli("serve", "--port", "0", "--store", f"sqlite:{missing / 'x.sqlite'}")
    assert result.returncode == 2
    line = one_line_error(result.stderr)
    assert f"the folder {missing} does not exist; create it (mkdir -p {missing})" in line
    assert not (tmp_path / "nonexistent").exists()


def test_store_texts_say_the_store_as_it_is_spelt() -> None:
    settings = ServeSettings(log_requests=False)
    line = _store_line(settings, assemble(settings))
    assert line == "campaign-mock: store memory: (this process only); 1 worker"
    with pytest.raises(ConfigError) as refused:
        ServeSettings(server="granian", workers=2).check_combination()
    assert "--store memory: (campaigns" in str(refused.value)
    assert "memory::" not in str(refused.value)


def test_an_unreachable_redis_store_is_one_line_without_a_stray_full_stop() -> None:
    result = run_cli("serve", "--port", "0", "--store", "redis://127.0.0.1:1/0")
    assert result.returncode == 2
    line = one_line_error(result.stderr)
    assert "Connection refused; start Redis there" in line
    assert ".;" not in line
