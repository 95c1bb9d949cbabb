"""Faults repeat with their seed; the clock freezes, moves and resets as documented."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from campaign_mock.server.domain.clock import ControllableClock
from campaign_mock.server.traffic.faults import FaultPlan, FaultRule

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_the_same_seed_gives_the_same_faults_in_the_same_order() -> None:
    rules = [FaultRule(operation="*", latency_ms=10, latency_max_ms=500, error_rate=0.3, drop_rate=0.1)]
    first = [FaultPlan(rules, seed=42).decide("getCampaign") for _ in range(1)]
    plan_a, plan_b = FaultPlan(rules, seed=42), FaultPlan(rules, seed=42)
    run_a = [plan_a.decide("getCampaign") for _ in range(50)]
    run_b = [plan_b.decide("getCampaign") for _ in range(50)]
    assert run_a == run_b
    assert run_a[0] == first[0]
    assert len({decision.latency_seconds for decision in run_a}) > 40
    assert any(decision.error_status == 503 for decision in run_a)
    assert any(decision.drop for decision in run_a)
    assert [FaultPlan(rules, seed=7).decide("x") for _ in range(50)] != run_a


def test_an_operation_rule_wins_over_the_wildcard() -> None:
    plan = FaultPlan([FaultRule(operation="*", error_rate=1.0), FaultRule(operation="getCampaign", latency_ms=5)])
    assert plan.decide("getCampaign").error_status is None
    assert plan.decide("listCampaigns").error_status == 503


def test_a_frozen_clock_moves_only_when_told() -> None:
    ticks = iter([T0 + timedelta(seconds=n) for n in range(100)])
    clock = ControllableClock(start=T0, frozen=True, source=lambda: next(ticks))
    assert clock.now() == clock.now() == T0
    clock.advance(timedelta(hours=1))
    assert clock.now() == T0 + timedelta(hours=1)
    clock.reset()
    assert clock.now() == T0


def test_a_running_clock_keeps_its_offset_after_set() -> None:
    real = [T0]
    clock = ControllableClock(source=lambda: real[0])
    clock.set(T0 + timedelta(days=1))
    real[0] = T0 + timedelta(seconds=5)
    assert clock.now() == T0 + timedelta(days=1, seconds=5)
    clock.freeze()
    real[0] = T0 + timedelta(seconds=50)
    assert clock.now() == T0 + timedelta(days=1, seconds=5)
    clock.unfreeze()
    real[0] = T0 + timedelta(seconds=60)
    assert clock.now() == T0 + timedelta(days=1, seconds=15)
