"""Runs schemathesis 4's engine in-process and turns its check results into outcomes.

One outcome per (check, operation): failed with schemathesis' own title and message and
the reproduction steps it recorded, or passed. The spec's explicit links only (no
inference), so runs repeat with ``--seed``; the kit's hooks teach it the contract's
ordered times.
"""

from __future__ import annotations

import copy
import shlex
from collections import defaultdict
from typing import Any
from urllib.parse import urlsplit

import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema

import campaign_mock.conformance.schemathesis_hooks  # noqa: F401 (registers the hooks)
from campaign_mock.conformance.context import KitContext
from campaign_mock.conformance.results import GroupResult
from campaign_mock.conformance.target import KEY_PLACEHOLDER, credential_for, shell_word
from campaign_mock.contract.operations import resolve
from campaign_mock.contract.security import ANY_USER, Placement

STATEFUL_MAX_STEPS = 20
# 412: a valid request whose precondition (If-Match) does not hold is still valid data.
POSITIVE_ANSWERS = ["2xx", "3xx", "401", "403", "404", "409", "412", "429", "5xx"]
NEGATIVE_REJECTIONS = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]


def _headers(context: KitContext) -> dict[str, str]:
    headers = dict(context.target.extra_headers)
    credential = credential_for(context.view.contract)
    if context.target.api_key and credential is not None and credential.kind != "query":
        query: dict[str, Any] = {}
        credential.apply(context.target.api_key, headers, query)
    return headers


def _positive_answers(context: KitContext) -> list[str]:
    """Valid data may still meet the lifecycle's conflict status (400 at some vendors)."""
    conflict = str(context.view.lifecycle.conflict_status)
    return POSITIVE_ANSWERS if conflict in POSITIVE_ANSWERS else [*POSITIVE_ANSWERS, conflict]


def _config(context: KitContext, phases: set[str]) -> SchemathesisConfig:
    options = context.options
    raw: dict[str, Any] = {
        "seed": options.seed,
        "base-url": context.target.base_url,
        "headers": _headers(context),
        "workers": options.workers,
        "phases": {
            "examples": {"enabled": "examples" in phases},
            "coverage": {"enabled": "coverage" in phases},
            "fuzzing": {"enabled": "fuzzing" in phases},
            "stateful": {
                "enabled": "stateful" in phases,
                "max-steps": STATEFUL_MAX_STEPS,
                "inference": {"algorithms": []},
            },
        },
        # No example database: the same seed gives the same run on every machine.
        "generation": {"max-examples": options.max_examples, "database": "none"},
        # 413 (body too large) is a rejection too; schemathesis' default list lacks it.
        "checks": {
            "negative_data_rejection": {"expected-statuses": NEGATIVE_REJECTIONS},
            "positive_data_acceptance": {"expected-statuses": _positive_answers(context)},
        },
    }
    if context.view.contract.document.get("x-rate-limit"):
        raw["rate-limit"] = "auto"
    return SchemathesisConfig.from_dict(raw)


FILTERED = "[Filtered]"  # what schemathesis writes in place of a credential


def replayable(curl: str, placement: Placement | None) -> str:
    """schemathesis' curl line with the key it hid written back as ``${API_KEY}`` where the
    contract sends it (a bearer token, an API-key header or query parameter, Basic as ``-u``),
    so the pasted line replays the finding; a line it cannot read is kept as it is."""
    if placement is None or FILTERED not in curl:
        return curl
    try:
        words = shlex.split(curl)
    except ValueError:
        return curl
    out: list[str] = []
    for index, word in enumerate(words):
        header = words[index - 1] == "-H" if index else False
        name, _, value = word.partition(":")
        shown = word
        if header and value.strip() == FILTERED and placement.where == ("header", name.strip().lower()):
            if placement.kind == "basic":
                out[-1:] = ["-u", f"{placement.user or ANY_USER}:{KEY_PLACEHOLDER}"]
                continue
            prefix = "Bearer " if placement.kind == "bearer" else ""
            shown = f"{name}: {prefix}{KEY_PLACEHOLDER}"
        elif placement.kind == "query" and f"{placement.name}={FILTERED}" in word:
            shown = word.replace(f"{placement.name}={FILTERED}", f"{placement.name}={KEY_PLACEHOLDER}")
        out.append(shown)
    return " ".join(map(shell_word, out))


