"""Edges fresh attackers found: an XML declaration naming an encoding nobody decodes, a token in
a body too broken to parse, a time that UTC cannot hold. Each is a clear 4xx or a masked
journal entry, never a 500 or a key in clear."""

from __future__ import annotations

import falcon.testing
import pytest

from campaign_mock.server.run.assembly import assemble
from campaign_mock.server.run.config import ServeSettings
from tests.conftest import AUTH, local_client

TOKEN = "alt-token-0123456789"  # noqa: S105 (a test key of the mock under test)


@pytest.fixture
def altcraft() -> falcon.testing.TestClient:
    return local_client(
        assemble(ServeSettings(spec="altcraft", api_keys=[f"{TOKEN}#view,run"], log_requests=False)).app
    )


@pytest.mark.parametrize("encoding", ["UTF-7", "x-bogus", "utf-32"])
def test_an_xml_declaration_naming_an_unreadable_encoding_is_a_400(
    altcraft: falcon.testing.TestClient, encoding: str
) -> None:
    body = f'<?xml version="1.0" encoding="{encoding}"?><xml><token>{TOKEN}</token><name>x</name></xml>'
    answer = altcraft.simulate_post(
        "/api/v1.1/scampaigns/add", body=body.encode(), headers={"Content-Type": "application/xml"}
    )
    assert answer.status_code == 400, answer.text


@pytest.mark.parametrize(
    "body",
    [
        f'{{"token": "{TOKEN}", "name": ',  # cut short
        f'{{"token": "{TOKEN}',  # cut inside the token
        f'{{"token" :  "{TOKEN}", "name": "x",,}}',  # malformed after it
    ],
)
def test_a_token_in_a_body_too_broken_to_parse_is_masked_in_the_journal(
    altcraft: falcon.testing.TestClient, body: str
) -> None:
    answer = altcraft.simulate_post(
        "/api/v1.1/scampaigns/add", body=body.encode(), headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 400
    journal = altcraft.simulate_get("/__admin/journal").text
    assert TOKEN not in journal
    assert "****6789" in journal


@pytest.mark.parametrize("moment", ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59"])
def test_a_time_utc_cannot_hold_is_refused_not_kept_verbatim(client: falcon.testing.TestClient, moment: str) -> None:
    answer = client.simulate_post("/campaigns", json={"name": "Edge", "start_at": moment}, headers=AUTH)
    assert answer.status_code in (400, 422), answer.text
