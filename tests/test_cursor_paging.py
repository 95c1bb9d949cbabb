"""Cursor paging as data (``paging: cursor``): the list takes the opaque token of the next
page (SendGrid's ``page_token``, Klaviyo's ``page[cursor]``) that the answer gives as
``$next_cursor``; a token the list never gave is a 400; the kit pages by the tokens."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from campaign_mock.conformance.runner import CheckRequest, Report, run_check
from campaign_mock.contract.listing import cursor_token
from campaign_mock.server.run.assembly import assemble
from campaign_mock.server.run.config import ServeSettings
from campaign_mock.server.run.threaded import ThreadedServer
from tests.conftest import CANONICAL_SPEC
from tests.planted_faults import Answer, Rewrite

KEY = "cursor-key"


def cursor_document(style: str = "cursor") -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(CANONICAL_SPEC.read_text())
    lister = document["paths"]["/campaigns"]["get"]
    lister["x-operation"] = {
        "kind": "list",
        "order": "created_at",
        "paging": style,
        "cursor_param": "page_token",
        "envelope": {"data": "$items", "pagination": "$pagination", "next_page_token": "$next_cursor"},
    }
    lister["parameters"] = [p for p in lister["parameters"] if p.get("name") != "offset"]
    lister["parameters"].append(
        {"name": "page_token", "in": "query", "description": "The next page's token.", "schema": {"type": "string"}}
    )
    page = document["components"]["schemas"]["CampaignPage"]
    page["properties"]["next_page_token"] = {"type": ["string", "null"]}
    for example in lister["responses"]["200"]["content"]["application/json"].get("examples", {}).values():
        example["value"]["next_page_token"] = None
    return document


def _write(tmp_path: Path, document: dict[str, Any], name: str) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    spec = _write(tmp_path_factory.mktemp("cursor"), cursor_document(), "cursor.yaml")
    assembled = assemble(ServeSettings(spec=str(spec), api_keys=[KEY], log_requests=False, port=0))
    with ThreadedServer(assembled.app) as server:
        yield server.base_url


def test_pages_follow_the_tokens_each_answer_gives_to_the_last(base: str) -> None:
    with requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {KEY}"
        made = [http.post(f"{base}/campaigns", json={"name": f"c{n}"}, timeout=10).json()["id"] for n in range(5)]
        seen: list[str] = []
        token = None
        for _ in range(5):
            params: dict[str, Any] = {"limit": 2, **({"page_token": token} if token else {})}
            page = http.get(f"{base}/campaigns", params=params, timeout=10).json()
            seen += [item["id"] for item in page["data"]]
            token = page["next_page_token"]
            if token is None:
                break
        refused = http.get(f"{base}/campaigns", params={"page_token": "offset=2"}, timeout=10)
    assert seen == made
    assert refused.status_code == 400
    assert "not a cursor this list gave" in refused.json()["detail"]


def _judge(tmp_path: Path, served: dict[str, Any]) -> Report:
    promised = _write(tmp_path, cursor_document(), "promised.yaml")
    broken = _write(tmp_path, served, "served.yaml")
    assembled = assemble(ServeSettings(spec=str(broken), api_keys=[KEY], log_requests=False, port=0, lint="warn"))
    with ThreadedServer(assembled.app, threads=8) as server:
        request = CheckRequest(spec=str(promised), base_url=server.base_url, api_key=KEY, only=("listing",))
        return run_check(request, progress=lambda line: None)


def test_the_kit_pages_by_the_tokens_and_catches_a_list_that_ignores_them(tmp_path: Path) -> None:
    kept = _judge(tmp_path, cursor_document())
    ignored = _judge(tmp_path, cursor_document(style="offset"))  # the token is taken, then ignored
    assert kept.conformant, [(o.rule, o.operation, o.expected, o.received[:200]) for o in kept.failures][:5]
    assert "listing.paging" in {outcome.rule for outcome in ignored.failures}


def test_a_last_page_that_still_gives_a_token_is_caught(tmp_path: Path) -> None:
    """The last page gives a token to an empty page instead of null: every campaign is still
    listed once, yet a client asks once more than it must (and a strict one loops)."""
    promised = _write(tmp_path, cursor_document(), "promised.yaml")
    app = assemble(ServeSettings(spec=str(promised), api_keys=[KEY], log_requests=False, port=0)).app

    def answer(environ: dict[str, Any], result: Answer) -> Answer:
        status, headers, body = result
        page = json.loads(body) if status.startswith("200") and environ["PATH_INFO"] == "/campaigns" else None
        if isinstance(page, dict) and page.get("data") and page.get("next_page_token") is None:
            window = page["pagination"]
            page["next_page_token"] = cursor_token(window["offset"] + len(page["data"]))
            body = json.dumps(page).encode()
        return status, headers, body

    with ThreadedServer(Rewrite(app, answer), threads=8) as server:
        request = CheckRequest(spec=str(promised), base_url=server.base_url, api_key=KEY, only=("listing",))
        report = run_check(request, progress=lambda line: None)
    assert "listing.paging" in {outcome.rule for outcome in report.failures}
