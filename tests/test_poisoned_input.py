"""Input that could be stored but never written out again, or that breaks a conversion, is
refused with a 400 before anything is stored; every encoder is total; bounds hold.

Each of these answered 500 once (a lone surrogate even stored the campaign first, after
which every list answered 500).
"""

from __future__ import annotations

import json
import time
from typing import Any

import falcon.testing
import pytest

from campaign_mock.contract.jsontext import json_bytes
from campaign_mock.server.run.assembly import assemble
from campaign_mock.server.run.config import ServeSettings
from campaign_mock.server.traffic.journal import MAX_BODY_BYTES, JournalEntry, RequestJournal
from campaign_mock.server.web.bodies import RequestBody
from campaign_mock.server.web.xmlbodies import parse_xml_tree
from tests.conftest import AUTH, START, ClientFactory, create, local_client

JSON = {**AUTH, "Content-Type": "application/json"}


def total(client: falcon.testing.TestClient) -> int:
    listed = client.simulate_get("/campaigns", headers=AUTH)
    assert listed.status_code == 200, listed.text
    count: int = listed.json["pagination"]["total"]
    return count


def test_a_lone_surrogate_in_a_create_is_refused_and_nothing_is_stored(client: falcon.testing.TestClient) -> None:
    result = client.simulate_post("/campaigns", body=b'{"name": "\\ud800"}', headers=JSON)
    assert result.status_code == 400
    assert result.headers["content-type"] == "application/problem+json"
    assert "lone surrogate (\\ud800) at /name" in result.json["detail"]
    assert total(client) == 0


def test_a_lone_surrogate_in_a_pause_reason_changes_nothing(client: falcon.testing.TestClient) -> None:
    campaign = create(client)
    client.simulate_post(f"/campaigns/{campaign['id']}/activate", headers=AUTH)
    refused = client.simulate_post(f"/campaigns/{campaign['id']}/pause", body=b'{"reason": "\\udfff"}', headers=JSON)
    assert refused.status_code == 400
    assert "at /reason" in refused.json["detail"]
    assert client.simulate_get(f"/campaigns/{campaign['id']}", headers=AUTH).json["status"] == "active"
    events = client.simulate_get(f"/campaigns/{campaign['id']}/events", headers=AUTH)
    assert (events.status_code, [e["action"] for e in events.json["data"]]) == (200, ["activate"])


def test_a_surrogate_pair_is_a_character_and_is_accepted(client: falcon.testing.TestClient) -> None:
    result = client.simulate_post("/campaigns", body=b'{"name": "launch \\ud83d\\ude80"}', headers=JSON)
    assert result.status_code == 201
    assert result.json["name"] == "launch \U0001f680"
    assert total(client) == 1


@pytest.mark.parametrize(
    "query",
    ["limit=" + "9" * 5000, "offset=" + "1" * 400 + ".0", "limit=²", "offset=1e400", "limit=" + "1" * 400],
    ids=["5000 nines", "400 ones and .0", "superscript two", "1e400", "400 ones"],
)
def test_a_huge_or_odd_integer_in_the_query_answers_400_naming_it(
    client: falcon.testing.TestClient, query: str
) -> None:
    result = client.simulate_get("/campaigns", query_string=query, headers=AUTH)
    assert result.status_code == 400, result.text
    assert result.json["errors"][0]["name"] == query.split("=", maxsplit=1)[0]
    assert len(result.json["detail"]) < 400


def test_a_number_too_large_for_a_float_answers_400(client: falcon.testing.TestClient) -> None:
    body = b'{"name": "x", "settings": {"daily_limit": 1e400}}'
    result = client.simulate_post("/campaigns", body=body, headers=JSON)
    assert result.status_code == 400
    assert "too large" in result.json["detail"]
    assert total(client) == 0


def test_every_encoder_writes_a_string_utf8_cannot_hold() -> None:
    written = json_bytes({"name": "\ud800"})
    assert json.loads(written) == {"name": "\ud800"}  # valid JSON, with the character escaped


def altcraft() -> falcon.testing.TestClient:
    return local_client(assemble(ServeSettings(spec="altcraft", log_requests=False)).app)


@pytest.mark.parametrize(
    "element", ["²", "9" * 5000, "-" + "1" * 400, "1e400", "nan"], ids=["superscript", "5000", "400", "1e400", "nan"]
)
def test_an_xml_id_that_is_no_integer_answers_400(element: str) -> None:
    body = f"<xml><token>demo-key</token><id>{element}</id></xml>".encode()
    result = altcraft().simulate_post(
        "/api/v1.1/scampaigns/get", body=body, headers={"Content-Type": "application/xml"}
    )
    assert result.status_code == 400, result.text


def test_an_empty_xml_body_is_read_like_an_empty_json_object() -> None:
    client = altcraft()
    as_json = client.simulate_post("/api/v1.1/scampaigns/list", json={}, headers={"Authorization": "Bearer demo-key"})
    as_xml = client.simulate_post(
        "/api/v1.1/scampaigns/list",
        body=b"<xml/>",
        headers={"Authorization": "Bearer demo-key", "Content-Type": "application/xml"},
    )
    assert (as_json.status_code, as_xml.status_code) == (200, 200), as_xml.text


