"""Listing as vendors list, as contract data: a sort direction beside the sort field
(Mailchimp ``sort_field=name&sort_dir=DESC``) or alone (Brevo ``sort=desc``), field projection
(``fields`` / ``exclude_fields``) and status filter spellings (``status_values``). The server
does what the contract says, lint catches misuse, and the kit catches a server that ignores it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
import requests
import yaml

from campaign_mock.contract.lint import lint_source
from campaign_mock.contract.projection import project
from campaign_mock.contract.specs import SpecSource
from campaign_mock.server.run.assembly import load_checked_contract
from campaign_mock.server.run.threaded import ThreadedServer
from tests import planted_faults
from tests.conftest import CANONICAL_SPEC
from tests.planted_faults import KEY, Rewrite, WsgiApp
from tests.test_kit_catches_faults import check

HEADERS = {"Authorization": f"Bearer {KEY}"}
STATES = ["draft", "scheduled", "active", "paused", "canceled", "completed"]


def _text(name: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": {"type": "string"}}


def vendor_style_document() -> dict[str, Any]:
    """The canonical contract listing as Mailchimp does: a sort field and a direction in the
    vendor's words, projection on reads and lists, and a filter word for a state."""
    document: dict[str, Any] = yaml.safe_load(CANONICAL_SPEC.read_text())
    lister = document["paths"]["/campaigns"]["get"]
    lister["parameters"][0]["schema"]["items"] = {"type": "string", "enum": [*STATES, "inProcess"]}
    lister["parameters"] += [
        {"name": "sort_field", "in": "query", "schema": {"type": "string", "enum": ["name", "created_at"]}},
        {"name": "sort_dir", "in": "query", "schema": {"type": "string", "enum": ["ASC", "DESC"]}},
        _text("fields"),
        _text("exclude_fields"),
    ]
    lister["x-operation"].update(
        sort_param="sort_field",
        sort_dir_param="sort_dir",
        sort_dir_values={"asc": "ASC", "desc": "DESC"},
        fields_param="fields",
        exclude_fields_param="exclude_fields",
        status_values={"inProcess": "active"},
    )
    reader = document["paths"]["/campaigns/{campaign_id}"]["get"]
    reader.setdefault("parameters", []).extend([_text("fields"), _text("exclude_fields")])
    reader["x-operation"].update(fields_param="fields", exclude_fields_param="exclude_fields")
    for name, schema in document["components"]["schemas"].items():  # a projection may cut any member
        if name not in ("CampaignCreate", "Problem"):  # (lint: projection-param)
            _require_nothing(schema)
    return document


def _require_nothing(schema: Any) -> None:
    if isinstance(schema, dict):
        schema.pop("required", None)
        for value in schema.values():
            _require_nothing(value)


def free_direction_document() -> dict[str, Any]:
    """The direction as free text: the server, not the schema, refuses a word that is none."""
    document = vendor_style_document()
    lister = document["paths"]["/campaigns"]["get"]
    next(p for p in lister["parameters"] if p["name"] == "sort_dir")["schema"] = {"type": "string"}
    return document


def direction_alone_document(order: str | None = "created_at") -> dict[str, Any]:
    """Brevo's style: ``sort=asc|desc`` turns the list's own order around."""
    document: dict[str, Any] = yaml.safe_load(CANONICAL_SPEC.read_text())
    lister = document["paths"]["/campaigns"]["get"]
    lister["parameters"].append(
        {"name": "sort", "in": "query", "schema": {"type": "string", "enum": ["asc", "desc", "ASC", "DESC"]}}
    )
    lister["x-operation"]["sort_dir_param"] = "sort"
    if order is None:
        del lister["x-operation"]["order"]
    return document


def _write(tmp_path: Path, name: str, document: dict[str, Any]) -> str:
    spec = tmp_path / name
    spec.write_text(yaml.safe_dump(document, sort_keys=False))
    return str(spec)


@pytest.fixture
def vendor_spec(tmp_path: Path) -> str:
    return _write(tmp_path, "vendor-style.yaml", vendor_style_document())


class Api:
    def __init__(self, base_url: str, http: requests.Session) -> None:
        self.base, self.http = base_url, http

    def create(self, name: str) -> str:
        answer = self.http.post(f"{self.base}/campaigns", json={"name": name}, headers=HEADERS, timeout=10)
        assert answer.status_code == 201, answer.text
        return str(answer.json()["id"])

    def get(self, path: str, **query: Any) -> requests.Response:
        return self.http.get(f"{self.base}{path}", params=query, headers=HEADERS, timeout=10)

    def names(self, **query: Any) -> list[str]:
        answer = self.get("/campaigns", **query)
        assert answer.status_code == 200, answer.text
        return [campaign["name"] for campaign in answer.json()["data"]]


def serving(spec: str, lint: str = "error") -> Iterator[Api]:
    app = planted_faults.mock_app(load_checked_contract(spec, lint=lint))
    with ThreadedServer(app) as server, requests.Session() as http:
        yield Api(server.base_url, http)


