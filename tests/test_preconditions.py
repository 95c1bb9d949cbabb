"""Campaign answers carry an ETag; PATCH and transitions honour If-Match (412 on a stale tag)."""

from __future__ import annotations

import falcon.testing

from tests.conftest import AUTH, create


def test_reads_and_writes_carry_an_etag_that_changes_with_every_write(client: falcon.testing.TestClient) -> None:
    created = client.simulate_post("/campaigns", json={"name": "Tagged"}, headers=AUTH)
    first = created.headers["etag"]
    url = f"/campaigns/{created.json['id']}"
    assert client.simulate_get(url, headers=AUTH).headers["etag"] == first
    moved = client.simulate_post(f"{url}/activate", headers=AUTH)
    assert moved.headers["etag"] != first
    assert client.simulate_get(url, headers=AUTH).headers["etag"] == moved.headers["etag"]


def test_a_stale_if_match_answers_412_and_changes_nothing(client: falcon.testing.TestClient) -> None:
    campaign = create(client)
    url = f"/campaigns/{campaign['id']}"
    stale = client.simulate_get(url, headers=AUTH).headers["etag"]
    client.simulate_patch(url, json={"name": "Changed meanwhile"}, headers=AUTH)
    current = client.simulate_get(url, headers=AUTH).headers["etag"]
    refused = client.simulate_post(f"{url}/activate", headers={**AUTH, "If-Match": stale})
    assert refused.status_code == 412
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json["current_etag"] == current
    patch = client.simulate_patch(url, json={"name": "Lost update"}, headers={**AUTH, "If-Match": stale})
    assert patch.status_code == 412
    after = client.simulate_get(url, headers=AUTH).json
    assert (after["status"], after["name"]) == ("draft", "Changed meanwhile")


def test_a_current_or_wildcard_if_match_lets_the_change_through(client: falcon.testing.TestClient) -> None:
    campaign = create(client)
    url = f"/campaigns/{campaign['id']}"
    current = client.simulate_get(url, headers=AUTH).headers["etag"]
    assert client.simulate_post(f"{url}/activate", headers={**AUTH, "If-Match": current}).status_code == 200
    assert client.simulate_post(f"{url}/pause", headers={**AUTH, "If-Match": '"999", *'}).status_code == 200
    weak = client.simulate_post(
        f"{url}/resume", headers={**AUTH, "If-Match": "W/" + client.simulate_get(url, headers=AUTH).headers["etag"]}
    )
    assert weak.status_code == 412, "If-Match compares strongly: a weak tag never matches"