def test_a_dtd_body_carrying_the_token_answers_400_naming_the_dtd() -> None:
    body = b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY e "x">]><xml><token>demo-key</token><id>1</id></xml>'
    result = altcraft().simulate_post(
        "/api/v1.1/scampaigns/get", body=body, headers={"Content-Type": "application/xml"}
    )
    assert result.status_code == 400, result.text
    assert "not readable XML" in result.text


def _xml_parse_seconds(count: int) -> float:
    body = b"<xml>" + b"<item>1</item>" * count + b"</xml>"
    started = time.perf_counter()
    parse_xml_tree(body)
    return time.perf_counter() - started


def test_xml_parsing_grows_linearly_with_repeated_elements() -> None:
    """65,000 repeated elements took 3.2 s when each repeat copied the list so far (quadratic):
    ten times the elements must cost about ten times as much, not a hundred."""
    small = min(_xml_parse_seconds(6_500) for _ in range(3))
    large = min(_xml_parse_seconds(65_000) for _ in range(3))
    assert large < small * 30, (small, large)


def test_a_body_is_parsed_once_however_often_it_is_read() -> None:
    body = RequestBody("application/json", b'{"token": "k", "name": "x"}')
    assert body.tree() is body.tree()
    assert body.member("token") == "k"


def test_the_journal_stays_within_its_byte_bound_and_keeps_the_start_of_large_bodies() -> None:
    journal = RequestJournal(capacity=1000, max_bytes=8 * 1024 * 1024)
    mebibyte = b"x" * (1024 * 1024)
    for _ in range(500):
        journal.record(
            JournalEntry(
                START,
                "POST",
                "/campaigns",
                "",
                201,
                {},
                mebibyte[:MAX_BODY_BYTES],
                1.0,
                None,
                None,
                len(mebibyte),
            )
        )
        assert journal.bytes_held <= 8 * 1024 * 1024
    entries, kept = journal.entries(limit=1000)
    assert 0 < kept < 500
    assert entries[0].as_dict()["body_truncated"] is True
    assert entries[0].as_dict()["body_bytes"] == len(mebibyte)


def test_the_mock_holds_at_most_max_campaigns_and_says_so_in_the_error_format(make_client: ClientFactory) -> None:
    client = make_client(max_campaigns=3)
    for _ in range(3):
        create(client)
    refused = client.simulate_post("/campaigns", json={"name": "one too many"}, headers=AUTH)
    assert refused.status_code == 507
    assert refused.headers["content-type"] == "application/problem+json"
    assert "--max-campaigns" in refused.json["detail"]
    assert total(client) == 3
    seeded = client.simulate_post("/__admin/campaigns", json={"campaigns": [{"name": "seed"}]})
    assert seeded.status_code == 507
    assert total(client) == 3


def test_a_history_holds_at_most_max_events_and_a_refused_move_changes_nothing(make_client: ClientFactory) -> None:
    client = make_client(max_events=3)
    campaign_id = create(client)["id"]
    for action in ("activate", "pause", "resume"):
        assert client.simulate_post(f"/campaigns/{campaign_id}/{action}", headers=AUTH).status_code == 200
    refused = client.simulate_post(f"/campaigns/{campaign_id}/pause", headers=AUTH)
    assert refused.status_code == 507
    assert "--max-events" in refused.json["detail"]
    assert client.simulate_get(f"/campaigns/{campaign_id}", headers=AUTH).json["status"] == "active"


def test_events_are_paged_like_the_list(client: falcon.testing.TestClient) -> None:
    campaign_id = create(client)["id"]
    client.simulate_post(f"/campaigns/{campaign_id}/activate", headers=AUTH)
    for _ in range(3):
        client.simulate_post(f"/campaigns/{campaign_id}/pause", headers=AUTH)
        client.simulate_post(f"/campaigns/{campaign_id}/resume", headers=AUTH)
    page = client.simulate_get(f"/campaigns/{campaign_id}/events", query_string="limit=2&offset=1", headers=AUTH)
    assert page.status_code == 200
    assert [event["action"] for event in page.json["data"]] == ["pause", "resume"]
    assert page.json["pagination"] == {"total": 7, "limit": 2, "offset": 1, "has_more": True}
    too_many = client.simulate_get(f"/campaigns/{campaign_id}/events", query_string="limit=100000", headers=AUTH)
    assert too_many.status_code == 400


def _seed(client: falcon.testing.TestClient, *campaigns: dict[str, Any]) -> falcon.testing.Result:
    return client.simulate_post("/__admin/campaigns", json={"campaigns": list(campaigns)})


def test_integer_ids_continue_after_the_highest_seeded_one() -> None:
    client = altcraft()
    assert _seed(client, {"id": 7, "name": "seeded"}).status_code == 201
    added = client.simulate_post("/api/v1.1/scampaigns/add", json={"token": "demo-key", "name": "next"})
    assert (added.status_code, added.json["data"]["id"]) == (200, 8)
