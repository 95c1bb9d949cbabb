"""Deliberately broken variants of the mock, for proving the kit catches each fault.

Faults are planted here, in test code: a WSGI wrapper that rewrites what the real app
answers, or a server built from an altered copy of the contract. ``server/`` has no
switch for any of them.
"""

from __future__ import annotations

import copy
import io
import json
import re
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from campaign_mock.contract.operations import Contract, build_contract, resolve
from campaign_mock.contract.timefmt import format_timestamp, parse_timestamp
from campaign_mock.server.domain.clock import ControllableClock
from campaign_mock.server.domain.ids import RandomIds
from campaign_mock.server.traffic.traffic import RateLimitPolicy
from campaign_mock.server.web.app import AppOptions, create_app

WsgiApp = Callable[..., Iterable[bytes]]
Answer = tuple[str, list[tuple[str, str]], bytes]
KEY = "kit-key"


def mock_app(contract: Contract, rate_limit: RateLimitPolicy | None = None) -> WsgiApp:
    options = AppOptions(api_keys=[KEY], log_requests=False, rate_limit=rate_limit)
    return create_app(contract, options, clock=ControllableClock(), ids=RandomIds())


def call(app: WsgiApp, environ: dict[str, Any]) -> Answer:
    """Run a WSGI app and collect its whole answer."""
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        captured["status"], captured["headers"] = status, list(headers)

    body = b"".join(app(environ, start_response))
    return captured["status"], captured["headers"], body


class Rewrite:
    """Wraps an app; ``change`` may alter the environ before and the answer after."""

    def __init__(
        self,
        app: WsgiApp,
        answer: Callable[[dict[str, Any], Answer], Answer] | None = None,
        request: Callable[[dict[str, Any]], None] | None = None,
        short_circuit: Callable[[dict[str, Any]], Answer | None] | None = None,
    ) -> None:
        self.app = app
        self.answer = answer
        self.request = request
        self.short_circuit = short_circuit

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if self.request is not None:
            self.request(environ)
        result = self.short_circuit(environ) if self.short_circuit is not None else None
        if result is None:
            result = call(self.app, environ)
            if self.answer is not None:
                result = self.answer(environ, result)
        status, headers, body = result
        headers = [(name, value) for name, value in headers if name.lower() != "content-length"]
        headers.append(("Content-Length", str(len(body))))
        start_response(status, headers)
        return [body]


def _header(headers: list[tuple[str, str]], name: str) -> str:
    return next((value for key, value in headers if key.lower() == name.lower()), "")


def _json_answer(status: str, body: Any) -> Answer:
    return status, [("Content-Type", "application/json")], json.dumps(body).encode()


def _spec_with(contract: Contract, change: Callable[[dict[str, Any]], None]) -> Contract:
    document = copy.deepcopy(dict(contract.document))
    change(document)
    return build_contract(document, contract.origin + " (altered by a test)")


# -- the faults ------------------------------------------------------------------------------
def forbidden_move_accepted(contract: Contract) -> WsgiApp:
    return mock_app(_spec_with(contract, lambda d: d["x-lifecycle"]["transitions"]["pause"]["from"].append("draft")))


def terminal_reopened(contract: Contract) -> WsgiApp:
    return mock_app(
        _spec_with(contract, lambda d: d["x-lifecycle"]["transitions"]["activate"]["from"].append("canceled"))
    )


def wrong_conflict_status(contract: Contract) -> WsgiApp:
    def answer(environ: dict[str, Any], result: Answer) -> Answer:
        status, headers, body = result
        return ("400 Bad Request" if status.startswith("409") else status), headers, body

    return Rewrite(mock_app(contract), answer)


def error_body_missing_fields(contract: Contract) -> WsgiApp:
    def answer(environ: dict[str, Any], result: Answer) -> Answer:
        status, headers, body = result
        if _header(headers, "Content-Type") == "application/problem+json":
            problem = json.loads(body)
            problem.pop("detail", None)
            problem.pop("title", None)
            body = json.dumps(problem).encode()
        return status, headers, body

    return Rewrite(mock_app(contract), answer)


