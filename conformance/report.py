"""The report: text grouped by rule for people, JUnit XML (one case per rule and operation) for CI."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from xml.etree import ElementTree

from campaign_mock.conformance.promises import Standing, summary_line
from campaign_mock.conformance.results import GroupResult, Outcome, Verdict
from campaign_mock.conformance.runner import Report
from campaign_mock.conformance.target import KEY_PLACEHOLDER
from campaign_mock.contract.jsontext import printable

MAX_FAILURES_PER_RULE = 5


def _group_verdict(group: GroupResult) -> str:
    failed = any(outcome.failed for outcome in group.outcomes)
    if failed:
        return "FAIL"
    if group.checked_nothing:
        return "NONE"  # had promises, checked none: not a pass
    return "PASS" if group.checked else "N/A"


def _groups(report: Report) -> list[str]:
    lines = []
    for group in report.groups:
        failed = sum(1 for outcome in group.outcomes if outcome.failed)
        passed = sum(1 for outcome in group.outcomes if outcome.verdict is Verdict.PASSED)
        skipped = sum(1 for outcome in group.outcomes if outcome.verdict is Verdict.SKIPPED and outcome.applicable)
        lines.append(
            f"  {group.group:<11} {_group_verdict(group):<4}  {passed} passed, {failed} failed, {skipped} not checked"
            f"  ({group.summary or '-'}; {group.seconds:.1f} s)"
        )
    lines.extend(f"  {name:<11} ----  not run (the target stopped answering)" for name in report.not_run)
    return lines


def _not_checked(report: Report) -> list[str]:
    skips = [outcome for outcome in report.outcomes if outcome.verdict is Verdict.SKIPPED]
    lines: list[str] = []
    for applicable, title in (
        (True, "Not checked (the spec promises it; the kit could not check it):"),
        (False, "Not applicable (the spec makes no such promise):"),
    ):
        chosen = [outcome for outcome in skips if outcome.applicable is applicable]
        if chosen:
            lines += ["", title]
            lines.extend(f"  {outcome.rule} [{outcome.operation}]: {outcome.note}" for outcome in chosen)
    return lines


MAX_SUBJECTS = 8


def _promises(report: Report) -> list[str]:
    """The promise ledger: one line of counts, then the promises not checked, by reason."""
    if not report.promises:
        return []
    lines = ["", summary_line(report.promises)]
    by_reason: dict[str, list[str]] = defaultdict(list)
    for promise in report.promises:
        if promise.standing is Standing.NOT_CHECKED:
            by_reason[f"{promise.kind}: {promise.why or 'no rule judged it'}"].append(promise.subject)
    for reason, subjects in sorted(by_reason.items()):
        more = f", and {len(subjects) - MAX_SUBJECTS} more" if len(subjects) > MAX_SUBJECTS else ""
        lines.append(f"  not checked, {reason}: {', '.join(subjects[:MAX_SUBJECTS])}{more}")
    return lines


def _failures(report: Report) -> list[str]:
    by_rule: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in report.failures:
        by_rule[outcome.rule].append(outcome)
    if not by_rule:
        return []
    lines = ["", f"Failures, by rule (reproduce with: export API_KEY=<your key>; {KEY_PLACEHOLDER} stands for it):"]
    for rule, outcomes in sorted(by_rule.items()):
        lines += ["", f"{rule}: {len(outcomes)} failure(s)"]
        for outcome in outcomes[:MAX_FAILURES_PER_RULE]:
            lines.append(f"  - {outcome.operation}")
            lines.append(f"      expected: {outcome.expected}")
            lines.append(f"      received: {outcome.received}")
            if outcome.steps:
                lines.append("      reproduce from a fresh state:")
                lines.extend(f"        {step}" for step in outcome.steps)
        if len(outcomes) > MAX_FAILURES_PER_RULE:
            lines.append(f"  ... and {len(outcomes) - MAX_FAILURES_PER_RULE} more")
    return lines


def verdict_line(report: Report) -> str:
    unchecked = sum(1 for o in report.outcomes if o.verdict is Verdict.SKIPPED and o.applicable)
    summary = f"{report.count(Verdict.PASSED)} passed, {unchecked} not checked, in {report.seconds:.1f} s"
    if report.conformant:
        return f"Result: conformant. {summary}."
    if report.failures:
        broken = report.broken_rules()
        return (
            f"Result: NOT conformant. {len(broken)} rule(s) broken ({', '.join(broken)}); "
            f"{len(report.failures)} failed, {summary}."
        )
    if report.stopped is not None:
        return f"Result: no verdict: the target stopped answering. {summary}."
    reasons = "; ".join(
        f"{group.group} ({'; '.join(sorted({o.note for o in group.outcomes if o.applicable}))})"
        for group in report.unchecked_groups
    )
    return (
        f"Result: NOT conformant: not checked: {reasons}. A group that checked nothing is no pass "
        f"(--allow-unchecked accepts it). {summary}."
    )


def render_text(report: Report) -> str:
    lines = [f"campaign-mock check: {report.spec} against {report.base_url}", "", *_groups(report)]
    if report.coverage:
        lines += ["", report.coverage]
    lines += _promises(report)
    if report.generated_bodies:
        made = ", ".join(report.generated_bodies)
        lines += ["", f"Request bodies made from the schema (the spec gives no example): {made}"]
    lines += [*_not_checked(report), *_failures(report), ""]
    if report.stopped is not None:
        lines.append(f"Run ended early: {report.stopped}.")
    lines.append(verdict_line(report))
    return printable("\n".join(lines))


def write_junit(report: Report, path: str) -> None:
    """One test case per (rule, operation); a case fails if any of its checks failed."""
    suites = ElementTree.Element("testsuites", name="campaign-mock check", time=f"{report.seconds:.3f}")
    for group in report.groups:
        cases: dict[tuple[str, str], list[Outcome]] = defaultdict(list)
        for outcome in group.outcomes:
            cases[(outcome.rule, outcome.operation)].append(outcome)
        failures = sum(1 for outcomes in cases.values() if any(o.failed for o in outcomes))
        skips = sum(1 for outcomes in cases.values() if all(o.verdict is Verdict.SKIPPED for o in outcomes))
        suite = ElementTree.SubElement(
            suites,
            "testsuite",
            name=group.group,
            tests=str(len(cases)),
            failures=str(failures),
            skipped=str(skips),
            time=f"{group.seconds:.3f}",
        )
        for (rule, operation), outcomes in sorted(cases.items()):
            case = ElementTree.SubElement(
                suite, "testcase", classname=f"{group.group}.{rule}", name=f"{rule} [{operation}]"
            )
            failed = [outcome for outcome in outcomes if outcome.failed]
            if failed:
                first = failed[0]
                element = ElementTree.SubElement(case, "failure", message=f"expected {first.expected}")
                element.text = "\n\n".join(
                    f"expected: {o.expected}\nreceived: {o.received}\n" + "\n".join(o.steps) for o in failed
                )
            elif all(outcome.verdict is Verdict.SKIPPED for outcome in outcomes):
                ElementTree.SubElement(case, "skipped", message=outcomes[0].note)
    tree = ElementTree.ElementTree(suites)
    ElementTree.indent(tree)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    tree.write(path, encoding="utf-8", xml_declaration=True)
