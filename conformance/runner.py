"""Runs the selected rule groups against one implementation and collects a report.

Order matters: the schemathesis groups first, then the kit's own groups; ``errors`` judges
what the groups before it provoked, and ``rate-limit`` runs last because it spends the
target's budget on purpose.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from campaign_mock.conformance.context import DEFAULT_SEED, KitContext, KitOptions
from campaign_mock.conformance.groups import (
    auth,
    errors,
    headers,
    lifecycle,
    listing,
    rate_limit,
    schema,
    stateful,
    updates,
)
from campaign_mock.conformance.promises import Promise, enumerate_promises
from campaign_mock.conformance.results import GroupResult, Outcome, UsageError, Verdict
from campaign_mock.conformance.target import Target, TargetStopped, root_cause
from campaign_mock.conformance.view import ContractView
from campaign_mock.conformance.wire import judge_answers
from campaign_mock.conformance.workspace import SANDBOX_PREFIX, choose_workspace, release
from campaign_mock.contract.errors import ContractError
from campaign_mock.contract.lifecycle import Lifecycle
from campaign_mock.contract.operations import build_contract
from campaign_mock.contract.specs import parse_document, read_source

GROUPS: dict[str, Callable[[KitContext], GroupResult]] = {
    "schema": schema.run,
    "stateful": stateful.run,
    "lifecycle": lifecycle.run,
    "updates": updates.run,
    "headers": headers.run,
    "listing": listing.run,
    "auth": auth.run,
    "errors": errors.run,
    "rate-limit": rate_limit.run,
}


CLI_OPTIONS: Mapping[str, str] = {
    "spec": "--spec",
    "base_url": "--base-url",
    "api_key": "--api-key",
    "only": "--only",
    "skip": "--skip",
    "sandbox": "--sandbox",
}
"""How the command line names the options a usage error points at (pytest names them otherwise)."""


def select_groups(
    only: Sequence[str] = (), skip: Sequence[str] = (), names: Mapping[str, str] = CLI_OPTIONS
) -> list[str]:
    unknown = sorted((set(only) | set(skip)) - set(GROUPS))
    if unknown:
        raise UsageError(
            f"{names['only']}/{names['skip']}: unknown group(s) {', '.join(unknown)}; groups: {', '.join(GROUPS)}"
        )
    return [name for name in GROUPS if (not only or name in only) and name not in skip]


@dataclass(frozen=True)
class CheckRequest:
    spec: str
    base_url: str
    api_key: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    seed: int = DEFAULT_SEED
    max_examples: int = 20
    workers: int = 1
    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    timer_step_seconds: float = 2.0
    tenant: str | None = None
    other_api_key: str | None = None
    option_names: Mapping[str, str] = field(default_factory=lambda: dict(CLI_OPTIONS))
    allow_unchecked: bool = False
    sandbox: str = "off"  # see workspace.choose_workspace


@dataclass
class Report:
    spec: str
    base_url: str
    groups: list[GroupResult]
    seconds: float
    coverage: str = ""
    generated_bodies: list[str] = field(default_factory=list)  # operations sent a body made from the schema
    allow_unchecked: bool = False
    stopped: str | None = None  # why the run ended early: the target stopped answering
    not_run: list[str] = field(default_factory=list)
    lifecycle: Lifecycle | None = None
    pairs: dict[tuple[str, str], list[Outcome]] = field(default_factory=dict)  # (state, action) -> its outcomes
    sandbox: str | None = None  # the sandbox the kit worked in (its own, dropped at the end, or the one given)
    promises: list[Promise] = field(default_factory=list)  # the contract's, each checked, broken or not

    @property
    def unchecked_groups(self) -> list[GroupResult]:
        """Groups that had promises to check and checked none of them."""
        return [group for group in self.groups if group.checked_nothing]

    @property
    def outcomes(self) -> list[Outcome]:
        return [outcome for group in self.groups for outcome in group.outcomes]

    @property
    def failures(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.failed]

    @property
    def conformant(self) -> bool:
        """No rule broken, the run completed, and every group checked something (unless
        ``--allow-unchecked``): a kit that checked nothing must not say "conformant"."""
        if self.failures or self.stopped is not None:
            return False
        return self.allow_unchecked or not self.unchecked_groups

    def count(self, verdict: Verdict) -> int:
        return sum(1 for outcome in self.outcomes if outcome.verdict is verdict)

    def broken_rules(self) -> list[str]:
        return sorted({outcome.rule for outcome in self.failures})


def _reachable(base_url: str, names: Mapping[str, str]) -> None:
    if not base_url.startswith(("http://", "https://")):
        raise UsageError(f"{names['base_url']} {base_url!r}: expected an http:// or https:// URL")
    try:
        requests.get(base_url, timeout=10)
    except requests.RequestException as exc:
        raise UsageError(f"cannot reach {base_url} ({names['base_url']}): {root_cause(exc)}") from exc


def _preflight(target: Target, view: ContractView, names: Mapping[str, str]) -> None:
    """Refuse to start against the wrong server, path or key: every rule would fail for the same
    reason (a wrong --base-url once reported "NOT conformant, 83 failed")."""
    lister = target.contract.one_of_kind("list")
    if lister is not None:
        answer = target.send(lister, wait_on_429=True)
    else:  # no list to read: one create with the spec's example (the kit creates many anyway)
        lister = target.contract.one_of_kind("create")
        built = view.create_body() if lister is not None else None
        if lister is None or built is None:
            return
        answer = target.send(lister, json_body=built[1], content_type=built[0], wait_on_429=True)
    target.exchanges.clear()
    if answer.status in (401, 403) and lister.security:
        option = names["api_key"]
        given = f"no {option} was given" if not target.api_key else f"the {option} given was refused"
        raise UsageError(
            f"{answer.method} {answer.url} answered {answer.status}: {given}; pass a key the server accepts"
        )
    if answer.status in (404, 405):
        base = target.contract.base_path or "/"
        raise UsageError(
            f"{answer.method} {answer.url} answered {answer.status}: {lister.operation_id} is not served there; "
            f"{names['base_url']} must be where the spec's paths start (its base path is {base}), and "
            f"{names['spec']} the contract this server implements"
        )


def run_check(request: CheckRequest, progress: Callable[[str], None] | None = None) -> Report:
    """Check one implementation; UsageError when the spec or the target cannot be used."""
    options = request.option_names
    names = select_groups(request.only, request.skip, options)
    try:
        source = read_source(request.spec)
        document = parse_document(source)
        contract = build_contract(document, source.origin)
    except ContractError as exc:
        raise UsageError(str(exc)) from exc
    _reachable(request.base_url, options)
    view = ContractView(contract, request.tenant)
    target = Target(contract, request.base_url, request.api_key, dict(request.headers), tenant=view.tenant)
    workspace = choose_workspace(target, view, request.sandbox, options.get("sandbox", "--sandbox"))
    if workspace.base_url != target.base_url:
        target = Target(contract, workspace.base_url, request.api_key, dict(request.headers), tenant=view.tenant)
    try:
        return _run_groups(request, names, target, view, (source.origin, document), progress)
    finally:
        problem = release(workspace, dict(request.headers))
        if problem is not None and progress is not None:
            progress(problem)


def _run_groups(
    request: CheckRequest,
    names: list[str],
    target: Target,
    view: ContractView,
    spec: tuple[str, dict[str, Any]],
    progress: Callable[[str], None] | None,
) -> Report:
    """The groups in order, on ``target``; ``spec``: the contract's origin and its document."""
    options, contract, (origin, document) = request.option_names, view.contract, spec
    _preflight(target, view, options)
    kit_options = KitOptions(
        request.seed,
        request.max_examples,
        request.workers,
        document,
        request.timer_step_seconds,
        request.other_api_key,
    )
    context = KitContext(target, view, kit_options)
    target.on_answer = context.coverage.answered
    if progress is not None:
        context.progress = progress
    started = time.perf_counter()
    results: list[GroupResult] = []
    stopped = None
    for name in names:
        context.progress(f"[{name}] running")
        group_started = time.perf_counter()
        try:
            GROUPS[name](context)
        except TargetStopped as stop:
            where = f"request {stop.number} of the {name} group ({stop.request})"
            stopped = f"the target stopped answering at {where}: {stop.reason}"
        result = context.results.get(name) or context.start(name)
        result.seconds = time.perf_counter() - group_started
        failed = sum(1 for outcome in result.outcomes if outcome.failed)
        summary = f" ({result.summary})" if result.summary else ""  # not "()" for a group that says nothing
        context.progress(f"[{name}] {'FAILED' if failed else 'ok'} in {result.seconds:.1f} s{summary}")
        results.append(result)
        if stopped is not None:
            context.progress(f"[{name}] {stopped}; the groups after it did not run")
            break
    if "headers" in names:  # every answer of the run, the later groups' too
        headers_result = context.results.get("headers") or context.start("headers")
        judge_answers(headers_result, view, list(target.exchanges), list(target.framing))
    outcomes = [outcome for result in results for outcome in result.outcomes]
    return Report(
        origin,
        target.base_url,
        results,
        time.perf_counter() - started,
        coverage=context.coverage.line(contract),
        generated_bodies=view.bodies.generated(),
        allow_unchecked=request.allow_unchecked,
        stopped=stopped,
        not_run=[name for name in names if name not in {result.group for result in results}],
        lifecycle=contract.lifecycle,
        pairs=dict(context.coverage.pairs),
        sandbox=urlsplit(target.base_url).path.partition(SANDBOX_PREFIX)[2].partition("/")[0] or None,
        promises=enumerate_promises(view, context.coverage, outcomes),
    )
