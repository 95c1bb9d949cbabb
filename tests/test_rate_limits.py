"""Rate limits: several windows, both algorithms, the clock drives them, 429 + Retry-After."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import requests
import yaml

from campaign_mock.server.domain.clock import ControllableClock
from campaign_mock.server.domain.ids import RandomIds
from campaign_mock.server.run.assembly import load_checked_contract
from campaign_mock.server.run.threaded import ThreadedServer
from campaign_mock.server.traffic.concurrency import ConcurrencyLimit
from campaign_mock.server.traffic.faults import FaultRule
from campaign_mock.server.traffic.ratelimit import FixedWindowLimiter, TokenBucketLimiter, Window, parse_windows
from campaign_mock.server.traffic.traffic import RateLimitPolicy
from campaign_mock.server.web.app import AppOptions, create_app
from tests.cli_process import serving
from tests.conftest import AUTH, CANONICAL_SPEC, KEY, ClientFactory

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_windows_parse_from_the_documented_forms() -> None:
    assert parse_windows("10/s,150/min") == (Window(10, 1), Window(150, 60))
    assert parse_windows(["5/10s", "1000/hour"]) == (Window(5, 10), Window(1000, 3600))


@pytest.mark.parametrize("text", ["", "ten/s", "10/fortnight", "0/s"])
def test_a_malformed_window_is_refused_with_an_example(text: str) -> None:
    with pytest.raises(ValueError, match="like 10/s"):
        parse_windows(text)


def test_fixed_windows_count_all_windows_and_reset_when_theirs_ends() -> None:
    limiter = FixedWindowLimiter(parse_windows("2/s,3/min"))
    assert [limiter.hit("k", T0).allowed for _ in range(3)] == [True, True, False]
    blocked = limiter.hit("k", T0)
    assert blocked.retry_after == 1
    later = T0 + timedelta(seconds=1)
    assert limiter.hit("k", later).allowed
    minute_blocked = limiter.hit("k", later)
    assert not minute_blocked.allowed
    assert minute_blocked.retry_after == 59
    assert limiter.hit("other", later).allowed


def test_a_token_bucket_refills_evenly() -> None:
    limiter = TokenBucketLimiter(parse_windows("2/s"))
    assert [limiter.hit("k", T0).allowed for _ in range(3)] == [True, True, False]
    assert limiter.hit("k", T0).retry_after == 1
    assert limiter.hit("k", T0 + timedelta(milliseconds=500)).allowed
    assert not limiter.hit("k", T0 + timedelta(milliseconds=500)).allowed


def test_over_the_limit_answers_429_with_retry_after_and_the_clock_lets_it_pass_again(
    make_client: ClientFactory, clock: ControllableClock
) -> None:
    client = make_client(rate_limit=RateLimitPolicy(windows=parse_windows("2/s")))
    answers = [client.simulate_get("/campaigns", headers=AUTH) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    limited = answers[2]
    assert limited.headers["retry-after"] == "1"
    assert limited.headers["content-type"] == "application/problem+json"
    assert limited.json["status"] == 429
    assert answers[0].headers["ratelimit-policy"] == '"2-per-1s";q=2;w=1'
    assert answers[0].headers["ratelimit"] == '"2-per-1s";r=1;t=1'
    clock.advance(timedelta(seconds=1))
    assert client.simulate_get("/campaigns", headers=AUTH).status_code == 200


def test_legacy_headers_can_be_left_off_the_429(make_client: ClientFactory) -> None:
    policy = RateLimitPolicy(windows=parse_windows("1/s"), headers="legacy", headers_on_429=False)
    client = make_client(rate_limit=policy)
    first = client.simulate_get("/campaigns", headers=AUTH)
    assert (first.headers["x-ratelimit-limit"], first.headers["x-ratelimit-remaining"]) == ("1", "0")
    assert first.headers["x-ratelimit-reset"] == "1"
    limited = client.simulate_get("/campaigns", headers=AUTH)
    assert limited.status_code == 429
    assert "x-ratelimit-limit" not in limited.headers
    assert limited.headers["retry-after"] == "1"


def test_scope_operation_counts_each_operation_apart(make_client: ClientFactory) -> None:
    client = make_client(rate_limit=RateLimitPolicy(windows=parse_windows("1/s"), scope="operation"))
    assert client.simulate_get("/campaigns", headers=AUTH).status_code == 200
    assert client.simulate_get("/campaigns/none", headers=AUTH).status_code == 404
    assert client.simulate_get("/campaigns", headers=AUTH).status_code == 429


def test_the_served_spec_states_the_limits_and_documents_429_everywhere_limited(make_client: ClientFactory) -> None:
    client = make_client(rate_limit=RateLimitPolicy(windows=parse_windows("10/s,150/min")))
    served = yaml.safe_load(client.simulate_get("/openapi.yaml").text)
    assert served["x-rate-limit"]["windows"] == ["10/1s", "150/60s"]
    for item in served["paths"].values():
        for method in ("get", "post", "patch", "delete"):
            if method in item:  # every limited operation refers to the one 429 component
                assert item[method]["responses"]["429"] == {"$ref": "#/components/responses/MockTooManyRequests"}
    too_many = served["components"]["responses"]["MockTooManyRequests"]
    assert too_many["headers"]["Retry-After"]["required"] is True
    assert "application/problem+json" in too_many["content"]


def test_a_spec_without_limits_serves_no_429_and_no_extension(make_client: ClientFactory) -> None:
    served = yaml.safe_load(make_client().simulate_get("/openapi.yaml").text)
    assert "x-rate-limit" not in served
    assert "429" not in served["paths"]["/campaigns"]["get"]["responses"]


def test_serve_with_a_rate_limit_answers_a_burst_with_429_then_200_after_retry_after() -> None:
    with serving("--rate-limit", "5/s", "--no-request-log") as served, requests.Session() as http:
        http.headers.update({"Authorization": "Bearer demo-key"})
        burst = [http.get(f"{served.url}/campaigns", timeout=10) for _ in range(8)]
        limited = [answer for answer in burst if answer.status_code == 429]
        assert limited, [answer.status_code for answer in burst]
        retry_after = int(limited[0].headers["Retry-After"])
        assert retry_after == 1
        time.sleep(retry_after)
        assert http.get(f"{served.url}/campaigns", timeout=10).status_code == 200
        served.interrupt()


def test_concurrency_limit_lets_one_through_queues_one_and_rejects_the_rest() -> None:
    options = AppOptions(
        api_keys=[KEY],
        log_requests=False,
        rate_limit=RateLimitPolicy(concurrency=ConcurrencyLimit(limit=1, queue=1, wait_seconds=2.0)),
        faults=[FaultRule(operation="listCampaigns", latency_ms=400)],
    )
    app = create_app(load_checked_contract(str(CANONICAL_SPEC)), options, clock=ControllableClock(), ids=RandomIds())
    with ThreadedServer(app, threads=8) as server, ThreadPoolExecutor(4) as pool:
        answers = list(
            pool.map(lambda _: requests.get(f"{server.base_url}/campaigns", headers=AUTH, timeout=10), range(4))
        )
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200, 200, 429, 429]
    rejected = next(answer for answer in answers if answer.status_code == 429)
    assert rejected.headers["Retry-After"] == "2"
    assert "in progress" in rejected.json()["detail"]
