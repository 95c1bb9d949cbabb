"""A list's default order is data (``x-operation.order``): the server lists by it, lint checks
it names a member, and the kit judges it (tests/test_kit_catches_faults.py)."""

from __future__ import annotations

from pathlib import Path

import requests
import yaml

from campaign_mock.server.run.assembly import assemble
from campaign_mock.server.run.config import ServeSettings
from campaign_mock.server.run.threaded import ThreadedServer
from tests.conftest import CANONICAL_SPEC

HEADERS = {"Authorization": "Bearer order-key"}


def test_a_list_declared_newest_first_answers_newest_first(tmp_path: Path) -> None:
    document = yaml.safe_load(CANONICAL_SPEC.read_text())
    document["paths"]["/campaigns"]["get"]["x-operation"]["order"] = "-created_at"
    spec = tmp_path / "newest-first.yaml"
    spec.write_text(yaml.safe_dump(document, sort_keys=False))
    assembled = assemble(ServeSettings(spec=str(spec), api_keys=["order-key"], log_requests=False, port=0))
    with ThreadedServer(assembled.app) as server, requests.Session() as http:
        made = [
            http.post(f"{server.base_url}/campaigns", json={"name": f"n{i}"}, headers=HEADERS, timeout=10).json()["id"]
            for i in range(3)
        ]
        listed = http.get(f"{server.base_url}/campaigns", headers=HEADERS, timeout=10).json()["data"]
        by_name = http.get(f"{server.base_url}/campaigns?limit=2&offset=1", headers=HEADERS, timeout=10).json()["data"]
    assert [campaign["id"] for campaign in listed] == made[::-1]
    assert [campaign["id"] for campaign in by_name] == made[::-1][1:]


def test_the_canonical_list_is_oldest_first_by_declaration() -> None:
    document = yaml.safe_load(CANONICAL_SPEC.read_text())
    assert document["paths"]["/campaigns"]["get"]["x-operation"]["order"] == "created_at"