@pytest.fixture
def api(vendor_spec: str) -> Iterator[Api]:
    yield from serving(vendor_spec)


def test_sort_dir_orders_the_sort_field_in_the_vendors_words(api: Api) -> None:
    for name in ("b", "a", "c"):
        api.create(name)
    assert api.names(sort_field="name", sort_dir="ASC") == ["a", "b", "c"]
    assert api.names(sort_field="name", sort_dir="DESC") == ["c", "b", "a"]
    assert api.names(sort_field="name", sort_dir="DESC", limit=2, offset=1) == ["b", "a"]
    assert api.names(sort_dir="DESC") == ["c", "a", "b"]  # the declared order (created_at), turned around


def test_a_word_that_is_no_direction_is_refused_naming_the_words(tmp_path: Path) -> None:
    spec = _write(tmp_path, "free-direction.yaml", free_direction_document())
    for api in serving(spec, lint="warn"):  # lint: list-sort-dir asks for an enum
        for word in ("desc", "sideways"):  # sort_dir_values names the vendor's exact words
            answer = api.get("/campaigns", sort_field="name", sort_dir=word)
            assert answer.status_code == 400
            assert answer.headers["Content-Type"].startswith("application/problem+json")
            assert "ASC or DESC" in answer.json()["detail"]
            assert answer.json()["errors"][0]["name"] == "sort_dir"


def test_the_schemas_enum_refuses_a_word_that_is_no_direction_first(api: Api) -> None:
    answer = api.get("/campaigns", sort_field="name", sort_dir="desc")
    assert answer.status_code == 400
    assert "DESC" in answer.json()["detail"]


@pytest.mark.parametrize("order", ["created_at", None])
def test_a_direction_alone_turns_the_lists_own_order_around(tmp_path: Path, order: str | None) -> None:
    for api in serving(_write(tmp_path, "direction-alone.yaml", direction_alone_document(order))):
        for name in ("first", "second", "third"):
            api.create(name)
        assert api.names(sort="desc") == ["third", "second", "first"]
        assert api.names(sort="DESC", limit=2, offset=1) == ["second", "first"]
        assert api.names(sort="asc") == api.names() == ["first", "second", "third"]
        assert api.get("/campaigns", sort="sideways").status_code == 400  # the schema's enum refuses it


def test_fields_keep_only_the_asked_members_across_the_items(api: Api) -> None:
    api.create("one")
    api.create("two")
    whole = api.get("/campaigns").json()
    cut = api.get("/campaigns", fields="data.id,data.status,pagination.total")
    assert cut.status_code == 200
    assert cut.json() == {
        "data": [{"id": c["id"], "status": c["status"]} for c in whole["data"]],
        "pagination": {"total": 2},
    }
    dropped = api.get("/campaigns", exclude_fields="data.settings,pagination").json()
    assert dropped == {"data": [{k: v for k, v in c.items() if k != "settings"} for c in whole["data"]]}


def test_a_projected_read_keeps_the_campaigns_etag(api: Api) -> None:
    campaign_id = api.create("tagged")
    whole = api.get(f"/campaigns/{campaign_id}")
    cut = api.get(f"/campaigns/{campaign_id}", exclude_fields="settings,sequence")
    assert cut.json() == project(whole.json(), None, "settings,sequence")
    assert "settings" not in cut.json()
    assert cut.json()["name"] == "tagged"
    assert cut.headers["ETag"] == whole.headers["ETag"]
    only = api.get(f"/campaigns/{campaign_id}", fields="id,settings.daily_limit")
    assert only.json() == {"id": campaign_id, "settings": {"daily_limit": 50}}
    assert only.headers["ETag"] == whole.headers["ETag"]


def test_a_status_filter_word_lists_the_campaigns_in_the_state_it_maps_to(api: Api) -> None:
    running = api.create("running")
    api.create("waiting")
    assert api.http.post(f"{api.base}/campaigns/{running}/activate", headers=HEADERS, timeout=10).status_code == 200
    assert api.names(status="inProcess") == ["running"]
    assert api.names(status="active") == ["running"]  # a word not in the map is a state as it is
    assert api.names(status="draft") == ["waiting"]


def test_projection_paths_cross_arrays_and_ignore_what_names_nothing() -> None:
    body = {"items": [{"id": 1, "s": {"a": 1, "b": 2}}, {"id": 2, "s": None}], "total": 2}
    assert project(body, "items.s.a,total,missing", None) == {"items": [{"s": {"a": 1}}, {"s": None}], "total": 2}
    assert project(body, "items,items.id", None) == {"items": body["items"]}  # the whole member wins
    assert project(body, None, "items.s.b, total") == {"items": [{"id": 1, "s": {"a": 1}}, {"id": 2, "s": None}]}
    assert project(body, ",", None) == body


# -- lint ----------------------------------------------------------------------------------


def _findings(document: dict[str, Any]) -> list[tuple[str, str]]:
    text = yaml.safe_dump(document, sort_keys=False)
    return [(f.rule, f.message) for f in lint_source(SpecSource("variant.yaml", text))]


