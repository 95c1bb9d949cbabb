"""The kit's verdict stays true when the target carries other traffic: a CI fleet on the same
mock, or the kit's own groups run side by side. Another writer moves totals and pages; the
kit either works where nobody else does (its own sandbox) or measures again before it blames."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import requests

from campaign_mock.conformance.results import Verdict
from campaign_mock.conformance.runner import CheckRequest, Report, run_check
from campaign_mock.server.run.assembly import assemble, load_checked_contract
from campaign_mock.server.run.config import ServeSettings
from campaign_mock.server.run.threaded import ThreadedServer
from tests import planted_faults
from tests.conftest import CANONICAL_SPEC

KEY = "kit-key"
HEADERS = {"Authorization": f"Bearer {KEY}"}
LOAD_LIMIT = 3000  # campaigns the writer makes at most, so the load stops by itself


@contextmanager
def shared_mock(sandboxes: str) -> Iterator[str]:
    assembled = assemble(ServeSettings(api_keys=[KEY], log_requests=False, port=0, sandboxes=sandboxes, threads=8))
    with ThreadedServer(assembled.app, threads=8) as server:
        yield server.base_url


@contextmanager
def another_writer(base_url: str) -> Iterator[list[int]]:
    """Creates campaigns and deletes every other one, without pause, until the block ends."""
    stop, made = threading.Event(), [0]

    def write() -> None:
        with requests.Session() as http:
            while not stop.is_set() and made[0] < LOAD_LIMIT:
                answer = http.post(f"{base_url}/campaigns", json={"name": "Fleet"}, headers=HEADERS, timeout=10)
                made[0] += 1
                if made[0] % 2 == 0 and answer.status_code == 201:
                    http.delete(f"{base_url}/campaigns/{answer.json()['id']}", headers=HEADERS, timeout=10)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        yield made
    finally:
        stop.set()
        writer.join(15)


def kit(base_url: str, sandbox: str = "off") -> Report:
    request = CheckRequest(
        spec=str(CANONICAL_SPEC), base_url=base_url, api_key=KEY, only=("listing",), max_examples=5, sandbox=sandbox
    )
    return run_check(request, progress=lambda line: None)


def test_another_writer_changing_the_list_makes_no_listing_rule_fail() -> None:
    with shared_mock("off") as base_url, another_writer(base_url) as made:
        reports = [kit(base_url) for _ in range(2)]
    assert made[0] > 50, "the other writer really wrote meanwhile"
    for report in reports:
        assert not report.failures, [(o.rule, o.expected, o.received) for o in report.failures]
        assert report.count(Verdict.PASSED) > 10


def test_with_sandbox_auto_the_kit_counts_exactly_in_its_own_sandbox_and_drops_it() -> None:
    with shared_mock("auto") as base_url, another_writer(base_url) as made:
        report = kit(base_url, sandbox="auto")
        sandboxes = requests.get(f"{base_url}/__admin/sandboxes", timeout=10).json()
    assert made[0] > 10
    assert report.conformant, [(o.rule, o.expected, o.received) for o in report.failures]
    assert report.sandbox is not None
    assert report.sandbox.startswith("kit-")
    assert f"/sandboxes/{report.sandbox}/" in report.base_url + "/"
    assert not any(outcome.verdict == "skipped" and "other traffic" in outcome.note for outcome in report.outcomes)
    names = [entry["name"] for entry in sandboxes["data"]]
    assert report.sandbox not in names, "the kit's sandbox was dropped when it ended"


def test_a_total_that_is_wrong_every_time_is_still_reported() -> None:
    contract = load_checked_contract(str(CANONICAL_SPEC))
    with ThreadedServer(planted_faults.total_off_by_one(contract), threads=4) as server:
        report = run_check(
            CheckRequest(
                spec=str(CANONICAL_SPEC), base_url=server.base_url, api_key=planted_faults.KEY, only=("listing",)
            ),
            progress=lambda line: None,
        )
    assert "listing.total" in report.broken_rules(), report.broken_rules()
