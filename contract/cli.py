"""``campaign-mock lint`` and ``campaign-mock diagram``: reviewing a contract before code exists."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from campaign_mock.contract.diagram import render_mermaid, render_svg
from campaign_mock.contract.errors import ContractError
from campaign_mock.contract.lint import RULES, lint_source
from campaign_mock.contract.operations import load_contract
from campaign_mock.contract.specs import read_source

CLEAN, FINDINGS, USAGE = 0, 1, 2


def add_review_parsers(commands: Any) -> None:
    lint = commands.add_parser(
        "lint",
        help="check contracts for mistakes, each reported as file:line:col: rule-id: message",
        description=(
            "Lint OpenAPI campaign contracts: OpenAPI validity plus these rules: "
            + "; ".join(f"{rule}: {text}" for rule, text in RULES.items())
            + ". Exit status: 0 clean, 1 findings, 2 a file that cannot be read."
        ),
    )
    lint.add_argument("specs", nargs="+", metavar="SPEC", help="spec files or bundled names (campaigns, ...)")
    lint.add_argument(
        "--format", choices=("text", "json"), default="text", help="text lines, or JSON for CI (default: text)"
    )
    lint.set_defaults(run=run_lint)

    diagram = commands.add_parser(
        "diagram",
        help="draw a contract's lifecycle (SVG state diagram or Mermaid text)",
        description=(
            "Draw the lifecycle of a contract's x-lifecycle: states, actions, initial and terminal states, clock moves."
        ),
    )
    diagram.add_argument("spec", metavar="SPEC", help="a spec file, a bundled name or a URL")
    diagram.add_argument("-o", "--output", metavar="FILE", help="write here instead of standard output")
    diagram.add_argument("--format", choices=("svg", "mermaid"), default="svg", help="svg (default) or mermaid")
    diagram.set_defaults(run=run_diagram)


def run_lint(args: argparse.Namespace) -> int:
    findings = []
    for reference in args.specs:
        try:
            source = read_source(reference)
        except ContractError as exc:
            print(f"campaign-mock: error: {exc}", file=sys.stderr)
            return USAGE
        findings.extend(lint_source(source))
    if args.format == "json":
        print(json.dumps([finding.as_dict() for finding in findings], indent=2))
    else:
        for finding in findings:
            print(finding.as_text())
        count = len(findings)
        summary = "clean" if not count else f"{count} finding(s)"
        print(f"campaign-mock lint: {len(args.specs)} spec(s), {summary}", file=sys.stderr)
    return FINDINGS if findings else CLEAN


def run_diagram(args: argparse.Namespace) -> int:
    try:
        contract = load_contract(read_source(args.spec))
    except ContractError as exc:
        print(f"campaign-mock: error: {exc}", file=sys.stderr)
        return USAGE
    title = f"{contract.document.get('info', {}).get('title', 'API')} lifecycle"
    text = render_svg(contract.lifecycle, title) if args.format == "svg" else render_mermaid(contract.lifecycle)
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            print(f"campaign-mock: error: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
            return USAGE
        print(f"campaign-mock: wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return CLEAN