def test_the_vendor_style_contract_lints_clean() -> None:
    assert [f for f in _findings(vendor_style_document()) if f[0].startswith(("list-", "projection"))] == []
    assert [f for f in _findings(direction_alone_document()) if f[0].startswith(("list-", "projection"))] == []


MISUSES: list[tuple[str, Callable[[dict[str, Any]], None], str, str]] = [
    (
        "a direction parameter the list does not have",
        lambda d: d["paths"]["/campaigns"]["get"]["x-operation"].update(sort_dir_param="order_dir"),
        "list-sort-dir",
        "'order_dir' is not a parameter",
    ),
    (
        "direction words without desc",
        lambda d: d["paths"]["/campaigns"]["get"]["x-operation"].update(sort_dir_values={"asc": "up"}),
        "list-sort-dir",
        "name both directions",
    ),
    (
        "a filter word mapped to a state the lifecycle lacks",
        lambda d: d["paths"]["/campaigns"]["get"]["x-operation"].update(status_values={"inProcess": "sending"}),
        "list-status-values",
        "'sending', which is not a state",
    ),
    (
        "filter words on a read",
        lambda d: d["paths"]["/campaigns/{campaign_id}"]["get"]["x-operation"].update(status_values={"a": "active"}),
        "list-status-values",
        "belongs on a list operation",
    ),
    (
        "a direction that takes any text",
        lambda d: next(p for p in d["paths"]["/campaigns"]["get"]["parameters"] if p["name"] == "sort_dir").update(
            schema={"type": "string"}
        ),
        "list-sort-dir",
        "sort_dir takes any text",
    ),
    (
        "a direction enum without the vendor's words",
        lambda d: d["paths"]["/campaigns"]["get"]["x-operation"].pop("sort_dir_values"),
        "list-sort-dir",
        "lacks the direction word 'asc'",
    ),
    (
        "a projected answer whose schema requires members",
        lambda d: d["components"]["schemas"]["Campaign"].update(required=["id", "name"]),
        "projection-param",
        "requires id, name",
    ),
    (
        "a projection parameter the read does not have",
        lambda d: d["paths"]["/campaigns/{campaign_id}"]["get"]["x-operation"].update(fields_param="only"),
        "projection-param",
        "'only' is not a parameter",
    ),
]


@pytest.mark.parametrize(("misuse", "change", "rule", "says"), MISUSES, ids=[m[0] for m in MISUSES])
def test_lint_names_each_misuse_of_the_listing_keys(
    misuse: str, change: Callable[[dict[str, Any]], None], rule: str, says: str
) -> None:
    document = vendor_style_document()
    change(document)
    assert any(found == rule and says in message for found, message in _findings(document)), _findings(document)


# -- the kit ---------------------------------------------------------------------------------


def _dropping(*names: str) -> Callable[[dict[str, Any]], None]:
    """A request rewrite that loses the named query parameters before the mock sees them."""

    def request(environ: dict[str, Any]) -> None:
        pairs = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        environ["QUERY_STRING"] = urlencode([(k, v) for k, v in pairs if k not in names])

    return request


def _unmapped(environ: dict[str, Any]) -> None:
    """The filter word is looked up as if it were a stored state (inProcess -> draft)."""
    pairs = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    environ["QUERY_STRING"] = urlencode([(k, "draft" if v == "inProcess" else v) for k, v in pairs])


FAULTS: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("a list that ignores its direction", _dropping("sort_dir"), "listing.sort-dir"),
    ("answers never cut to the asked fields", _dropping("fields"), "listing.fields"),
    ("answers that keep the excluded fields", _dropping("exclude_fields"), "listing.exclude-fields"),
    ("a filter word not mapped to its state", _unmapped, "listing.status-values"),
]


def _failed_rules(app: WsgiApp, spec: str) -> set[str]:
    report = check(app, "listing", spec=spec)
    return {outcome.rule for outcome in report.failures}


def test_the_kit_passes_the_mock_that_lists_as_the_vendor_does(vendor_spec: str) -> None:
    report = check(planted_faults.mock_app(load_checked_contract(vendor_spec)), "listing", spec=vendor_spec)
    assert report.conformant, [(o.rule, o.operation, o.expected, o.received) for o in report.failures][:5]
    checked = {o.rule for group in report.groups for o in group.outcomes if o.verdict.name == "PASSED"}
    assert {"listing.sort-dir", "listing.sort-dir-refused", "listing.fields", "listing.exclude-fields"} <= checked
    assert "listing.status-values" in checked


@pytest.mark.parametrize(("fault", "rewrite", "rule"), FAULTS, ids=[f[0] for f in FAULTS])
def test_the_kit_catches_a_server_that_ignores_the_listing_keys(
    vendor_spec: str, fault: str, rewrite: Callable[[dict[str, Any]], None], rule: str
) -> None:
    app = Rewrite(planted_faults.mock_app(load_checked_contract(vendor_spec)), request=rewrite)
    assert rule in _failed_rules(app, vendor_spec), fault