def stale_read(contract: Contract) -> WsgiApp:
    first_reads: dict[str, Answer] = {}
    pattern = re.compile(r"^/campaigns/[^/]+$")

    def answer(environ: dict[str, Any], result: Answer) -> Answer:
        path = environ["PATH_INFO"]
        if environ["REQUEST_METHOD"] == "GET" and pattern.match(path) and result[0].startswith("200"):
            return first_reads.setdefault(path, result)
        return result

    return Rewrite(mock_app(contract), answer)


def success_changes_nothing(contract: Contract) -> WsgiApp:
    app = mock_app(contract)

    def short_circuit(environ: dict[str, Any]) -> Answer | None:
        if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"].endswith("/pause"):
            read = dict(environ, REQUEST_METHOD="GET", PATH_INFO=environ["PATH_INFO"].removesuffix("/pause"))
            read["CONTENT_LENGTH"] = "0"
            return call(app, read)
        return None

    return Rewrite(app, short_circuit=short_circuit)


def credentials_ignored(contract: Contract) -> WsgiApp:
    def request(environ: dict[str, Any]) -> None:
        environ["HTTP_AUTHORIZATION"] = f"Bearer {KEY}"

    return Rewrite(mock_app(contract), request=request)


def no_retry_after(contract: Contract, policy: RateLimitPolicy) -> WsgiApp:
    def answer(environ: dict[str, Any], result: Answer) -> Answer:
        status, headers, body = result
        return status, [(name, value) for name, value in headers if name.lower() != "retry-after"], body

    return Rewrite(mock_app(contract, policy), answer)


def list_ignores_filter(contract: Contract) -> WsgiApp:
    def request(environ: dict[str, Any]) -> None:
        if environ["PATH_INFO"] == "/campaigns":
            kept = [part for part in environ.get("QUERY_STRING", "").split("&") if not part.startswith("status=")]
            environ["QUERY_STRING"] = "&".join(kept)

    return Rewrite(mock_app(contract), request=request)


def total_off_by_one(contract: Contract) -> WsgiApp:
    def answer(environ: dict[str, Any], result: Answer) -> Answer:
        status, headers, body = result
        if environ["REQUEST_METHOD"] == "GET" and environ["PATH_INFO"] == "/campaigns" and status.startswith("200"):
            page = json.loads(body)
            page["pagination"]["total"] += 1
            body = json.dumps(page).encode()
        return status, headers, body

    return Rewrite(mock_app(contract), answer)


def create_answers_200(contract: Contract) -> WsgiApp:
    def answer(environ: dict[str, Any], result: Answer) -> Answer:
        status, headers, body = result
        if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"] == "/campaigns" and status.startswith("201"):
            status = "200 OK"
        return status, headers, body

    return Rewrite(mock_app(contract), answer)


def delete_deletes_nothing(contract: Contract) -> WsgiApp:
    def short_circuit(environ: dict[str, Any]) -> Answer | None:
        if environ["REQUEST_METHOD"] == "DELETE":
            return "204 No Content", [], b""
        return None

    return Rewrite(mock_app(contract), short_circuit=short_circuit)


def wrong_content_type(contract: Contract) -> WsgiApp:
    def answer(environ: dict[str, Any], result: Answer) -> Answer:
        status, headers, body = result
        if _header(headers, "Content-Type") == "application/json":
            headers = [(n, v) for n, v in headers if n.lower() != "content-type"] + [("Content-Type", "text/plain")]
        return status, headers, body

    return Rewrite(mock_app(contract), answer)


def events_not_recorded(contract: Contract) -> WsgiApp:
    def short_circuit(environ: dict[str, Any]) -> Answer | None:
        if environ["REQUEST_METHOD"] == "GET" and environ["PATH_INFO"].endswith("/events"):
            return _json_answer("200 OK", {"data": []})
        return None

    return Rewrite(mock_app(contract), short_circuit=short_circuit)


