"""``campaign-mock lint``: bundled specs lint clean; each planted mistake is named at its line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from campaign_mock.contract.lint import lint_source
from campaign_mock.contract.specs import SpecSource, bundled_names, bundled_path, read_source
from tests.cli_process import run_cli
from tests.conftest import CANONICAL_SPEC

CANONICAL_TEXT = CANONICAL_SPEC.read_text()


def line_of(text: str, needle: str, after: str = "") -> int:
    start = text.index(after) if after else 0
    return text[: text.index(needle, start)].count("\n") + 1


@pytest.mark.parametrize("name", bundled_names())
def test_every_bundled_spec_lints_clean(name: str) -> None:
    findings = lint_source(read_source(str(bundled_path(name))))
    assert findings == [], [finding.as_text() for finding in findings]


def _unreachable(text: str) -> tuple[str, str, str]:
    text = text.replace(
        "    complete: {from: [active, paused], to: completed}\n",
        "    complete: {from: [active, paused], to: completed}\n    unarchive: {from: [archived], to: draft}\n",
    ).replace(
        "enum: [draft, scheduled, active, paused, canceled, completed]",
        "enum: [draft, scheduled, active, paused, canceled, completed, archived]",
    )
    return text, "lifecycle-unreachable", "unarchive: {from: [archived]"


def _without_line(text: str, line: str, after: str) -> str:
    """``text`` less the first whole line equal to ``line`` that follows ``after``."""
    at = text.index("\n" + line + "\n", text.index(after))
    return text[: at + 1] + text[at + len(line) + 2 :]


def _no_conflict(text: str) -> tuple[str, str, str]:
    line = "        '409': {$ref: '#/components/responses/Conflict'}"
    return _without_line(text, line, "operationId: pauseCampaign"), "conflict-undocumented", "      responses:"


def _broken_example(text: str) -> tuple[str, str, str]:
    return (
        text.replace("value: {reason: Budget review}", "value: {reason: 42}"),
        "example-invalid",
        "value: {reason: 42}",
    )


def _duplicate_id(text: str) -> tuple[str, str, str]:
    return (
        text.replace("operationId: resumeCampaign", "operationId: pauseCampaign"),
        "operation-id-duplicate",
        "operationId: pauseCampaign\n      tags: [lifecycle]\n      summary: Resume",
    )


def _no_way_out(text: str) -> tuple[str, str, str]:
    return (
        text.replace("    resume: {from: [paused], to: active}\n", "    resume: {from: [draft], to: active}\n")
        .replace(
            "    complete: {from: [active, paused], to: completed}", "    complete: {from: [active], to: completed}"
        )
        .replace(
            "    cancel: {from: [draft, scheduled, active, paused], to: canceled}",
            "    cancel: {from: [draft, scheduled, active], to: canceled}",
        )
        .replace(
            "    - {name: end, from: [active, paused], at: end_at, to: completed}",
            "    - {name: end, from: [active], at: end_at, to: completed}",
        ),
        "lifecycle-no-way-out",
        "pause: {from: [active, scheduled], to: paused}",
    )


def _terminal_moves(text: str) -> tuple[str, str, str]:
    return (
        text.replace("    resume: {from: [paused], to: active}", "    resume: {from: [paused, canceled], to: active}"),
        "lifecycle-terminal-moves",
        "resume: {from: [paused, canceled]",
    )


def _missing_401(text: str) -> tuple[str, str, str]:
    start = text.index("operationId: listCampaignEvents")
    line = "        '401': {$ref: '#/components/responses/Unauthorized'}\n"
    at = text.index(line, start)
    return (
        text[:at] + text[at + len(line) :],
        "auth-undocumented",
        "      responses:\n        '200':\n          description: One page of the moves",
    )


def _unknown_state(text: str) -> tuple[str, str, str]:
    return (
        text.replace(
            "    pause: {from: [active, scheduled], to: paused}", "    pause: {from: [active, scheduled], to: halted}"
        ),
        "lifecycle-unknown-state",
        "pause: {from: [active, scheduled], to: halted}",
    )


def _missing_link(text: str) -> tuple[str, str, str]:
    line = "        ResumeCampaign: {$ref: '#/components/links/ResumeCampaign'}"
    return _without_line(text, line, "    TransitionOk:"), "links-incomplete", "operationId: pauseCampaign"


def _unquoted_comma(text: str) -> tuple[str, str, str]:
    """Half a description turned into a schema key: the mistake Redocly found in our own spec."""
    quoted = "description: 'Position in the sequence, as the client numbers it.'"
    assert quoted in text
    return (
        text.replace(quoted, "description: Position in the sequence, as the client numbers it."),
        ("schema-unknown-keyword"),
        "as the client numbers it.",
    )


def _nullable(text: str) -> tuple[str, str, str]:
    return (
        text.replace(
            "        reason: {type: string, maxLength: 500}", "        reason: {type: string, nullable: true}"
        ),
        ("schema-unknown-keyword"),
        "nullable: true",
    )


def _duplicate_key(text: str) -> tuple[str, str, str]:
    return (
        text.replace("  title: Campaign lifecycle API\n", "  title: Campaign lifecycle API\n  title: Twice\n"),
        ("yaml-duplicate-key"),
        "  title: Twice",
    )


def _unknown_stamp(text: str) -> tuple[str, str, str]:
    return text.replace("x-stamp: write", "x-stamp: always"), "stamp-invalid", "x-stamp: always"


def _unsupported_scheme(text: str) -> tuple[str, str, str]:
    """HTTP Digest: a scheme the mock cannot check, so no client could get in."""
    scheme = "    bearerAuth:\n      type: http\n      scheme: bearer\n"
    assert scheme in text
    return text.replace(scheme, scheme.replace("bearer\n", "digest\n")), "security-unsupported", "    bearerAuth:\n"


def _undeclared_scheme(text: str) -> tuple[str, str, str]:
    undeclared = text.replace("security:\n  - bearerAuth: []", "security:\n  - tokenAuth: []")
    return undeclared, "security-invalid", "tokenAuth"


def _basic_user_on_bearer(text: str) -> tuple[str, str, str]:
    return (
        text.replace("      scheme: bearer\n", "      scheme: bearer\n      x-basic-user: api\n"),
        "security-invalid",
        "    bearerAuth:\n      type: http",
    )


def _order_by_nothing(text: str) -> tuple[str, str, str]:
    """The default order names a member no campaign has: neither server nor kit could use it."""
    return text.replace("order: created_at}", "order: -launched_at}"), "list-order", "order: -launched_at"


MISTAKES: list[Callable[[str], tuple[str, str, str]]] = [
    _order_by_nothing,
    _unsupported_scheme,
    _undeclared_scheme,
    _basic_user_on_bearer,
    _unknown_stamp,
    _unreachable,
    _no_conflict,
    _broken_example,
    _duplicate_id,
    _no_way_out,
    _terminal_moves,
    _missing_401,
    _unknown_state,
    _missing_link,
    _unquoted_comma,
    _nullable,
    _duplicate_key,
]


@pytest.mark.parametrize("plant", MISTAKES, ids=[plant.__name__.strip("_") for plant in MISTAKES])
def test_a_planted_mistake_is_reported_by_its_rule_at_its_line(plant: Callable[[str], tuple[str, str, str]]) -> None:
    text, rule, anchor = plant(CANONICAL_TEXT)
    assert text != CANONICAL_TEXT
    findings = lint_source(SpecSource("broken.yaml", text))
    named = [finding for finding in findings if finding.rule == rule]
    assert named, [finding.as_text() for finding in findings]
    if rule in ("conflict-undocumented", "auth-undocumented"):
        anchor_line = line_of(
            text,
            anchor,
            after="operationId: pauseCampaign"
            if rule == "conflict-undocumented"
            else "operationId: listCampaignEvents",
        )
    elif rule == "links-incomplete":
        anchor_line = line_of(text, "'200': {$ref: '#/components/responses/TransitionOk'}", after=anchor)
    else:
        anchor_line = line_of(text, anchor)
    assert anchor_line in {finding.line for finding in named}, [finding.as_text() for finding in named]


def test_yaml_syntax_errors_are_findings_with_a_position() -> None:
    findings = lint_source(SpecSource("bad.yaml", "openapi: 3.1.0\ninfo: [unclosed\n"))
    assert [(f.rule, f.line) for f in findings] == [("yaml-syntax", 3)]


def test_lint_cli_exits_0_when_clean_and_1_naming_rule_and_line(tmp_path: Path) -> None:
    assert run_cli("lint", str(CANONICAL_SPEC)).returncode == 0
    text, _, _ = _unreachable(CANONICAL_TEXT)
    broken = tmp_path / "copy.yaml"
    broken.write_text(text)
    result = run_cli("lint", str(broken))
    assert result.returncode == 1
    assert (
        f"{broken}:{line_of(text, 'unarchive: {from: [archived]')}:24: lifecycle-unreachable: state 'archived'"
        in result.stdout
    )
    as_json = json.loads(run_cli("lint", str(broken), "--format", "json").stdout)
    assert {"file", "line", "column", "rule", "severity", "message"} <= set(as_json[0])
    assert run_cli("lint", str(tmp_path / "missing.yaml")).returncode == 2


@pytest.mark.parametrize("extra", ["", "      x-basic-user: api\n"], ids=["any user", "x-basic-user"])
def test_http_basic_lints_clean(extra: str) -> None:
    text = CANONICAL_TEXT.replace("      scheme: bearer\n", "      scheme: basic\n" + extra)
    assert text != CANONICAL_TEXT
    findings = lint_source(SpecSource("basic.yaml", text))
    assert findings == [], [finding.as_text() for finding in findings]
