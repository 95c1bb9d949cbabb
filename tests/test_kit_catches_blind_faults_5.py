"""The kit against batch 5 of faults written blind (tests/blind_faults_5.py,
tests/BLIND_FAULTS_5.md), by someone who read neither the kit's rules nor batch 4. Scored
blind, it caught 14 of 20 with no false alarm; the six it missed each broke a principle the
kit then learnt (totals under a filter, the history's paging, the clock's event times,
If-Match on every write, the status an error body states, a remaining count at 0). Every
fault must fail the kit; the unbroken mock of each spec must pass it."""

from __future__ import annotations

from tests import blind_faults_5
from tests.blind_runs import OCAMBA, judge_batch, run_batch

ONLY: dict[str, tuple[str, ...]] = {
    # 150 requests a minute: the whole kit would wait minutes on its 429s
    "ocamba-remaining-off-by-one": ("rate-limit",),
    "ocamba-desc-name-sort-ignored": ("listing",),
    OCAMBA: ("listing",),
}


def test_every_fault_of_batch_5_fails_the_kit_and_every_unbroken_spec_passes_it() -> None:
    reports = run_batch(blind_faults_5.FAULTS, blind_faults_5.real_app, blind_faults_5.KEY, ONLY)
    judge_batch(blind_faults_5.FAULTS, reports, {})
