"""``check --html FILE``: the report as one page a person reads at a glance.

Self-contained (styles and the lifecycle picture inline, no script, no CDN): the verdict,
the coverage line, the state x action matrix coloured by result (every cell links to the
failures judged on it, with their curl lines), the lifecycle diagram with the failing moves
drawn red, and every failure by rule.
"""

from __future__ import annotations

from collections import defaultdict
from html import escape
from pathlib import Path

from campaign_mock.conformance.promises import Standing, summary_line
from campaign_mock.conformance.report import verdict_line
from campaign_mock.conformance.results import Outcome, Verdict
from campaign_mock.conformance.runner import Report
from campaign_mock.contract.diagram import render_svg
from campaign_mock.contract.jsontext import printable
from campaign_mock.contract.lifecycle import Lifecycle

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d1d1d}
header{padding:18px 24px;color:#fff}
header.conformant{background:#2e7d32}header.not-conformant{background:#c62828}header.no-verdict{background:#8d6e00}
header h1{margin:0 0 4px;font-size:20px}main{padding:8px 24px 40px}
table.matrix{border-collapse:collapse;margin:8px 0 18px}
.matrix th,.matrix td{border:1px solid #bbb;padding:6px 10px;text-align:center}
.matrix th{background:#eef2f7}
td.pass{background:#c8e6c9}td.fail{background:#ffcdd2}td.unchecked{background:#eeeeee;color:#666}
td a{color:inherit;font-weight:600}
table.promises{border-collapse:collapse;margin:8px 0 18px}
.promises th,.promises td{border:1px solid #ddd;padding:3px 8px}
article.failure{border-left:4px solid #c62828;padding:4px 12px;margin:10px 0;background:#fff8f8}
pre{white-space:pre-wrap;word-break:break-all;background:#f6f6f6;padding:6px;margin:4px 0}
.coverage{font-weight:600}.muted{color:#666}
"""


def _cell_id(state: str, action: str) -> str:
    return f"cell-{state}-{action}"


def _failure_id(index: int) -> str:
    return f"failure-{index}"


def _matrix(lifecycle: Lifecycle, report: Report, anchors: dict[int, str]) -> str:
    pairs = report.pairs
    header = "".join(f"<th>{escape(action)}</th>" for action in lifecycle.transitions)
    rows = []
    for state in lifecycle.states:
        cells = []
        for action, move in lifecycle.transitions.items():
            expected = move.target if state in move.sources else str(lifecycle.conflict_status)
            judged = [o for o in pairs.get((state, action), []) if o.verdict is not Verdict.SKIPPED]
            failed = [o for o in judged if o.failed]
            result = "fail" if failed else ("pass" if judged else "unchecked")
            title = f"{action} from {state}: expected {expected}; {len(judged)} checks, {len(failed)} failed"
            text = escape(expected)
            if failed:
                text = f'<a href="#{anchors[id(failed[0])]}">{text} ✗</a>'
            elif not judged:
                text = f"{text} ?"
            cells.append(
                f'<td id="{escape(_cell_id(state, action))}" class="{result}" data-state="{escape(state)}" '
                f'data-action="{escape(action)}" data-result="{result}" title="{escape(title)}">{text}</td>'
            )
        terminal = " (terminal)" if lifecycle.is_terminal(state) else ""
        rows.append(f"<tr><th>{escape(state)}{terminal}</th>{''.join(cells)}</tr>")
    return (
        '<table class="matrix"><caption class="muted">what each action does from each state: the new state, or '
        f"the conflict status; green passed, red failed (click for the failure), grey not checked</caption>"
        f"<tr><th>state \\ action</th>{header}</tr>{''.join(rows)}</table>"
    )


def _failure(outcome: Outcome, anchor: str) -> str:
    steps = "".join(f"<pre>{escape(step)}</pre>" for step in outcome.steps)
    replay = f"<p>reproduce from a fresh state:</p>{steps}" if steps else ""
    return (
        f'<article class="failure" id="{anchor}" data-rule="{escape(outcome.rule)}">'
        f"<h3>{escape(outcome.rule)} · {escape(outcome.operation)}</h3>"
        f"<p><b>expected</b> {escape(outcome.expected)}<br><b>received</b> {escape(outcome.received)}</p>"
        f"{replay}</article>"
    )


def _promise_table(report: Report) -> str:
    """Every promise of the contract with its standing: green checked, red broken, grey not."""
    if not report.promises:
        return ""
    css = {Standing.CHECKED: "pass", Standing.BROKEN: "fail", Standing.NOT_CHECKED: "unchecked"}
    rows = "".join(
        f'<tr data-kind="{escape(p.kind)}" data-standing="{escape(p.standing)}"><td>{escape(p.kind)}</td>'
        f"<td>{escape(p.subject)}</td><td>{escape(p.says)}</td>"
        f'<td class="{css[p.standing]}">{escape(p.standing)}</td><td>{escape(p.why)}</td></tr>'
        for p in report.promises
    )
    return (
        f"<h2>Promises</h2><p>{escape(summary_line(report.promises))}</p>"
        '<table class="promises"><tr><th>kind</th><th>promise</th><th>the contract says</th>'
        f"<th>standing</th><th>why</th></tr>{rows}</table>"
    )


def render_html(report: Report) -> str:
    lifecycle = report.lifecycle
    failures = report.failures
    anchors = {id(outcome): _failure_id(index) for index, outcome in enumerate(failures)}
    by_rule: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in failures:
        by_rule[outcome.rule].append(outcome)
    verdict = (
        "conformant" if report.conformant else ("no-verdict" if report.stopped and not failures else "not-conformant")
    )
    failing_pairs = frozenset(pair for pair, outcomes in report.pairs.items() if any(o.failed for o in outcomes))
    sections = [
        f'<header class="{verdict}"><h1>{escape(verdict_line(report))}</h1>'
        f"<div>{escape(report.spec)} against {escape(report.base_url)}</div></header><main>",
        f'<p class="coverage">{escape(report.coverage)}</p>' if report.coverage else "",
        f"<p><b>Run ended early:</b> {escape(report.stopped)}</p>" if report.stopped else "",
    ]
    if lifecycle is not None:
        sections += [
            "<h2>State x action</h2>",
            _matrix(lifecycle, report, anchors),
            "<h2>Lifecycle</h2>",
            render_svg(lifecycle, "lifecycle, failing moves in red", failing_pairs),
        ]
    sections.append(f"<h2>Failures by rule ({len(failures)})</h2>")
    for rule, outcomes in sorted(by_rule.items()):
        sections.append(f"<h3>{escape(rule)}: {len(outcomes)}</h3>")
        sections.extend(_failure(outcome, anchors[id(outcome)]) for outcome in outcomes)
    if not failures:
        sections.append('<p class="muted">none</p>')
    sections.append(_promise_table(report))
    unchecked = [o for o in report.outcomes if o.verdict is Verdict.SKIPPED and o.applicable]
    if unchecked:
        sections.append("<h2>Not checked</h2><ul>")
        sections.extend(f"<li>{escape(o.rule)} [{escape(o.operation)}]: {escape(o.note)}</li>" for o in unchecked)
        sections.append("</ul>")
    sections.append("</main>")
    body = "".join(sections)
    return printable(
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>campaign-mock check</title>'
        f"<style>{STYLE}</style></head><body>{body}</body></html>\n"
    )


def write_html(report: Report, path: str) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_html(report), encoding="utf-8")
