"""``rate-limit``: where the spec declares limits, a burst meets 429 + Retry-After and recovers.

Also checks the declared header style on answers under the limit (and on the 429 unless
the spec leaves them off). Runs last: it uses up the target's budget on purpose.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping, Sequence
from typing import Any

from campaign_mock.conformance.context import KitContext, Scenario
from campaign_mock.conformance.groups.common import fresh_campaign, request_parts
from campaign_mock.conformance.results import GroupResult
from campaign_mock.contract.ratelimits import Window, parse_windows

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
    _remaining_counts_down(result, label, [e for e in burst[: burst.index(limited)] if e.status < 300])
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
    _every_window(context, result, windows, smallest, operation, parts, retry)
    result.summary = f"burst of {len(burst)} against {smallest}"
    return result


def _remaining(exchange: Any) -> tuple[int | None, int | None]:
    """(limit, remaining) an answer states, in the legacy or the IETF draft headers."""
    headers = exchange.response_headers
    limit, remaining = headers.get("X-RateLimit-Limit"), headers.get("X-RateLimit-Remaining")
    ietf = str(headers.get("RateLimit", ""))
    for part in ietf.replace(";", ",").split(","):
        name, _, value = part.strip().partition("=")
        if name in ("r", "remaining"):
            remaining = value
        elif name in ("limit", "l"):
            limit = value
    as_int = [int(v) if v is not None and str(v).strip().isdigit() else None for v in (limit, remaining)]
    return as_int[0], as_int[1]


def _remaining_counts_down(result: GroupResult, label: str, answers: list[Any]) -> None:
    """Each request spends budget: the remaining count an answer states falls during a burst
    (it may jump up when a window starts again), never goes past the limit stated beside it,
    and is 0 on the answer after which the next request is refused."""
    stated = [(exchange, *_remaining(exchange)) for exchange in answers]
    counts = [remaining for _, _, remaining in stated if remaining is not None]
    if len(counts) < 3:
        return
    falls = any(later < earlier for earlier, later in itertools.pairwise(counts))
    last = stated[-1][2]  # the answer that spent the last request before the 429
    if last is not None and last != 0:
        result.failed(
            "rate-limit.header-values",
            label,
            "remaining 0 on the last answer before the first 429 (it spent what remained)",
            f"remaining {last}",
            (answers[-1].curl(),),
        )
    over = next(((e, limit, r) for e, limit, r in stated if limit is not None and r is not None and r > limit), None)
    result.check(
        falls and over is None,
        "rate-limit.header-values",
        label,
        "the remaining count falls as the burst spends it, never above the stated limit",
        f"remaining {counts[:12]}" + (f"; {over[2]} above the limit {over[1]}" if over else ""),
        (answers[-1].curl(),),
    )


MAX_PACED_SECONDS = 60.0


def _every_window(
    context: KitContext,
    result: GroupResult,
    windows: Sequence[Window],
    smallest: Window,
    operation: Any,
    parts: dict[str, Any],
    retry: int | None,
) -> None:
    """Every declared window is enforced, not only the smallest: requests paced under the
    windows shorter than it (so none of those answers) still meet 429 within its limit."""
    for window in sorted(windows, key=lambda w: w.seconds):
        if window is smallest:
            continue
        shorter = [w for w in windows if w.seconds < window.seconds]
        pace = max((w.seconds / w.limit for w in shorter), default=0.0) * 1.15
        needed = window.limit + 2
        label = f"{operation.operation_id} x{needed}, one every {pace:.2f} s ({window})"
        if needed > MAX_BURST or needed * pace > MAX_PACED_SECONDS:
            result.skipped("rate-limit.enforced", label, f"needs {needed} requests over {needed * pace:.0f} s")
            continue
        time.sleep((retry or 0) + 0.2)
        scenario = Scenario(context)
        statuses = []
        for _ in range(needed):
            statuses.append(scenario.send(operation, wait_on_429=False, **parts).status)
            if statuses[-1] == 429:
                break
            time.sleep(pace)
        result.check(
            429 in statuses,
            "rate-limit.enforced",
            label,
            f"a 429 once {window.limit} requests fall in one {window.seconds} s window",
            f"{len(statuses)} answers, none 429",
            scenario.steps()[-1:],
        )
