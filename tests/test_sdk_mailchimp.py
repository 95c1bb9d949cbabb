"""Mailchimp's official Python SDK (``mailchimp-marketing``) drives the bundled ``mailchimp``
profile over real HTTP: the client is configured exactly as in production
(``set_config({"api_key": KEY, "server": "us1"})``, HTTP Basic ``anystring:KEY``), and the one
change is its host, ``client.api_client.host``, pointed at the mock on a loopback port."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import mailchimp_marketing as MailchimpMarketing  # type: ignore[import-untyped]
import pytest
from mailchimp_marketing.api_client import ApiClientError  # type: ignore[import-untyped]

from campaign_mock.conformance.runner import CheckRequest, run_check
from campaign_mock.server.run.assembly import assemble
from campaign_mock.server.run.config import ServeSettings
from campaign_mock.server.run.threaded import ThreadedServer
from tests.sdk_mock import Mock, served

KEY = "0123456789abcdef0123456789abcdef-us1"
HEX_ID = re.compile(r"[0-9a-f]{10}")
PROBLEM = {"type", "title", "status", "detail", "instance"}


def sdk_client(root: str, key: str = KEY) -> Any:
    """The SDK as production configures it; only the host differs (the SDK has no other knob
    for it: it builds ``https://server.api.mailchimp.com/3.0`` and puts ``server`` in)."""
    client = MailchimpMarketing.Client()
    client.set_config({"api_key": key, "server": "us1"})
    client.api_client.host = f"{root}/3.0"
    return client


@pytest.fixture
def mock() -> Iterator[Mock]:
    with served("mailchimp", KEY, sdk_client) as running:
        yield running


def refused(call: Any, *args: Any) -> tuple[int, dict[str, Any]]:
    """The SDK's own error for ``call(*args)``: its status and the problem details it carries
    (the SDK hands ``application/problem+json`` over as text)."""
    with pytest.raises(ApiClientError) as caught:
        call(*args)
    text = caught.value.text
    return int(caught.value.status_code), json.loads(text) if isinstance(text, str) else text


def create(mock: Mock, title: str = "Spring sale", **members: Any) -> dict[str, Any]:
    body = {"type": "regular", "settings": {"subject_line": title, "title": title}, **members}
    campaign: dict[str, Any] = mock.client.campaigns.create(body)
    return campaign


def quarter_hour_after(moment: datetime, hours: int = 2) -> str:
    later = (moment + timedelta(hours=hours)).replace(minute=15, second=0, microsecond=0)
    return later.isoformat()


def test_the_sdk_creates_a_saved_campaign_with_a_ten_hex_id_and_reads_it_back(mock: Mock) -> None:
    created = create(mock, recipients={"list_id": "57afe96172"})
    read = mock.client.campaigns.get(created["id"])
    assert HEX_ID.fullmatch(created["id"]), created["id"]
    assert created["status"] == "save"
    assert created["emails_sent"] == 0
    assert "send_time" not in created
    assert datetime.fromisoformat(created["create_time"].replace("Z", "+00:00")) == mock.now()
    assert read == created


def test_the_sdk_updates_settings_and_reads_only_the_fields_it_names(mock: Mock) -> None:
    campaign = create(mock)
    updated = mock.client.campaigns.update(campaign["id"], {"settings": {"subject_line": "Summer sale"}})
    projected = mock.client.campaigns.get(campaign["id"], fields=["id", "settings.subject_line"])
    excluded = mock.client.campaigns.get(campaign["id"], exclude_fields=["settings", "tracking", "recipients"])
    assert updated["settings"]["subject_line"] == "Summer sale"
    assert projected == {"id": campaign["id"], "settings": {"subject_line": "Summer sale"}}
    assert "settings" not in excluded
    assert excluded["status"] == "save"


def test_the_sdk_lists_by_status_count_offset_sort_and_fields(mock: Mock) -> None:
    first, second, third = (create(mock, title) for title in ("first", "second", "third"))
    mock.advance(60)
    mock.client.campaigns.send(second["id"])
    campaigns = mock.client.campaigns
    everything = campaigns.list()
    saved = campaigns.list(status="save")
    newest_first = campaigns.list(sort_field="create_time", sort_dir="DESC")
    page = campaigns.list(count=1, offset=1)
    projected = campaigns.list(fields=["campaigns.id", "total_items"], status="sending")
    assert everything["total_items"] == 3
    assert [c["id"] for c in everything["campaigns"]] == [first["id"], second["id"], third["id"]]
    assert [c["id"] for c in saved["campaigns"]] == [first["id"], third["id"]]
    assert saved["total_items"] == 2
    assert [c["id"] for c in newest_first["campaigns"]] == [third["id"], second["id"], first["id"]]
    assert (page["total_items"], [c["id"] for c in page["campaigns"]]) == (3, [second["id"]])
    assert projected == {"campaigns": [{"id": second["id"]}], "total_items": 1}


def test_schedule_in_the_past_or_off_the_quarter_hour_raises_the_sdks_error_with_400(mock: Mock) -> None:
    campaign = create(mock)
    now = mock.now()
    past = refused(mock.client.campaigns.schedule, campaign["id"], {"schedule_time": quarter_hour_after(now, -3)})
    off_grid_time = (now + timedelta(hours=2)).replace(minute=7, second=0, microsecond=0).isoformat()
    off_grid = refused(mock.client.campaigns.schedule, campaign["id"], {"schedule_time": off_grid_time})
    missing = refused(mock.client.campaigns.schedule, campaign["id"], {})
    for status, problem in (past, off_grid, missing):
        assert status == 400
        assert set(problem) == PROBLEM
        assert problem["status"] == 400
    assert "quarter-hour" in off_grid[1]["detail"]
    assert mock.client.campaigns.get(campaign["id"])["status"] == "save"


def test_a_scheduled_campaign_pauses_resumes_unschedules_and_starts_sending_at_its_time(mock: Mock) -> None:
    campaigns = mock.client.campaigns
    campaign = create(mock)
    when = quarter_hour_after(mock.now())
    scheduled = campaigns.schedule(campaign["id"], {"schedule_time": when})
    after_schedule = campaigns.get(campaign["id"])
    campaigns.pause(campaign["id"])
    paused = campaigns.get(campaign["id"])["status"]
    campaigns.resume(campaign["id"])
    resumed = campaigns.get(campaign["id"])["status"]
    campaigns.unschedule(campaign["id"])
    unscheduled = campaigns.get(campaign["id"])["status"]
    campaigns.schedule(campaign["id"], {"schedule_time": when})
    mock.advance((datetime.fromisoformat(when) - mock.now()).total_seconds() + 1)
    started = campaigns.get(campaign["id"])["status"]
    assert (scheduled.status_code, scheduled.content) == (204, b"")
    assert after_schedule["status"] == "schedule"
    assert datetime.fromisoformat(after_schedule["send_time"].replace("Z", "+00:00")) == datetime.fromisoformat(when)
    assert (paused, resumed, unscheduled, started) == ("paused", "schedule", "save", "sending")


def test_send_stamps_send_time_and_the_clock_delivers_it_five_minutes_later(mock: Mock) -> None:
    campaigns = mock.client.campaigns
    campaign = create(mock)
    mock.advance(30)
    sent_at = mock.now()
    answer = campaigns.send(campaign["id"])
    sending = campaigns.get(campaign["id"])
    mock.advance(5 * 60 + 1)
    delivered = campaigns.get(campaign["id"])
    assert (answer.status_code, answer.content) == (204, b"")
    assert sending["status"] == "sending"
    assert datetime.fromisoformat(sending["send_time"].replace("Z", "+00:00")) == sent_at
    assert delivered["status"] == "sent"


def test_cancel_send_stops_a_sending_campaign_which_ends_canceled(mock: Mock) -> None:
    campaigns = mock.client.campaigns
    campaign = create(mock)
    campaigns.send(campaign["id"])
    answer = campaigns.cancel_send(campaign["id"])
    canceling = campaigns.get(campaign["id"])["status"]
    mock.advance(5 * 60 + 1)
    canceled = campaigns.get(campaign["id"])["status"]
    assert answer.status_code == 204
    assert (canceling, canceled) == ("canceling", "canceled")


def test_replicate_answers_a_new_saved_campaign_copied_from_a_sent_one(mock: Mock) -> None:
    campaigns = mock.client.campaigns
    source = create(mock, "Spring sale", recipients={"list_id": "57afe96172"})
    campaigns.send(source["id"])
    mock.advance(5 * 60 + 1)
    copy = campaigns.replicate(source["id"])
    listed = campaigns.list()
    assert HEX_ID.fullmatch(copy["id"])
    assert copy["id"] != source["id"]
    assert copy["status"] == "save"
    assert copy["settings"] == source["settings"]
    assert copy["recipients"] == {"list_id": "57afe96172"}
    assert copy["emails_sent"] == 0
    assert "send_time" not in copy
    assert campaigns.get(source["id"])["status"] == "sent"
    assert listed["total_items"] == 2


def test_forbidden_moves_raise_the_sdks_error_with_400_and_change_nothing(mock: Mock) -> None:
    campaigns = mock.client.campaigns
    campaign = create(mock)
    campaigns.send(campaign["id"])
    before = campaigns.get(campaign["id"])
    answers = {
        "send again": refused(campaigns.send, campaign["id"]),
        "unschedule": refused(campaigns.unschedule, campaign["id"]),
        "resume": refused(campaigns.resume, campaign["id"]),
        "replicate while sending": refused(campaigns.replicate, campaign["id"]),
        "delete while sending": refused(campaigns.remove, campaign["id"]),
        "update while sending": refused(campaigns.update, campaign["id"], {"settings": {"title": "x"}}),
    }
    for label, (status, problem) in answers.items():
        assert status == 400, label
        assert set(problem) == PROBLEM, label
        assert problem["status"] == 400, label
    assert "send" in answers["send again"][1]["detail"]
    assert campaigns.get(campaign["id"]) == before


def test_delete_removes_the_campaign_and_a_later_read_raises_404(mock: Mock) -> None:
    campaigns = mock.client.campaigns
    campaign = create(mock)
    deleted = campaigns.remove(campaign["id"])
    status, problem = refused(campaigns.get, campaign["id"])
    unknown = refused(campaigns.send, "0000000000")
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert (status, problem["status"]) == (404, 404)
    assert set(problem) == PROBLEM
    assert unknown[0] == 404
    assert campaigns.list()["total_items"] == 0


def test_a_wrong_key_raises_401_in_problem_details(mock: Mock) -> None:
    stranger = sdk_client(mock.root, key="ffffffffffffffffffffffffffffffff-us1")
    status, problem = refused(stranger.campaigns.list)
    assert (status, problem["status"]) == (401, 401)
    assert set(problem) == PROBLEM
    assert problem["type"].startswith("https://mailchimp.com/")


def test_the_kit_finds_the_mock_conformant_to_the_mailchimp_profile() -> None:
    """The same profile judged by ``check``, on a mock whose clock runs (the kit waits for timers)."""
    settings = ServeSettings(spec="mailchimp", port=0, log_requests=False, api_keys=[KEY])
    with ThreadedServer(assemble(settings).app, threads=settings.effective_threads()) as server:
        request = CheckRequest(spec="mailchimp", base_url=server.base_url, api_key=KEY, max_examples=5)
        report = run_check(replace(request, timer_step_seconds=0.6), progress=lambda line: None)
    assert report.conformant, [(o.rule, o.operation, o.received[:200]) for o in report.failures][:5]
    assert not report.unchecked_groups
