"""Hostile input: every malformed or oversized request is a 4xx in the error format, never a 5xx.

A property-based test (Hypothesis) throws generated raw HTTP requests at a live server.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from urllib.parse import quote, urlencode

import falcon.testing
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaign_mock.server.run.assembly import assemble
from campaign_mock.server.run.config import ServeSettings
from campaign_mock.server.run.threaded import ThreadedServer
from tests.conftest import AUTH, ClientFactory

PROBLEM = "application/problem+json"


def test_headers_over_the_limit_answer_431_in_the_error_format(make_client: ClientFactory) -> None:
    client = make_client(max_header_bytes=2048)
    result = client.simulate_get("/campaigns", headers={**AUTH, "X-Padding": "a" * 4000})
    assert result.status_code == 431
    assert result.headers["content-type"] == PROBLEM
    assert "at most 2048" in result.json["detail"]


def test_a_query_string_over_the_limit_answers_414(make_client: ClientFactory) -> None:
    client = make_client(max_query_bytes=256)
    result = client.simulate_get("/campaigns", query_string="status=" + "a" * 500, headers=AUTH)
    assert result.status_code == 414
    assert result.headers["content-type"] == PROBLEM


def test_json_nested_deeper_than_the_limit_answers_400_and_creates_nothing(make_client: ClientFactory) -> None:
    client = make_client(max_json_depth=8)
    deep = '{"name": "x", "settings": ' + '{"a": ' * 10 + "1" + "}" * 10 + "}"
    result = client.simulate_post("/campaigns", body=deep, headers={**AUTH, "Content-Type": "application/json"})
    assert result.status_code == 400
    assert "deeper than 8 levels" in result.json["detail"]
    assert client.simulate_get("/campaigns", headers=AUTH).json["pagination"]["total"] == 0


@pytest.fixture(scope="module")
def live() -> Iterator[tuple[str, int]]:
    assembled = assemble(ServeSettings(api_keys=["k"], log_requests=False, max_header_bytes=4096))
    with ThreadedServer(assembled.app, threads=4) as server:
        yield server.host, server.port


def _raw(host: str, port: int, method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, str]:
    connection = http.client.HTTPConnection(host, port, timeout=10)
    try:
        connection.putrequest(method, target, skip_host=False, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        answer = connection.getresponse()
        answer.read()
        return answer.status, answer.getheader("Content-Type") or ""
    finally:
        connection.close()


segments = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=80).map(
    lambda s: quote(s, safe="")
)
paths = st.one_of(
    st.just("/campaigns"),
    st.builds(lambda s: f"/campaigns/{s}", segments),
    st.builds(lambda s, a: f"/campaigns/{s}/{a}", segments, st.sampled_from(["pause", "resume", "events", "x"])),
    st.builds(lambda s: f"/__admin/{s}", st.sampled_from(["clock", "faults", "journal", "campaigns", "reset"])),
    st.builds(lambda s: f"/{s}", segments),
)
query_values = st.one_of(
    st.text(max_size=40),
    st.integers(1, 5000).map(lambda digits: "9" * digits),
    st.sampled_from(["²", "1e400", "-0", "1" * 400 + ".0", "%ED%A0%80", "nan", "Infinity"]),
)
queries = st.dictionaries(st.sampled_from(["status", "limit", "offset", "method", "x"]), query_values, max_size=3).map(
    lambda q: ("?" + urlencode(q)) if q else ""
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
lone_surrogates = st.integers(0xD800, 0xDFFF).map(lambda code: f'{{"name": "x\\u{code:04x}"}}'.encode())
huge_numbers = st.integers(300, 5000).map(
    lambda digits: b'{"name": "x", "settings": {"daily_limit": ' + b"9" * digits + b"}}"
)
bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
    lone_surrogates,
    huge_numbers,
    st.just(b'{"name": "x", "settings": {"daily_limit": 1e400}}'),
)
header_sets = st.fixed_dictionaries(
    {},
    optional={
        "Authorization": st.sampled_from(["Bearer k", "Bearer", "Basic a2V5", "Bearer wrong", "bearer k"]),
        "Content-Type": st.sampled_from(
            ["application/json", "application/merge-patch+json", "text/plain", "application/json; charset=latin-1", ""]
        ),
        "X-Noise": st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=200),
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture], database=None)
@given(
    method=st.sampled_from(["GET", "POST", "PATCH", "DELETE", "PUT", "OPTIONS", "TRACE", "BREW"]),
    path=paths,
    query=queries,
    headers=header_sets,
    body=bodies,
)
def test_no_generated_raw_request_gets_a_5xx(
    live: tuple[str, int], method: str, path: str, query: str, headers: dict[str, str], body: bytes
) -> None:
    status, content_type = _raw(*live, method, path + query, headers, body)
    assert status < 500, (method, path + query, headers, body[:100])
    if status >= 400:
        assert content_type == PROBLEM, (status, content_type, method, path)


def test_the_default_limits_leave_room_for_ordinary_requests(client: falcon.testing.TestClient) -> None:
    """The defaults leave room for ordinary requests."""
    assert client.simulate_get("/campaigns", headers={**AUTH, "X-Trace": "a" * 1000}).status_code == 200


@pytest.fixture(scope="module")
def live_altcraft() -> Iterator[tuple[str, int]]:
    assembled = assemble(ServeSettings(spec="altcraft", log_requests=False))
    with ThreadedServer(assembled.app, threads=4) as server:
        yield server.host, server.port


xml_text = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30).map(
        lambda s: s.replace("&", "&amp;").replace("<", "&lt;")
    ),
    st.integers(1, 5000).map(lambda digits: "9" * digits),
    st.sampled_from(["²", "1e400", "nan", "-1", "", "demo-key", "view-key", "true"]),
)
xml_bodies = st.builds(
    lambda members: ("<xml>" + "".join(f"<{name}>{value}</{name}>" for name, value in members) + "</xml>").encode(),
    st.lists(
        st.tuples(st.sampled_from(["token", "id", "name", "start_date", "from_id", "limit", "format"]), xml_text),
        max_size=5,
    ),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture], database=None)
@given(
    method=st.sampled_from(["add", "get", "list", "activate", "deactivate", "completed", "get_status", "nope"]),
    body=st.one_of(xml_bodies, st.binary(max_size=200)),
    content_type=st.sampled_from(["application/xml", "text/xml", "application/json"]),
)
def test_no_generated_xml_request_to_altcraft_gets_a_5xx(
    live_altcraft: tuple[str, int], method: str, body: bytes, content_type: str
) -> None:
    status, _ = _raw(*live_altcraft, "POST", f"/api/v1.1/scampaigns/{method}", {"Content-Type": content_type}, body)
    assert status < 500, (method, content_type, body[:200])
