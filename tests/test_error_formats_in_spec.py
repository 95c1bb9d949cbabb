"""A vendor's error bodies are data in its spec (``x-error-format``, ``x-error-formats``): the
server speaks them with the vendor's own codes, the served spec documents them, a config file
uses the same syntax, and a malformed one is named by ``lint`` and refused by ``serve``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from jsonschema import Draft202012Validator

import campaign_mock.server.traffic.traffic
import campaign_mock.server.web.guard  # noqa: F401 (their ApiError subclasses join the hierarchy)
from campaign_mock.contract.error_formats import KINDS
from campaign_mock.contract.lint import lint_source
from campaign_mock.contract.specs import read_source
from campaign_mock.server.domain.errors import ApiError
from campaign_mock.server.run.assembly import assemble
from campaign_mock.server.run.config import ConfigError, ServeSettings, resolve_settings
from campaign_mock.server.run.threaded import ThreadedServer
from tests.cli_process import run_cli
from tests.conftest import CANONICAL_SPEC

KEY = "format-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}
VENDOR = {
    "media_type": "application/json",
    "body": {"code": "{code}", "message": "{detail}"},
    "codes": {"not-found": "document_not_found", "invalid-transition": "not_allowed"},
}


def write_spec(tmp_path: Path, **root: Any) -> Path:
    """The canonical contract with other root keys (its error format among them); ``None``
    leaves a key out."""
    document = yaml.safe_load(CANONICAL_SPEC.read_text())
    document.update(root)
    document = {key: value for key, value in document.items() if value is not None}
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def documenting(spec: Path, media_type: str, schema: dict[str, Any]) -> Path:
    """``spec`` with every error response documenting ``media_type`` and ``schema`` (the body
    its own format sends), as a vendor's profile does."""
    document = yaml.safe_load(spec.read_text())
    operations = [op for item in document["paths"].values() for op in item.values() if isinstance(op, dict)]
    responses = [*document["components"]["responses"].values()]
    responses += [answer for op in operations for status, answer in op["responses"].items() if status[0] in "45"]
    for response in responses:
        if "application/problem+json" in response.get("content", {}):
            response["content"] = {media_type: {"schema": schema}}
    spec.write_text(yaml.safe_dump(document, sort_keys=False))
    return spec


@contextmanager
def served(spec: Path, **settings: Any) -> Iterator[str]:
    """``spec`` as ``serve`` (and the pytest fixture) assembles it, on waitress: its root URL."""
    configured = ServeSettings(spec=str(spec), api_keys=[KEY], port=0, log_requests=False, **settings)
    assembled = assemble(configured)
    with ThreadedServer(assembled.app, threads=configured.effective_threads()) as server:
        yield server.base_url


def test_a_spec_defined_format_answers_with_the_vendors_codes(tmp_path: Path) -> None:
    shape = {
        "type": "object",
        "required": ["code", "message"],
        "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        "additionalProperties": False,
    }
    spec = documenting(write_spec(tmp_path, **{"x-error-format": VENDOR}), "application/json", shape)
    with served(spec) as root:
        missing = requests.get(f"{root}/campaigns/missing", headers=AUTH, timeout=5)
        created = requests.post(f"{root}/campaigns", json={"name": "Spring"}, headers=AUTH, timeout=5).json()
        forbidden = requests.post(f"{root}/campaigns/{created['id']}/resume", headers=AUTH, timeout=5)
        anonymous = requests.get(f"{root}/campaigns", timeout=5)
        document = requests.get(f"{root}/openapi.json", timeout=5).json()
    assert missing.status_code == 404
    assert missing.headers["Content-Type"] == "application/json"
    assert missing.json() == {"code": "document_not_found", "message": "No campaign with id 'missing'."}
    assert forbidden.status_code == 409
    assert forbidden.json()["code"] == "not_allowed"
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "unauthorized"  # a kind the spec does not map keeps its own name
    assert document["x-error-format"] == VENDOR
    documented = document["components"]["responses"]
    for name, answer in (("NotFound", missing), ("Conflict", forbidden), ("Unauthorized", anonymous)):
        Draft202012Validator(documented[name]["content"]["application/json"]["schema"]).validate(answer.json())


def test_lint_names_an_error_response_documented_in_another_media_type(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, **{"x-error-format": VENDOR})  # the canonical errors say problem+json
    findings = [f for f in lint_source(read_source(str(spec))) if f.rule == "error-format"]
    assert findings
    assert "documents its 404 as application/problem+json, but the error format (custom) sends application/json" in (
        " ".join(f.message for f in findings)
    )


