"""Running the kit on a batch of blind faults (tests/blind_faults*.py), every run side by side.

A batch module exposes ``KEY``, ``FAULTS`` (each with ``name``, ``spec``, ``promise`` and
``build``) and ``real_app``. Each fault is served on its own loopback port with the contract
of its spec, and the kit checks it; so is the unbroken mock of each spec the batch uses.
The schemathesis groups are left out (tests/test_kit_catches_faults.py and
test_schemathesis_run.py cover them): a batch measures the kit's own rules, and the suite's
time. Ocamba's real limits (150 a minute) pace every group, so an ocamba run names the
groups that can see its fault.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from campaign_mock.conformance.runner import CheckRequest, Report, run_check
from campaign_mock.contract.operations import Contract
from campaign_mock.server.run.assembly import load_checked_contract
from campaign_mock.server.run.threaded import ThreadedServer
from tests.conftest import REPO

SKIPPED = ("schema", "stateful")
TIMER_STEP = 1.0  # the runs share one process: room for the steps before a timer's moment
AT_ONCE = 6  # runs side by side: most of a run is waiting for the clock-driven moves
OCAMBA = "openapi/profiles/ocamba.yaml"

WsgiApp = Callable[..., Any]


class Fault(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def spec(self) -> str: ...
    @property
    def promise(self) -> str: ...
    @property
    def build(self) -> Callable[[Contract], WsgiApp]: ...


def kit(app: WsgiApp, spec: str, key: str, only: tuple[str, ...] = ()) -> Report:
    with ThreadedServer(app, threads=8) as server:
        request = CheckRequest(
            spec=str(REPO / spec),
            base_url=server.base_url,
            api_key=key,
            only=only,
            skip=() if only else SKIPPED,
            max_examples=5,
            timer_step_seconds=TIMER_STEP,
            allow_unchecked=True,
        )
        return run_check(request, progress=lambda line: None)


def run_batch(
    faults: Sequence[Fault], real_app: Callable[[Contract], WsgiApp], key: str, only: Mapping[str, tuple[str, ...]]
) -> dict[str, Report]:
    """Reports by fault name, and by spec for the unbroken mock of each spec."""

    def control(spec: str) -> Report:
        return kit(real_app(load_checked_contract(str(REPO / spec))), spec, key, only.get(spec, ()))

    def faulty(fault: Fault) -> Report:
        contract = load_checked_contract(str(REPO / fault.spec))
        return kit(fault.build(contract), fault.spec, key, only.get(fault.name, ()))

    with ThreadPoolExecutor(max_workers=AT_ONCE) as pool:
        controls = {spec: pool.submit(control, spec) for spec in sorted({fault.spec for fault in faults})}
        runs = {fault.name: pool.submit(faulty, fault) for fault in faults}
        return {name: future.result() for name, future in {**controls, **runs}.items()}


def judge_batch(faults: Sequence[Fault], reports: Mapping[str, Report], known_misses: Mapping[str, str]) -> None:
    """No false alarm on any unbroken spec; every fault caught but the known misses, exactly."""
    false_alarms = {
        spec: [(o.rule, o.operation, o.received[:200]) for o in reports[spec].failures][:3]
        for spec in sorted({fault.spec for fault in faults})
        if not reports[spec].conformant
    }
    assert not false_alarms, false_alarms
    stopped = {fault.name: reports[fault.name].stopped for fault in faults if reports[fault.name].stopped}
    assert not stopped, stopped
    missed = {fault.name: fault.promise for fault in faults if reports[fault.name].conformant}
    assert set(missed) == set(known_misses), {
        "went unnoticed": {name: promise for name, promise in missed.items() if name not in known_misses},
        "now caught (take them off the known misses)": sorted(set(known_misses) - set(missed)),
    }
