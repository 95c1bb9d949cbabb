"""The report: text grouped by rule for people, JUnit XML (one case per rule and operation) for CI."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from xml.etree import ElementTree

from campaign_mock.conformance.results import Outcome, Verdict
from campaign_mock.conformance.runner import Report
from campaign_mock.conformance.target import KEY_PLACEHOLDER

MAX_FAILURES_PER_RULE = 5


def render_text(report: Report) -> str:
    lines = [f"campaign-mock check: {report.spec} against {report.base_url}", ""]
    for group in report.groups:
        failed = sum(1 for outcome in group.outcomes if outcome.failed)
        passed = sum(1 for outcome in group.outcomes if outcome.verdict is Verdict.PASSED)
        skipped = sum(1 for outcome in group.outcomes if outcome.verdict is Verdict.SKIPPED)
        verdict = "FAIL" if failed else ("SKIP" if not passed else "PASS")
        lines.append(
            f"  {group.group:<11} {verdict}  {passed} passed, {failed} failed, {skipped} skipped"
            f"  ({group.summary or '-'}; {group.seconds:.1f} s)"
        )
    skips = [outcome for outcome in report.outcomes if outcome.verdict is Verdict.SKIPPED]
    if skips:
        lines += ["", "Not checked:"]
        for outcome in skips:
            lines.append(f"  {outcome.rule} [{outcome.operation}]: {outcome.note}")
    by_rule: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in report.failures:
        by_rule[outcome.rule].append(outcome)
    if by_rule:
        lines += [
            "",
            f"Failures, by rule (reproduce with: export API_KEY=<your key>; {KEY_PLACEHOLDER} stands for it):",
        ]
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
    passed = report.count(Verdict.PASSED)
    lines.append("")
    if report.conformant:
        lines.append(
            f"Result: conformant. {passed} checks passed, {len(skips)} not checked, in {report.seconds:.1f} s."
        )
    else:
        broken = report.broken_rules()
        lines.append(
            f"Result: NOT conformant. {len(broken)} rule(s) broken ({', '.join(broken)}); "
            f"{len(report.failures)} failed, {passed} passed, {len(skips)} not checked, in {report.seconds:.1f} s."
        )
    return "\n".join(lines)


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
