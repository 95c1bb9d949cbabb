"""Server-set timestamps are named as the vendor names them: the members a contract marks
``x-stamp`` are the ones the mock stamps (``createdAt`` and ``modifiedAt`` here), not a fixed
``created_at``/``updated_at``; and the kit judges the renamed ones on the renamed mock."""

from __future__ import annotations

from pathlib import Path

import requests

from campaign_mock.conformance.runner import CheckRequest, run_check
from campaign_mock.server.run.assembly import assemble
from campaign_mock.server.run.config import ServeSettings
from campaign_mock.server.run.threaded import ThreadedServer
from tests.conftest import CANONICAL_SPEC

KEY = "stamp-key"
HEADERS = {"Authorization": f"Bearer {KEY}"}


def renamed_spec(tmp_path: Path) -> Path:
    text = CANONICAL_SPEC.read_text().replace("created_at", "createdAt").replace("updated_at", "modifiedAt")
    spec = tmp_path / "vendor-stamps.yaml"
    spec.write_text(text)
    return spec


def test_the_members_a_contract_marks_x_stamp_are_the_ones_stamped(tmp_path: Path) -> None:
    spec = renamed_spec(tmp_path)
    assembled = assemble(ServeSettings(spec=str(spec), api_keys=[KEY], log_requests=False, port=0))
    with ThreadedServer(assembled.app) as server, requests.Session() as http:
        http.headers.update(HEADERS)
        made = http.post(f"{server.base_url}/campaigns", json={"name": "Stamped"}, timeout=10).json()
        http.post(f"{server.base_url}/__admin/clock/advance", json={"seconds": 5}, timeout=10)
        moved = http.post(f"{server.base_url}/campaigns/{made['id']}/activate", timeout=10).json()
        sent = http.post(
            f"{server.base_url}/campaigns", json={"name": "Not mine", "createdAt": "2020-01-01T00:00:00Z"}, timeout=10
        )
    assert "created_at" not in made
    assert "updated_at" not in made
    assert made["createdAt"] == made["modifiedAt"]
    assert moved["createdAt"] == made["createdAt"]
    assert moved["modifiedAt"] > made["modifiedAt"]
    assert sent.status_code in (201, 400, 422)
    if sent.status_code == 201:
        assert sent.json()["createdAt"] != "2020-01-01T00:00:00Z", "a client cannot set what the server stamps"


def test_the_kit_judges_the_vendors_stamps_on_the_renamed_mock(tmp_path: Path) -> None:
    spec = renamed_spec(tmp_path)
    assembled = assemble(ServeSettings(spec=str(spec), api_keys=[KEY], log_requests=False, port=0))
    with ThreadedServer(assembled.app, threads=8) as server:
        request = CheckRequest(
            spec=str(spec),
            base_url=server.base_url,
            api_key=KEY,
            only=("lifecycle", "updates"),
            timer_step_seconds=0.6,
        )
        report = run_check(request, progress=lambda line: None)
    assert report.conformant, [(o.rule, o.operation, o.received[:200]) for o in report.failures][:5]
    stamped = [o for o in report.outcomes if o.rule == "lifecycle.stamps" and o.verdict == "passed"]
    assert stamped, "the renamed stamps were judged"
