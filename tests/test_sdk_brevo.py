"""Brevo's official Python SDK (``brevo-python`` 1.x, ``import brevo_python``) drives the
bundled ``brevo`` profile over real HTTP: configured exactly as in production
(``configuration.api_key['api-key'] = KEY``), with only ``configuration.host`` pointed at the
mock on a loopback port. The SDK deserialises every answer into its own models, which refuse
a campaign missing a member Brevo always sends: a read that works proves the shape too."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import brevo_python  # type: ignore[import-untyped]
import pytest
from brevo_python.rest import ApiException  # type: ignore[import-untyped]

from campaign_mock.conformance.runner import CheckRequest, run_check
from campaign_mock.server.run.assembly import assemble
from campaign_mock.server.run.config import ServeSettings
from campaign_mock.server.run.threaded import ThreadedServer
from tests.sdk_mock import Mock, served

KEY = "xkeysib-0123456789abcdef-test"


def campaigns_api(root: str, key: str = KEY) -> Any:
    """The SDK as production configures it; only the host differs."""
    configuration = brevo_python.Configuration()
    configuration.api_key["api-key"] = key
    configuration.host = f"{root}/v3"
    return brevo_python.EmailCampaignsApi(brevo_python.ApiClient(configuration))


@pytest.fixture
def mock() -> Iterator[Mock]:
    with served("brevo", KEY, campaigns_api) as running:
        yield running


def refused(call: Any, *args: Any) -> tuple[int, dict[str, Any]]:
    """The SDK's own error for ``call(*args)``: its status and Brevo's ``{code, message}``."""
    with pytest.raises(ApiException) as caught:
        call(*args)
    return int(caught.value.status), json.loads(caught.value.body)


def create(mock: Mock, name: str = "Spring sale", **members: Any) -> int:
    sender = brevo_python.CreateEmailCampaignSender(name="Shop", email="shop@example.com")
    created = mock.client.create_email_campaign(brevo_python.CreateEmailCampaign(name=name, sender=sender, **members))
    assert isinstance(created, brevo_python.CreateModel)
    return int(created.id)


def set_status(mock: Mock, campaign_id: int, status: str) -> None:
    mock.client.update_campaign_status(campaign_id, brevo_python.UpdateCampaignStatus(status=status))


def status_of(mock: Mock, campaign_id: int) -> str:
    return str(mock.client.get_email_campaign(campaign_id).status)


def test_the_sdk_creates_campaigns_with_integer_ids_and_reads_them_into_its_models(mock: Mock) -> None:
    first = create(mock, subject="Our spring sale", html_content="<p>Hello</p>")
    second = create(mock, "Summer sale")
    campaign = mock.client.get_email_campaign(first)
    assert (first, second) == (1, 2)
    assert isinstance(campaign, brevo_python.GetEmailCampaign)
    assert (campaign.id, campaign.name, campaign.subject) == (1, "Spring sale", "Our spring sale")
    assert campaign.status == "draft"
    assert campaign.type == "classic"
    assert campaign.sender.email == "shop@example.com"
    assert campaign.html_content == "<p>Hello</p>"
    assert campaign.created_at == campaign.modified_at
    assert datetime.fromisoformat(campaign.created_at.replace("Z", "+00:00")) == mock.now()


def test_the_sdk_updates_a_campaign_with_an_empty_204_and_modified_at_moves(mock: Mock) -> None:
    campaign_id = create(mock)
    mock.advance(60)
    answer = mock.client.update_email_campaign(campaign_id, brevo_python.UpdateEmailCampaign(subject="Ends soon"))
    campaign = mock.client.get_email_campaign(campaign_id)
    assert answer is None  # the SDK's reading of a 204 without a body
    assert campaign.subject == "Ends soon"
    assert campaign.modified_at > campaign.created_at


def test_the_sdk_lists_newest_first_by_default_and_filters_pages_and_sorts(mock: Mock) -> None:
    ids = [create(mock, name) for name in ("one", "two", "three")]
    mock.advance(1)
    mock.client.send_email_campaign_now(ids[1])
    newest_first = mock.client.get_email_campaigns()
    oldest_first = mock.client.get_email_campaigns(sort="asc")
    page = mock.client.get_email_campaigns(limit=1, offset=1, sort="asc")
    drafts = mock.client.get_email_campaigns(status="draft", type="classic")
    in_process = mock.client.get_email_campaigns(status="inProcess")
    triggers = mock.client.get_email_campaigns(type="trigger")
    assert isinstance(newest_first, brevo_python.GetEmailCampaigns)
    assert (triggers.campaigns or [], triggers.count) == ([], 0), "a member filter lists only campaigns of that type"
    assert [c["id"] for c in newest_first.campaigns] == [3, 2, 1]
    assert newest_first.count == 3
    assert [c["id"] for c in oldest_first.campaigns] == [1, 2, 3]
    assert ([c["id"] for c in page.campaigns], page.count) == ([2], 3)
    assert ([c["id"] for c in drafts.campaigns], drafts.count) == ([3, 1], 2)
    assert [(c["id"], c["status"]) for c in in_process.campaigns] == [(2, "in_process")]


def test_send_now_stamps_sent_date_and_the_clock_delivers_it(mock: Mock) -> None:
    campaign_id = create(mock)
    mock.advance(30)
    sent_at = mock.now()
    answer = mock.client.send_email_campaign_now(campaign_id)
    sending = mock.client.get_email_campaign(campaign_id)
    mock.advance(5 * 60 + 1)
    assert answer is None
    assert sending.status == "in_process"
    assert datetime.fromisoformat(sending.sent_date.replace("Z", "+00:00")) == sent_at
    assert status_of(mock, campaign_id) == "sent"


def test_every_status_change_the_sdk_offers_moves_the_campaign(mock: Mock) -> None:
    campaign_id = create(mock)
    when = (mock.now() + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    mock.client.update_email_campaign(campaign_id, brevo_python.UpdateEmailCampaign(scheduled_at=when))
    seen = []
    for status in ("queued", "suspended", "draft", "queued", "suspended", "sent", "archive", "darchive"):
        set_status(mock, campaign_id, status)
        seen.append(status_of(mock, campaign_id))
    assert seen == ["queued", "suspended", "draft", "queued", "suspended", "sent", "archive", "sent"]


def test_a_queued_campaign_is_sent_at_its_scheduled_time(mock: Mock) -> None:
    campaign_id = create(mock)
    when = (mock.now() + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    mock.client.update_email_campaign(campaign_id, brevo_python.UpdateEmailCampaign(scheduled_at=when))
    set_status(mock, campaign_id, "queued")
    mock.advance(3601)
    assert status_of(mock, campaign_id) == "sent"


def test_replicate_by_status_makes_a_new_draft_copy_and_answers_204(mock: Mock) -> None:
    source = create(mock, subject="Our spring sale")
    mock.client.send_email_campaign_now(source)
    answer = mock.client.update_campaign_status(source, brevo_python.UpdateCampaignStatus(status="replicate"))
    listed = mock.client.get_email_campaigns(sort="asc")
    copy = mock.client.get_email_campaign(2)
    assert answer is None
    assert listed.count == 2
    assert (copy.status, copy.name, copy.subject) == ("draft", "Spring sale", "Our spring sale")
    assert copy.sent_date is None
    assert status_of(mock, source) == "in_process"


def test_forbidden_moves_raise_api_exception_with_400_and_not_acceptable(mock: Mock) -> None:
    campaign_id = create(mock)
    answers = {
        "archive a draft": refused(set_status, mock, campaign_id, "archive"),
        "queue without scheduledAt": refused(set_status, mock, campaign_id, "queued"),
        "suspend a draft": refused(set_status, mock, campaign_id, "suspended"),
    }
    mock.client.send_email_campaign_now(campaign_id)
    answers["send twice"] = refused(mock.client.send_email_campaign_now, campaign_id)
    for label, (status, body) in answers.items():
        assert status == 400, label
        assert set(body) == {"code", "message"}, label
    assert answers["archive a draft"][1]["code"] == "not_acceptable"
    assert answers["queue without scheduledAt"][1]["code"] == "invalid_parameter"
    assert status_of(mock, campaign_id) == "in_process"


def test_deleting_a_queued_campaign_raises_403_and_a_draft_is_deleted(mock: Mock) -> None:
    queued, draft = create(mock), create(mock, "Summer sale")
    when = (mock.now() + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    mock.client.update_email_campaign(queued, brevo_python.UpdateEmailCampaign(scheduled_at=when))
    set_status(mock, queued, "queued")
    status, body = refused(mock.client.delete_email_campaign, queued)
    deleted = mock.client.delete_email_campaign(draft)
    gone = refused(mock.client.get_email_campaign, draft)
    assert (status, body["code"]) == (403, "permission_denied")
    assert deleted is None
    assert (gone[0], gone[1]["code"]) == (404, "document_not_found")
    assert mock.client.get_email_campaigns().count == 1


def test_an_unknown_campaign_raises_404_document_not_found(mock: Mock) -> None:
    for call in (
        mock.client.get_email_campaign,
        mock.client.send_email_campaign_now,
        mock.client.delete_email_campaign,
    ):
        status, body = refused(call, 999)
        assert (status, body["code"]) == (404, "document_not_found"), call


def test_a_wrong_key_raises_401_unauthorized(mock: Mock) -> None:
    stranger = campaigns_api(mock.root, key="xkeysib-wrong")
    status, body = refused(stranger.get_email_campaigns)
    assert (status, body["code"]) == (401, "unauthorized")
    assert set(body) == {"code", "message"}


def test_the_kit_finds_the_mock_conformant_to_the_brevo_profile() -> None:
    """The same profile judged by ``check``, on a mock whose clock runs (the kit waits for timers)."""
    settings = ServeSettings(spec="brevo", port=0, log_requests=False, api_keys=[KEY])
    with ThreadedServer(assemble(settings).app, threads=settings.effective_threads()) as server:
        request = CheckRequest(spec="brevo", base_url=server.base_url, api_key=KEY, max_examples=5)
        report = run_check(replace(request, timer_step_seconds=0.6), progress=lambda line: None)
    assert report.conformant, [(o.rule, o.operation, o.received[:200]) for o in report.failures][:5]
    assert not report.unchecked_groups
