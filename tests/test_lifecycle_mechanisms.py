"""What a vendor's lifecycle needs beyond routing, written as contract data and served by the
mock: copies, refusals, actions that stamp the time with a delayed timer to finish the move,
deletes refused in some states, a create that answers only the id, 204 answers, and a
conflict message that reads for any action name."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from campaign_mock.contract.errors import ContractError
from campaign_mock.contract.ids import id_style
from campaign_mock.contract.lifecycle import parse_lifecycle
from campaign_mock.server.domain.errors import InvalidBody, NotFound
from campaign_mock.server.domain.ids import ids_for
from campaign_mock.server.run.assembly import assemble
from campaign_mock.server.run.config import ServeSettings
from campaign_mock.server.run.threaded import ThreadedServer
from campaign_mock.server.web.error_formats import TemplateFormat
from campaign_mock.server.web.validation import SchemaCompiler
from tests.lifecycle_variant import write_variant

KEY = "mechanism-key"


@dataclass
class Mock:
    base: str
    http: requests.Session

    def create(self, **fields: Any) -> str:
        answer = self.http.post(f"{self.base}/campaigns", json={"name": "Base", **fields}, timeout=10)
        assert answer.status_code == 201, answer.text
        return str(answer.json()["id"])

    def read(self, campaign_id: str) -> dict[str, Any]:
        answer = self.http.get(f"{self.base}/campaigns/{campaign_id}", timeout=10)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def post(self, campaign_id: str, action: str, body: Any = None) -> requests.Response:
        return self.http.post(f"{self.base}/campaigns/{campaign_id}/{action}", json=body, timeout=10)

    def clock(self) -> str:
        return str(self.http.get(f"{self.base}/__admin/clock", timeout=10).json()["now"])

    def advance(self, seconds: int) -> None:
        self.http.post(f"{self.base}/__admin/clock/advance", json={"seconds": seconds}, timeout=10).raise_for_status()


@pytest.fixture(scope="module")
def mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mock]:
    spec = write_variant(tmp_path_factory.mktemp("variant"))
    assembled = assemble(ServeSettings(spec=str(spec), api_keys=[KEY], log_requests=False, port=0))
    with ThreadedServer(assembled.app) as server, requests.Session() as http:
        http.headers.update({"Authorization": f"Bearer {KEY}"})
        frozen = {"now": "2026-12-03T10:07:00Z", "frozen": True}
        http.put(f"{server.base_url}/__admin/clock", json=frozen, timeout=10).raise_for_status()
        yield Mock(server.base_url, http)


def test_a_create_can_answer_only_the_new_id(mock: Mock) -> None:
    answer = mock.http.post(f"{mock.base}/campaigns", json={"name": "Only id"}, timeout=10)
    assert answer.status_code == 201
    assert list(answer.json()) == ["id"]
    assert mock.read(answer.json()["id"])["name"] == "Only id"


def test_a_copy_is_a_new_campaign_in_the_initial_state_with_the_reset_members_reset(mock: Mock) -> None:
    source = mock.create(goal="sales", end_at="2027-01-01T00:00:00Z")
    assert mock.post(source, "activate").status_code == 200
    assert mock.post(source, "pause").status_code == 200
    answer = mock.post(source, "duplicate")
    assert answer.status_code == 201, answer.text
    made = answer.json()
    assert made["id"] != source
    assert made["status"] == "draft"
    assert made["goal"] == "sales"
    assert made["end_at"] is None
    assert made["name"] == "Copy of Base", "a reset text names the source's members"
    assert answer.headers["Location"].endswith(f"/campaigns/{made['id']}")
    assert mock.read(source)["status"] == "paused", "the source is not changed"
    assert mock.read(source)["end_at"] == "2027-01-01T00:00:00Z"


def test_a_copy_of_a_missing_campaign_is_404_and_from_a_state_not_listed_the_conflict_status(mock: Mock) -> None:
    assert mock.post("cmp_missing", "duplicate").status_code == 404
    source = mock.create()
    assert mock.post(source, "activate").status_code == 200
    refused = mock.post(source, "duplicate")
    assert refused.status_code == 409
    assert refused.json()["current_status"] == "active"


def test_a_copy_named_by_an_action_member_answers_204_and_the_copy_exists(mock: Mock) -> None:
    source = mock.create(name="Via status")
    before = mock.http.get(f"{mock.base}/campaigns", params={"limit": 100}, timeout=10).json()["pagination"]["total"]
    answer = mock.http.put(f"{mock.base}/campaigns/{source}/status", json={"status": "duplicate"}, timeout=10)
    assert answer.status_code == 204
    assert answer.content == b""
    after = mock.http.get(f"{mock.base}/campaigns", params={"limit": 100}, timeout=10).json()
    assert after["pagination"]["total"] == before + 1
    assert {"Via status", "Copy of Via status"} <= {item["name"] for item in after["data"]}


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({}, "start_at is required to schedule."),
        ({"start_at": "2020-01-01T00:00:00Z"}, "start_at must be in the future."),
        ({"start_at": "2030-01-01T09:10:00Z"}, "start_at must fall on a multiple of PT15M from midnight UTC"),
    ],
)
def test_a_refusal_answers_its_status_and_message_and_changes_nothing(
    mock: Mock, body: dict[str, Any], detail: str
) -> None:
    campaign = mock.create()
    version = mock.http.get(f"{mock.base}/campaigns/{campaign}", timeout=10).headers["ETag"]
    refused = mock.post(campaign, "schedule", body)
    assert refused.status_code == 400
    problem = refused.json()
    assert problem["type"].endswith("action-refused")
    assert problem["detail"].startswith(detail)
    after = mock.http.get(f"{mock.base}/campaigns/{campaign}", timeout=10)
    assert after.headers["ETag"] == version
    assert after.json()["status"] == "draft"
    assert mock.http.get(f"{mock.base}/campaigns/{campaign}/events", timeout=10).json()["data"] == []


def test_a_time_on_the_grid_in_the_future_passes_the_refusals_and_is_stored(mock: Mock) -> None:
    campaign = mock.create()
    moved = mock.post(campaign, "schedule", {"start_at": "2030-01-01T09:15:00+01:00"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["status"] == "scheduled"
    assert moved.json()["start_at"] == "2030-01-01T08:15:00Z"


def test_an_action_stamps_its_member_and_a_delayed_timer_finishes_the_move(mock: Mock) -> None:
    campaign = mock.create()
    now = mock.clock()
    sent = mock.post(campaign, "send")
    assert sent.status_code == 200
    assert sent.json()["status"] == "sending"
    assert sent.json()["sent_at"] == now
    mock.advance(9 * 60)
    assert mock.read(campaign)["status"] == "sending"
    mock.advance(61)
    assert mock.read(campaign)["status"] == "completed"
    events = mock.http.get(f"{mock.base}/campaigns/{campaign}/events", timeout=10).json()["data"]
    assert [(event["action"], event["to"]) for event in events] == [("send", "sending"), ("delivered", "completed")]


def test_a_delete_is_refused_with_its_status_in_a_state_not_listed(mock: Mock) -> None:
    campaign = mock.create()
    assert mock.post(campaign, "activate").status_code == 200
    refused = mock.http.delete(f"{mock.base}/campaigns/{campaign}", timeout=10)
    assert refused.status_code == 403
    assert refused.json()["current_status"] == "active"
    assert mock.read(campaign)["status"] == "active"
    draft = mock.create()
    assert mock.http.delete(f"{mock.base}/campaigns/{draft}", timeout=10).status_code == 204


def test_the_conflict_message_reads_for_any_action_name(mock: Mock) -> None:
    campaign = mock.create()
    refused = mock.post(campaign, "resume")
    assert refused.json()["detail"].startswith("Action 'resume' is not allowed on a campaign that is draft;")


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"when": [{"param": "at", "refuse": 200, "before": "now"}]}, "refuse: expected a 4xx status"),
        ({"when": [{"param": "at", "refuse": 400}]}, "a refusal needs a condition"),
        ({"when": [{"param": "at", "refuse": 400, "not_multiple_of": "15 minutes"}]}, "ISO 8601 duration"),
        ({"stamps": "sent_at"}, "stamps: expected a list"),
    ],
)
def test_a_malformed_mechanism_is_refused_with_what_to_write(change: dict[str, Any], complaint: str) -> None:
    document = {
        "x-lifecycle": {"initial": "a", "transitions": {"go": {"from": ["a"], "to": "b", **change}}},
    }
    with pytest.raises(ContractError, match=complaint):
        parse_lifecycle(document)


def test_a_copy_may_not_share_a_transitions_name_and_a_timer_delay_must_be_a_duration(tmp_path: Path) -> None:
    base = {"initial": "a", "transitions": {"go": {"from": ["a"], "to": "b"}}}
    with pytest.raises(ContractError, match="also a transition"):
        parse_lifecycle({"x-lifecycle": {**base, "copies": {"go": {}}}})
    with pytest.raises(ContractError, match="delay"):
        parse_lifecycle({"x-lifecycle": {**base, "timers": [{"from": ["b"], "at": "t", "to": "a", "delay": "5m"}]}})


@pytest.mark.parametrize(
    ("ids", "pattern"),
    [
        ({"format": "hex", "length": 10}, r"[0-9a-f]{10}"),
        ({"prefix": "cmp_"}, r"cmp_[0-9a-f]{20}"),
        ({"format": "hex", "prefix": "c-", "length": 12}, r"c-[0-9a-f]{12}"),
        ({"format": "uuid"}, r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"),
    ],
)
def test_ids_take_the_style_the_contract_names(ids: dict[str, Any], pattern: str) -> None:
    generator = ids_for({"x-ids": ids})
    assert all(re.fullmatch(pattern, generator.new_id()) for _ in range(50))


@pytest.mark.parametrize(
    ("ids", "complaint"),
    [
        ({"format": "base62"}, "x-ids.format: expected one of hex, integer, uuid"),
        ({"format": "integer", "prefix": "c"}, "x-ids.prefix"),
        ({"format": "hex", "length": 4}, "x-ids.length"),
        ({"style": "hex"}, "unknown key"),
    ],
)
def test_an_id_style_that_cannot_be_served_is_refused_with_what_to_write(ids: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ContractError, match=complaint):
        id_style({"x-ids": ids})


def test_a_copy_takes_the_members_its_request_gives(mock: Mock) -> None:
    source = mock.create(name="Spring sale")
    made = mock.post(source, "duplicate", {"name": "My copy"}).json()
    assert made["name"] == "My copy"
    assert mock.read(source)["name"] == "Spring sale"


def test_an_action_resets_the_members_its_move_names(mock: Mock) -> None:
    campaign = mock.create()
    assert mock.post(campaign, "schedule", {"start_at": "2031-01-01T09:00:00Z"}).json()["status"] == "scheduled"
    moved = mock.post(campaign, "unschedule")
    assert moved.status_code == 200
    assert moved.json()["status"] == "draft"
    assert moved.json()["start_at"] is None


def test_the_now_word_is_read_as_the_current_time_and_passes_the_refusals(mock: Mock) -> None:
    on_the_grid = {"now": "2026-12-03T11:00:00Z", "frozen": True}
    mock.http.put(f"{mock.base}/__admin/clock", json=on_the_grid, timeout=10).raise_for_status()
    campaign = mock.create()
    now = mock.clock()
    moved = mock.post(campaign, "schedule", {"start_at": "now"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["start_at"] == now
    assert mock.read(campaign)["status"] == "active", "its start time has come: the clock starts it"


def test_a_request_breaking_any_checkable_format_is_refused() -> None:
    compiler = SchemaCompiler({})
    for name, bad, good in [
        ("uuid", "not-a-uuid", "9f1c2c9e-0a4b-4a8e-9d7e-2f5b8c3a1d20"),
        ("email", "nobody", "a@example.com"),
        ("date-time", "2026-13-01T00:00:00Z", "2026-12-01T00:00:00Z"),
    ]:
        validator = compiler.validator({"type": "string", "format": name})
        assert not validator.is_valid(bad), name
        assert validator.is_valid(good), name


def test_an_error_format_can_name_the_field_the_error_is_about() -> None:
    body = {"errors": [{"field": "{field}", "message": "{detail}"}]}
    fmt = TemplateFormat("sendgrid", "application/json", body)
    invalid = InvalidBody("name is too long", extra={"errors": [{"in": "body", "name": "name"}]})
    moment = datetime(2026, 12, 3, tzinfo=UTC)
    assert fmt.render(invalid, moment) == {"errors": [{"field": "name", "message": "name is too long"}]}
    assert fmt.render(NotFound("No campaign"), moment) == {"errors": [{"field": None, "message": "No campaign"}]}
