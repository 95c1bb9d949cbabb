"""``rate-limit``: where the spec declares limits, a burst meets 429 + Retry-After and recovers.

Also checks the declared header style on answers under the limit (and on the 429 unless
the spec leaves them off). Runs last: it uses up the target's budget on purpose.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from campaign_mock.conformance.context import KitContext, Scenario
from campaign_mock.conformance.groups.common import fresh_campaign, request_parts
from campaign_mock.conformance.results import GroupResult
from campaign_mock.contract.ratelimits import parse_windows

GROUP = "rate-limit"
HEADERS = {
    "ietf": ("RateLimit-Policy", "RateLimit"),
    "legacy": ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"),
}
MAX_BURST = 300
MAX_RECOVERY_WAIT = 65


def _retry_seconds(value: str | None) -> int | None:
    if value is None or not value.strip().isdigit():
        return None
    return int(value.strip())


def _every_429(
    result: GroupResult,
    label: str,
    answers: list[tuple[Mapping[str, str], str]],
    names: tuple[str, ...],
    declared: Mapping[str, Any],
) -> None:
    """Every 429, not only the first, carries Retry-After (in seconds) and the declared headers."""
    lower = [({name.lower(): value for name, value in headers.items()}, curl) for headers, curl in answers]
    without_retry = [curl for headers, curl in lower if _retry_seconds(headers.get("retry-after")) is None]
    result.check(
        not without_retry,
        "rate-limit.retry-after",
        f"{label}: {len(answers)} answered 429",
        "Retry-After: seconds on every 429",
        f"{len(without_retry)} without it",
        tuple(without_retry[:1]),
    )
    if names and declared.get("headers_on_429", True):
        lacking = [curl for headers, curl in lower if any(name.lower() not in headers for name in names)]
        result.check(
            not lacking,
            "rate-limit.headers",
            f"{label}: {len(answers)} answered 429",
            f"{', '.join(names)} on every 429",
            f"{len(lacking)} without them",
            tuple(lacking[:1]),
        )


def run(context: KitContext) -> GroupResult:
    result = context.start(GROUP)
    declared = context.view.contract.document.get("x-rate-limit")
    if not declared:
        result.not_applicable("rate-limit.enforced", "-", "the spec declares no rate limit")
        return result
    if not isinstance(declared, Mapping) or not declared.get("windows"):
        result.skipped("rate-limit.enforced", "-", "only a concurrency limit: the kit cannot make a server slow")
        return result
    windows = parse_windows([str(window) for window in declared["windows"]])
    smallest = min(windows, key=lambda window: window.limit)
    if smallest.limit > MAX_BURST:
        result.skipped("rate-limit.enforced", "-", f"the smallest window ({smallest}) needs over {MAX_BURST} requests")
        return result
    operation = context.view.one("list") or context.view.one("get")
    if operation is None:
        result.skipped("rate-limit.enforced", "-", "no read operation to send a burst to")
        return result
    scenario = Scenario(context)
    campaign_id = fresh_campaign(context, scenario) if operation.kind == "get" else None
    parts: dict[str, Any] = request_parts(context, operation, campaign_id)
    burst = [scenario.send(operation, wait_on_429=False, **parts) for _ in range(smallest.limit + 3)]
    limited = next((exchange for exchange in burst if exchange.status == 429), None)
    label = f"{operation.operation_id} x{len(burst)} ({smallest})"
    if limited is None:
        result.failed(
            "rate-limit.enforced",
            label,
            "a 429 once the burst passes the limit",
            ", ".join(str(exchange.status) for exchange in burst),
            scenario.steps()[-1:],
        )
        return result
    result.passed("rate-limit.enforced", label)
    names = HEADERS.get(str(declared.get("headers", "ietf")), ())
    limited_ones = [exchange for exchange in burst if exchange.status == 429]
    _every_429(result, label, [(e.response_headers, e.curl()) for e in limited_ones], names, declared)
    seen_elsewhere = list(context.coverage.too_many)
    if seen_elsewhere:
        _every_429(result, "429s the schema and stateful groups met", seen_elsewhere, names, declared)
    retry = _retry_seconds(limited.response_headers.get("Retry-After"))
    under = next((exchange for exchange in burst if exchange.status < 300), None)
    if names and under is not None:
        absent = [name for name in names if name not in under.response_headers]
        result.check(
            not absent,
            "rate-limit.headers",
            label,
            f"{', '.join(names)} under the limit",
            f"missing {absent}",
            (under.curl(),),
        )
    if "429" in operation.responses:
        media_types = context.view.media_types(operation, 429)
        problems = (
            context.view.body_problems(operation, 429, limited.content_type, limited.json())
            if limited.content_type in media_types
            else [f"Content-Type {limited.content_type!r}"]
        )
        result.check(
            not problems,
            "rate-limit.error-body",
            label,
            "a documented 429 body",
            "; ".join(problems),
            (limited.curl(),),
        )
    if retry is None or retry > MAX_RECOVERY_WAIT:
        result.skipped("rate-limit.recovery", label, f"Retry-After {retry} is not a wait the kit takes")
        return result
    time.sleep(retry + 0.2)
    again = scenario.send(operation, wait_on_429=False, **parts)
    result.check(
        again.status < 300,
        "rate-limit.recovery",
        label,
        f"success after waiting Retry-After ({retry} s)",
        again.brief(),
        scenario.steps()[-1:],
    )
    result.summary = f"burst of {len(burst)} against {smallest}"
    return result