def _steps(info: Any, placement: Placement | None) -> tuple[str, ...]:
    steps = tuple(step.curl for step in getattr(info, "steps", []) or [])
    found = steps or ((info.code_sample,) if getattr(info, "code_sample", None) else ())
    return tuple(replayable(step, placement) for step in found)


XML_TYPES = ("application/xml", "text/xml")


def _without_xml_requests(document: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The document with XML request bodies left out where JSON is accepted too.

    schemathesis writes a JSON null in XML as the text ``null``, which XML cannot tell from
    the string "null": its negative cases would fail a conformant server. Answers in XML are
    still checked; the operations it affected are returned, for the report.
    """
    trimmed = copy.deepcopy(document)
    affected = []
    for path, item in (trimmed.get("paths") or {}).items():
        for method, operation in item.items() if isinstance(item, dict) else ():
            if not isinstance(operation, dict) or "requestBody" not in operation:
                continue
            body, _ = resolve(trimmed, operation["requestBody"], "")
            content = body.get("content") if isinstance(body, dict) else None
            if isinstance(content, dict) and "application/json" in content and any(t in content for t in XML_TYPES):
                operation["requestBody"] = {**body, "content": {k: v for k, v in content.items() if k not in XML_TYPES}}
                affected.append(str(operation.get("operationId") or f"{method.upper()} {path}"))
    return trimmed, affected


def _checkable(context: KitContext, result: GroupResult, group: str) -> dict[str, Any]:
    document, xml_left_out = _without_xml_requests(dict(context.options.spec_document))
    for operation_id in xml_left_out:
        result.skipped(
            f"{group}.xml-request", operation_id, "XML request bodies: schemathesis cannot write JSON null in XML"
        )
    return document


def _record_answers(context: KitContext, interactions: Any) -> None:
    """schemathesis' answers count towards the run's coverage, as the kit's own do."""
    for interaction in interactions:
        response = interaction.response
        if response is None:
            continue
        operation = context.view.operation_for(interaction.request.method, urlsplit(interaction.request.uri).path)
        if operation is None:
            continue
        headers = {name: values[0] if isinstance(values, list) else values for name, values in response.headers.items()}
        context.coverage.answered(operation.operation_id, response.status_code, headers)
        if response.status_code == 429:
            curl = f"curl -i -X {interaction.request.method} {interaction.request.uri}"
            context.coverage.too_many.append((headers, curl))


def run_engine(context: KitContext, group: str, phases: set[str]) -> GroupResult:
    result = context.start(group)
    schema = schemathesis.openapi.from_dict(_checkable(context, result, group), config=_config(context, phases))
    passed: dict[tuple[str, str], int] = defaultdict(int)
    failed: dict[tuple[str, str, str], Any] = {}
    scenarios = 0
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            scenarios += 1
            label = event.recorder.label
            _record_answers(context, event.recorder.interactions.values())
            for nodes in event.recorder.checks.values():
                for node in nodes:
                    if node.failure_info is None:
                        passed[(node.name, label)] += 1
                    else:
                        failure = node.failure_info.failure
                        failed.setdefault((node.name, label, failure.title), node.failure_info)
            if scenarios % 10 == 0:
                context.progress(f"  {group}: {scenarios} scenarios")
        elif isinstance(event, events.NonFatalError):
            result.failed(
                f"{group}.error", event.label, "the run to complete", f"{event.info.title}: {event.info.message}"[:500]
            )
        elif isinstance(event, events.FatalError):
            result.failed(f"{group}.error", "-", "the run to complete", str(event.exception)[:500])
    failing_pairs = {(name, label) for name, label, _ in failed}
    for (name, label), _count in sorted(passed.items()):
        if (name, label) not in failing_pairs:
            result.passed(f"{group}.{name}", label)
    for (name, label, title), info in sorted(failed.items(), key=lambda item: item[0]):
        message = " ".join(str(info.failure.message).split())
        placement = credential_for(context.view.contract)
        result.failed(f"{group}.{name}", label, title, message[:600], _steps(info, placement))
    result.summary = f"{scenarios} schemathesis scenarios"
    return result