def stateless_examples(contract: Contract) -> WsgiApp:
    """A mock that answers every operation with its documented success example, and keeps nothing."""
    routes: list[tuple[str, re.Pattern[str], Answer]] = []
    for operation in contract.operations:
        status = operation.success_status()
        response, _ = resolve(contract.document, {"$ref": f"#{operation.responses[str(status)].pointer}"}, "")
        media = (response.get("content") or {}).get("application/json") or {}
        named = [each["value"] for each in (media.get("examples") or {}).values()]
        examples = [media["example"]] if "example" in media else named
        body = json.dumps(examples[0]).encode() if examples else b""
        headers = [("Content-Type", "application/json")] if body else []
        if status == 201:
            headers.append(("Location", "/campaigns/cmp_0f1e2d3c4b5a69788796"))
        pattern = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", operation.path) + "$")
        routes.append((operation.method, pattern, (f"{status} OK", headers, body)))

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        for method, pattern, (status, headers, body) in routes:
            if environ["REQUEST_METHOD"] == method and pattern.match(environ["PATH_INFO"]):
                start_response(status, [*headers, ("Content-Length", str(len(body)))])
                return [body]
        start_response("404 Not Found", [("Content-Length", "0")])
        return [b""]

    return app


# -- faults of the promises the kit checks since it reads headers, updates and lists closely ---
def _rewrite_body(environ: dict[str, Any], change: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """Replace the JSON request body the app will read with ``change(body)``."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length) if length else b""
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = None
    data = json.dumps(change(body)).encode() if isinstance(body, dict) else raw
    environ["wsgi.input"] = io.BytesIO(data)
    environ["CONTENT_LENGTH"] = str(len(data))


def _is_update(environ: dict[str, Any]) -> bool:
    return bool(environ["REQUEST_METHOD"] == "PATCH")


def deleted_stays_listed(contract: Contract) -> WsgiApp:
    """A delete that removes the campaign from reads, but a list (a stale cache) still shows it."""
    gone: dict[str, Any] = {}
    app = mock_app(contract)

    def request(environ: dict[str, Any]) -> None:
        if environ["REQUEST_METHOD"] == "DELETE":
            read = dict(environ, REQUEST_METHOD="GET", CONTENT_LENGTH="0", **{"wsgi.input": io.BytesIO()})
            status, _, body = call(app, read)
            if status.startswith("200"):
                gone[environ["PATH_INFO"]] = json.loads(body)

    def answer(environ: dict[str, Any], result: Answer) -> Answer:
        status, headers, body = result
        if environ["REQUEST_METHOD"] == "GET" and environ["PATH_INFO"] == "/campaigns" and status.startswith("200"):
            page = json.loads(body)
            page["data"] += list(gone.values())
            page["pagination"]["total"] += len(gone)
            body = json.dumps(page).encode()
        return status, headers, body

    return Rewrite(app, answer, request=request)


def update_ignores_a_member(contract: Contract) -> WsgiApp:
    def request(environ: dict[str, Any]) -> None:
        if _is_update(environ):
            _rewrite_body(environ, lambda body: {key: value for key, value in body.items() if key != "name"})

    return Rewrite(mock_app(contract), request=request)


def update_replaces_nested_objects(contract: Contract) -> WsgiApp:
    """An update that overwrites a nested object instead of merging into it."""

    def request(environ: dict[str, Any]) -> None:
        if _is_update(environ):
            _rewrite_body(
                environ,
                # settings as sent, the rest reset: what a server that replaces instead of merging keeps
                lambda body: (
                    {**body, "settings": {"daily_limit": 1, "track_opens": False, **body["settings"]}}
                    if isinstance(body.get("settings"), dict)
                    else body
                ),
            )

    return Rewrite(mock_app(contract), request=request)


def update_changes_another_member(contract: Contract) -> WsgiApp:
    def request(environ: dict[str, Any]) -> None:
        if _is_update(environ):
            _rewrite_body(environ, lambda body: {**body, "goal": "sales"})

    return Rewrite(mock_app(contract), request=request)


def _with_header(headers: list[tuple[str, str]], name: str, value: str | None) -> list[tuple[str, str]]:
    kept = [(key, item) for key, item in headers if key.lower() != name.lower()]
    return kept if value is None else [*kept, (name, value)]


def etag_never_changes(contract: Contract) -> WsgiApp:
    def answer(environ: dict[str, Any], result: Answer) -> Answer:
        status, headers, body = result
        return status, _with_header(headers, "ETag", '"1"') if _header(headers, "ETag") else headers, body

    return Rewrite(mock_app(contract), answer)


def etag_changes_on_reads(contract: Contract) -> WsgiApp:
    reads = iter(range(1, 1_000_000))

    def answer(environ: dict[str, Any], result: Answer) -> Answer:
        status, headers, body = result
        if environ["REQUEST_METHOD"] == "GET" and _header(headers, "ETag"):
            headers = _with_header(headers, "ETag", f'"read-{next(reads)}"')
        return status, headers, body

    return Rewrite(mock_app(contract), answer)


def stale_if_match_accepted(contract: Contract) -> WsgiApp:
    def request(environ: dict[str, Any]) -> None:
        environ.pop("HTTP_IF_MATCH", None)

    return Rewrite(mock_app(contract), request=request)


def location_points_elsewhere(contract: Contract) -> WsgiApp:
    def answer(environ: dict[str, Any], result: Answer) -> Answer:
        status, headers, body = result
        if _header(headers, "Location"):
            headers = _with_header(headers, "Location", "/campaigns/cmp_somewhere_else")
        return status, headers, body

    return Rewrite(mock_app(contract), answer)


def multi_filter_takes_the_first_value(contract: Contract) -> WsgiApp:
    def request(environ: dict[str, Any]) -> None:
        if environ["PATH_INFO"] == "/campaigns":
            parts = environ.get("QUERY_STRING", "").split("&")
            statuses = [part for part in parts if part.startswith("status=")]
            environ["QUERY_STRING"] = "&".join([p for p in parts if not p.startswith("status=")] + statuses[:1])

    return Rewrite(mock_app(contract), request=request)


def query_parameter_ignored(contract: Contract, name: str) -> WsgiApp:
    """A list that ignores one of its query parameters (Ocamba's ``sort`` or ``q``)."""

    def request(environ: dict[str, Any]) -> None:
        parts = environ.get("QUERY_STRING", "").split("&")
        environ["QUERY_STRING"] = "&".join(part for part in parts if not part.startswith(f"{name}="))

    return Rewrite(mock_app(contract, RateLimitPolicy()), request=request)


def retry_after_only_on_the_first_429(contract: Contract, policy: RateLimitPolicy) -> WsgiApp:
    seen = iter(range(1_000_000))

    def answer(environ: dict[str, Any], result: Answer) -> Answer:
        status, headers, body = result
        if status.startswith("429") and next(seen) > 0:
            headers = _with_header(headers, "Retry-After", None)
        return status, headers, body

    return Rewrite(mock_app(contract, policy), answer)


# -- faults of the principles: a move changes only what the contract lets it change --------------
_MOVE = re.compile(r"^/campaigns/([^/]+)/([a-z]+)$")
_ONE = re.compile(r"^/campaigns/([^/]+)$")


def _rewrite_json(body: bytes, change: Callable[[Any], None]) -> bytes:
    document = json.loads(body)
    change(document)
    return json.dumps(document).encode()


def activate_also_writes_start_at(contract: Contract) -> WsgiApp:
    """Activate answers the campaign with ``start_at`` set to its own moment (a member no move sets)."""

    def answer(environ: dict[str, Any], result: Answer) -> Answer:
        status, headers, body = result
        found = _MOVE.match(environ["PATH_INFO"])
        if environ["REQUEST_METHOD"] == "POST" and found and found[2] == "activate" and status.startswith("200"):
            body = _rewrite_json(body, lambda c: c.update(start_at=c["updated_at"]))
        return status, headers, body

    return Rewrite(mock_app(contract), answer)


def updated_at_never_moves(contract: Contract) -> WsgiApp:
    """Every answer shows ``updated_at`` as it was at creation."""

    def freeze(campaign: Any) -> None:
        if isinstance(campaign, dict) and "created_at" in campaign:
            campaign["updated_at"] = campaign["created_at"]

    def answer(environ: dict[str, Any], result: Answer) -> Answer:
        status, headers, body = result
        if _header(headers, "Content-Type") == "application/json" and body and _ONE.match(environ["PATH_INFO"]):
            body = _rewrite_json(body, freeze)
        return status, headers, body

    return Rewrite(mock_app(contract), answer)


def guarded_event_records_the_plain_target(contract: Contract) -> WsgiApp:
    """The history records a guarded activate (draft -> scheduled) as landing in ``active``."""

    def relabel(page: Any) -> None:
        for event in page.get("data", []):
            if event.get("action") == "activate" and event.get("to") == "scheduled":
                event["to"] = "active"

    def answer(environ: dict[str, Any], result: Answer) -> Answer:
        status, headers, body = result
        if environ["PATH_INFO"].endswith("/events") and status.startswith("200"):
            body = _rewrite_json(body, relabel)
        return status, headers, body

    return Rewrite(mock_app(contract), answer)


def version_bumped_by_updates_only(contract: Contract) -> WsgiApp:
    """The ETag clients see moves on updates only: a tag read before an action still passes
    ``If-Match`` after it (the server compares it with its update count)."""
    shown: dict[str, str] = {}  # campaign id -> the tag clients were last shown (set by creates and updates)
    real: dict[str, str] = {}  # campaign id -> the mock's own current tag

    def request(environ: dict[str, Any]) -> None:
        found = _ONE.match(environ["PATH_INFO"])
        tag = environ.get("HTTP_IF_MATCH")
        if found and tag and tag == shown.get(found[1]) and found[1] in real:
            environ["HTTP_IF_MATCH"] = real[found[1]]

    def answer(environ: dict[str, Any], result: Answer) -> Answer:
        status, headers, body = result
        path, method, tag = environ["PATH_INFO"], environ["REQUEST_METHOD"], _header(headers, "ETag")
        found = _ONE.match(path) or _MOVE.match(path)
        if method == "POST" and path == "/campaigns" and tag:
            campaign_id = json.loads(body)["id"]
            shown[campaign_id] = real[campaign_id] = tag
        elif found and tag:
            real[found[1]] = tag
            if method == "PATCH":
                shown[found[1]] = tag
            headers = _with_header(headers, "ETag", shown.get(found[1], tag))
        return status, headers, body

    return Rewrite(mock_app(contract), answer, request=request)


def patch_fills_left_out_members_with_defaults(contract: Contract) -> WsgiApp:
    """A merge patch of ``settings`` resets the settings it leaves out to the create defaults."""
    create = contract.one_of_kind("create")
    defaults = dict(((create.extension.get("defaults") if create else None) or {}).get("settings") or {})

    def request(environ: dict[str, Any]) -> None:
        if environ["REQUEST_METHOD"] != "PATCH" or not _ONE.match(environ["PATH_INFO"]):
            return
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = json.loads(environ["wsgi.input"].read(length) or b"{}")
        if isinstance(body, dict) and isinstance(body.get("settings"), dict):
            body["settings"] = {**defaults, **body["settings"]}
        raw = json.dumps(body).encode()
        environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(raw), str(len(raw))

    return Rewrite(mock_app(contract), request=request)


def equal_ordered_times_accepted(contract: Contract) -> WsgiApp:
    """A create whose ``end_at`` equals its ``start_at`` is kept (the server checks ``>=``, not ``>``)."""

    def request(environ: dict[str, Any]) -> None:
        if environ["REQUEST_METHOD"] != "POST" or environ["PATH_INFO"] != "/campaigns":
            return
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length)
        body = json.loads(raw or b"{}")
        if isinstance(body, dict) and body.get("start_at") and body.get("start_at") == body.get("end_at"):
            later = parse_timestamp(body["end_at"])
            body["end_at"] = format_timestamp(later + timedelta(milliseconds=1)) if later else body["end_at"]
            raw = json.dumps(body).encode()
        environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(raw), str(len(raw))

    return Rewrite(mock_app(contract), request=request)


def key_accepted_in_the_query(contract: Contract) -> WsgiApp:
    """A valid key in ``?api_key=`` passes for the ``Authorization`` header the contract names."""

    def request(environ: dict[str, Any]) -> None:
        for part in environ.get("QUERY_STRING", "").split("&"):
            name, _, value = part.partition("=")
            if name == "api_key" and value and "HTTP_AUTHORIZATION" not in environ:
                environ["HTTP_AUTHORIZATION"] = f"Bearer {value}"

    return Rewrite(mock_app(contract), request=request)


def has_more_when_the_page_is_full(contract: Contract) -> WsgiApp:
    """``has_more`` says whether the page is full, not whether campaigns remain after it."""

    def answer(environ: dict[str, Any], result: Answer) -> Answer:
        status, headers, body = result
        if environ["REQUEST_METHOD"] == "GET" and environ["PATH_INFO"] == "/campaigns" and status.startswith("200"):
            page = json.loads(body)
            page["pagination"]["has_more"] = len(page["data"]) == page["pagination"]["limit"]
            body = json.dumps(page).encode()
        return status, headers, body

    return Rewrite(mock_app(contract), answer)


def key_compared_by_prefix(contract: Contract) -> WsgiApp:
    """Any bearer token that starts with a valid key passes (a prefix compare)."""

    def request(environ: dict[str, Any]) -> None:
        sent = environ.get("HTTP_AUTHORIZATION", "")
        if sent.startswith(f"Bearer {KEY}"):
            environ["HTTP_AUTHORIZATION"] = f"Bearer {KEY}"

    return Rewrite(mock_app(contract), request=request)


def unknown_action_answers_409(contract: Contract) -> WsgiApp:
    """An action route nobody documents answers as a forbidden move (409), not as no route (404)."""
    known = set(contract.lifecycle.transitions) | {"events"}

    def short_circuit(environ: dict[str, Any]) -> Answer | None:
        found = re.match(r"^/campaigns/([^/]+)/([a-z_-]+)$", environ["PATH_INFO"])
        if environ["REQUEST_METHOD"] == "POST" and found and found[2] not in known:
            problem = {"type": "about:blank", "title": "Conflict", "status": 409, "detail": "not allowed now"}
            return "409 Conflict", [("Content-Type", "application/problem+json")], json.dumps(problem).encode()
        return None

    return Rewrite(mock_app(contract), short_circuit=short_circuit)


def put_treated_as_patch(contract: Contract) -> WsgiApp:
    """A PUT on a campaign, which the contract does not document, is taken as its update."""

    def request(environ: dict[str, Any]) -> None:
        if environ["REQUEST_METHOD"] == "PUT" and _ONE.match(environ["PATH_INFO"]):
            environ["REQUEST_METHOD"] = "PATCH"
            environ["CONTENT_TYPE"] = "application/merge-patch+json"
            _rewrite_body(environ, lambda body: {"name": "Replaced by a PUT"})

    return Rewrite(mock_app(contract), request=request)


def list_ordered_by_last_write(contract: Contract) -> WsgiApp:
    """Without a sort, the list comes ordered by updated_at, not by the declared created_at."""

    def answer(environ: dict[str, Any], result: Answer) -> Answer:
        status, headers, body = result
        if environ["REQUEST_METHOD"] == "GET" and environ["PATH_INFO"] == "/campaigns" and status.startswith("200"):
            body = _rewrite_json(body, lambda page: page["data"].sort(key=lambda campaign: campaign["updated_at"]))
        return status, headers, body

    return Rewrite(mock_app(contract), answer)


def remaining_never_falls(contract: Contract, policy: RateLimitPolicy) -> WsgiApp:
    """The rate-limit header always states the whole budget as remaining (it is never counted down)."""

    def answer(environ: dict[str, Any], result: Answer) -> Answer:
        status, headers, body = result
        full = re.sub(r";r=\d+", f";r={policy.windows[0].limit}", _header(headers, "RateLimit"))
        return status, _with_header(headers, "RateLimit", full or None), body

    return Rewrite(mock_app(contract, policy), answer)


def latin1_answers(contract: Contract) -> WsgiApp:
    """JSON answers encoded ISO-8859-1 and declared so: a client that decodes JSON as UTF-8, as
    RFC 8259 says, fails on the first non-ASCII letter."""

    def answer(environ: dict[str, Any], result: Answer) -> Answer:
        status, headers, body = result
        kind = _header(headers, "Content-Type")
        if kind.startswith("application/json") and body:
            text = body.decode("utf-8").encode("latin-1", errors="replace")
            return status, _with_header(headers, "Content-Type", "application/json; charset=iso-8859-1"), text
        return status, headers, body

    return Rewrite(mock_app(contract), answer)


# -- batch 6's misses, each the principle a blind fault broke ----------------------------------
def if_match_list_taken_as_no_precondition(contract: Contract) -> WsgiApp:
    """An If-Match list (``"a", "b"``) read as no If-Match at all: a list of stale tags passes."""

    def request(environ: dict[str, Any]) -> None:
        if "," in str(environ.get("HTTP_IF_MATCH", "")):
            environ.pop("HTTP_IF_MATCH", None)

    return Rewrite(mock_app(contract), request=request)


def delete_refused_once_active(contract: Contract) -> WsgiApp:
    """A delete the contract allows in every state, refused (409) once a campaign has moved."""
    app = mock_app(contract)

    def short_circuit(environ: dict[str, Any]) -> Answer | None:
        if environ["REQUEST_METHOD"] != "DELETE":
            return None
        read = dict(environ, REQUEST_METHOD="GET", CONTENT_LENGTH="0", QUERY_STRING="")
        status, _, body = call(app, read)
        if status.startswith("200") and json.loads(body).get("status") != "draft":
            return _json_answer(
                "409 Conflict", {"type": "about:blank", "title": "Conflict", "status": 409, "detail": "no"}
            )
        return None

    return Rewrite(app, short_circuit=short_circuit)


def integers_written_as_fractions(contract: Contract) -> WsgiApp:
    """Every integer of a JSON answer written with a fraction (``50.0``): the same number to
    JSON Schema, a decoding error to a strict client."""

    def answer(environ: dict[str, Any], result: Answer) -> Answer:
        status, headers, body = result
        if not status.startswith("2") or "json" not in _header(headers, "Content-Type"):
            return result
        return status, headers, re.sub(rb'("daily_limit": ?)(\d+)', rb"\1\2.0", body)

    return Rewrite(mock_app(contract), answer)


def forbidden_move_touches_the_campaign(contract: Contract) -> WsgiApp:
    """A refused move (409) that still writes the campaign (its updated_at and version move)."""
    app = mock_app(contract)

    def answer(environ: dict[str, Any], result: Answer) -> Answer:
        status, _, _ = result
        if status.startswith("409") and environ["REQUEST_METHOD"] == "POST":
            campaign = environ["PATH_INFO"].rsplit("/", 1)[0]
            touch = dict(environ, REQUEST_METHOD="PATCH", PATH_INFO=campaign, CONTENT_TYPE="application/json")
            touch["wsgi.input"], touch["CONTENT_LENGTH"], touch["QUERY_STRING"] = io.BytesIO(b"{}"), "2", ""
            touch.pop("HTTP_IF_MATCH", None)
            call(app, touch)
        return result

    return Rewrite(app, answer)
