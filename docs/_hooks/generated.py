"""mkdocs hook: the reference pages' generated parts, written at build time from the code itself.

Why a hook and not hand-written tables: the command line (argparse parsers built by
``campaign_mock.server.cli.build_parser``), the settings table (``SETTINGS`` in
``campaign_mock.server.run.config``) and the admin API (``openapi/admin.yaml``) are the sources
of truth; a page that copies them drifts the first time a flag is added. A page asks for a part
with a marker line, ``<!-- generated: cli -->``, ``<!-- generated: settings -->`` or
``<!-- generated: admin-api -->``; an unknown marker fails the build.
"""

from __future__ import annotations

import argparse
import html
import re
from collections.abc import Callable, Iterator
from importlib import resources
from typing import Any

import yaml

from campaign_mock.server.cli import build_parser
from campaign_mock.server.run.config import SETTINGS, env_name

MARKER = re.compile(r"^<!-- generated: ([a-z-]+) -->$", re.MULTILINE)
# A code span holding an escaped pipe, in a table row: GitHub shows `a\|b` as a|b, Python-Markdown
# shows the backslash; as <code> with the pipe as an entity both tools agree.
TABLE_ROW = re.compile(r"^\|.*$", re.MULTILINE)
PIPED_CODE = re.compile(r"`([^`]*\\\|[^`]*)`")
HTTP_METHODS = ("get", "put", "post", "patch", "delete", "head")


def _cell(text: str) -> str:
    """Text that fits in one Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def _subcommands(parser: argparse.ArgumentParser) -> Iterator[tuple[str, str, argparse.ArgumentParser]]:
    """(name, one-line help, parser) of every subcommand, in the order ``--help`` lists them."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
            for name, sub in action.choices.items():
                yield name, helps.get(name, ""), sub


def _flag(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    """How ``--help`` spells an argument: ``--port 0..65535``, ``SPEC``, ``--freeze-clock``."""
    formatter = parser._get_formatter()
    return formatter._format_action_invocation(action)


def _help(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    if not action.help or action.help == argparse.SUPPRESS:
        return ""
    return parser._get_formatter()._expand_help(action)


def _arguments_table(parser: argparse.ArgumentParser) -> list[str]:
    rows = ["| argument | meaning |", "|---|---|"]
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
            continue
        repeat = " (repeatable)" if isinstance(action, argparse._AppendAction) else ""
        rows.append(f"| `{_cell(_flag(parser, action))}`{repeat} | {_cell(_help(parser, action))} |")
    return rows


def cli_reference() -> str:
    """Every command and flag, as the parsers themselves define them."""
    parser = build_parser()
    lines = [
        "```text",
        parser.format_usage().strip(),
        "```",
        "",
        _cell(parser.description or ""),
        "",
        *_arguments_table(parser),
    ]
    for name, summary, sub in _subcommands(parser):
        lines += [
            "",
            f"## `campaign-mock {name}`",
            "",
            f"{_cell(summary[:1].upper() + summary[1:])}." if summary else "",
            "",
            "```text",
            sub.format_usage().strip(),
            "```",
            "",
            _cell(sub.description or ""),
            "",
            *_arguments_table(sub),
        ]
    return "\n".join(lines)


def settings_reference() -> str:
    """Every setting of ``serve``: config key, flag, environment variable, default."""
    rows = ["| config key | flag | environment | default | meaning |", "|---|---|---|---|---|"]
    for setting in SETTINGS:
        flag = f"`{setting.option}`" if setting.option else "(config file only)"
        env = f"`{env_name(setting.key)}`" if setting.env else ""
        values = f" Values: {setting.values}." if setting.values else ""
        default = _cell(setting.shown_default())
        rows.append(f"| `{setting.key}` | {flag} | {env} | `{default}` | {_cell(setting.help)}.{_cell(values)} |")
    return "\n".join(rows)


def admin_api_reference() -> str:
    """Every admin operation from ``openapi/admin.yaml``, the file the mock itself serves."""
    text = resources.files("campaign_mock.openapi").joinpath("admin.yaml").read_text(encoding="utf-8")
    spec: dict[str, Any] = yaml.safe_load(text)
    rows = ["| method and path | operationId | does | answers |", "|---|---|---|---|"]
    for path, item in spec["paths"].items():
        for method in HTTP_METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            statuses = ", ".join(str(status) for status in operation.get("responses", {}))
            rows.append(
                f"| `{method.upper()} /__admin{path}` | `{operation.get('operationId', '')}` "
                f"| {_cell(operation.get('summary', ''))} | {statuses} |"
            )
    return "\n".join(rows)


GENERATORS: dict[str, Callable[[], str]] = {
    "cli": cli_reference,
    "settings": settings_reference,
    "admin-api": admin_api_reference,
}


def _piped_code(match: re.Match[str]) -> str:
    return "<code>" + html.escape(match.group(1).replace("\\|", "|")).replace("|", "&#124;") + "</code>"


def _table_row(match: re.Match[str]) -> str:
    return PIPED_CODE.sub(_piped_code, match.group(0))


def on_page_markdown(markdown: str, **_: Any) -> str:
    """mkdocs event: replace each marker by its generated Markdown; show piped code in tables as GitHub does."""

    def generate(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in GENERATORS:
            raise ValueError(f"unknown generated part {name!r}; known: {', '.join(GENERATORS)}")
        return GENERATORS[name]()

    return TABLE_ROW.sub(_table_row, MARKER.sub(generate, markdown))