def test_by_status_shapes_with_integer_codes_are_chosen_by_status_and_documented(tmp_path: Path) -> None:
    vendor = {
        "media_type": "application/vnd.acme+json",
        "by_status": {
            "404": {"error": {"code": "{code}", "text": "{detail}"}},
            "4xx": {"status": "{status}", "code": "{code}"},
            "default": {"failure": "{title}"},
        },
        "codes": {"not-found": 1404, "unauthorized": 1401},
    }
    spec = write_spec(tmp_path, **{"x-error-formats": {"acme": vendor}})
    with served(spec, error_format="acme") as root:
        missing = requests.get(f"{root}/campaigns/missing", headers=AUTH, timeout=5)
        anonymous = requests.get(f"{root}/campaigns", timeout=5)
        document = requests.get(f"{root}/openapi.json", timeout=5).json()
    assert missing.json() == {"error": {"code": 1404, "text": "No campaign with id 'missing'."}}
    assert anonymous.json() == {"status": 401, "code": 1401}
    assert anonymous.headers["Content-Type"] == "application/vnd.acme+json"
    assert document["x-error-format"] == "acme"
    paths = document["paths"]
    for documented, answer in (
        (paths["/campaigns/{campaign_id}"]["get"], missing),
        (paths["/campaigns"]["get"], anonymous),
    ):
        schema = documented["responses"][str(answer.status_code)]["content"]["application/vnd.acme+json"]["schema"]
        Draft202012Validator(schema).validate(answer.json())


def test_a_config_files_format_uses_the_spec_syntax_and_the_served_spec_states_it(tmp_path: Path) -> None:
    config = tmp_path / "mock.yaml"
    config.write_text(yaml.safe_dump({"error_format": "mine", "error_formats": {"mine": VENDOR}}))
    settings = resolve_settings(str(config), {}, {})
    with served(CANONICAL_SPEC, error_format=settings.error_format, error_formats=settings.error_formats) as root:
        missing = requests.get(f"{root}/campaigns/missing", headers=AUTH, timeout=5)
        document = requests.get(f"{root}/openapi.json", timeout=5).json()
    assert missing.json()["code"] == "document_not_found"
    assert document["x-error-format"] == VENDOR  # the definition itself: the served spec names no config
    served_spec = tmp_path / "served.json"
    served_spec.write_text(yaml.safe_dump(document))
    assert [f for f in lint_source(read_source(str(served_spec))) if f.rule == "error-format"] == []


def test_a_bad_config_format_is_named_with_its_place(tmp_path: Path) -> None:
    config = tmp_path / "mock.yaml"
    config.write_text("error_formats:\n  mine:\n    body: {why: '{reason}'}\n")
    with pytest.raises(
        ConfigError, match=r"mock.yaml:2:3: error_formats: mine.body: unknown placeholder\(s\) \{reason\}"
    ):
        resolve_settings(str(config), {}, {})


MALFORMED = """\
x-error-formats:
  acme:
    media_type: text/plain
    body: {code: '{code}'}
x-error-format:
  by_status:
    '404': {why: '{reason}'}
  codes:
    not-found: document_not_found
    no-such-kind: nope
"""


def test_lint_names_every_malformed_part_of_a_format_at_its_line(tmp_path: Path) -> None:
    base = write_spec(tmp_path, **{"x-error-format": None}).read_text()
    spec = tmp_path / "bad.yaml"
    spec.write_text(base + MALFORMED)
    offset = base.count("\n")
    found = {
        (f.line - offset, f.message.split(";")[0].split(" (")[0])
        for f in lint_source(read_source(str(spec)))
        if f.rule == "error-format"
    }
    assert found == {
        (3, "media type 'text/plain' is not a JSON media type"),
        (6, "by_status needs a default shape"),
        (7, "unknown placeholder(s) {reason}"),
        (10, "'no-such-kind' is not one of the mock's error kinds"),
    }


def test_lint_names_an_unknown_format_name_and_the_known_ones(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, **{"x-error-format": "sendgrid"})
    [finding] = [f for f in lint_source(read_source(str(spec))) if f.rule == "error-format"]
    assert "unknown error format 'sendgrid'; known: altcraft, " in finding.message


def test_serve_refuses_a_malformed_format_in_one_line(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, **{"x-error-format": {"body": {"code": "{kode}"}}})
    result = run_cli("serve", "--spec", str(spec), "--port", "0")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"campaign-mock: error: {spec}:")
    assert "error-format: unknown placeholder(s) {kode}" in line


def _kinds(cls: type[ApiError]) -> Iterator[str]:
    yield cls.code
    for sub in cls.__subclasses__():
        yield from _kinds(sub)


def test_the_contracts_list_of_error_kinds_is_every_kind_the_server_raises() -> None:
    assert set(_kinds(ApiError)) == set(KINDS)
