"""Blind faults, batch 5: realistic bugs a server implementing one of the bundled contracts could have.

Each fault is the real mock (built as ``campaign-mock serve`` builds it) with a WSGI
middleware around it, or the mock built from an altered copy of the contract that still
serves the original spec at ``/openapi.yaml``. Written without reading the conformance kit:
the batch measures how well the kit catches bugs it was never told about.
BLIND_FAULTS_5.md describes each fault: the promise it breaks, the requests that reveal it,
and the correct and faulty answers.
"""

from __future__ import annotations

import copy
import io
import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import parse_qsl, urlencode
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from campaign_mock.contract.operations import Contract, build_contract
from campaign_mock.server.domain.clock import ControllableClock
from campaign_mock.server.domain.ids import ids_for
from campaign_mock.server.run.assembly import load_checked_contract
from campaign_mock.server.web.app import AppOptions, create_app
from campaign_mock.server.web.error_formats import spec_error_format

__all__ = ["FAULTS", "KEY", "BlindFault", "WsgiApp", "load_checked_contract", "real_app"]

KEY = "kit-key"

WsgiApp = WSGIApplication


@dataclass(frozen=True)
class BlindFault:
    name: str  # kebab-case id
    spec: str  # path relative to the repo root, e.g. "openapi/campaigns.yaml"
    promise: str  # the promise it breaks, citing where (contract path/line or README section)
    build: Callable[[Contract], WsgiApp]


def real_app(contract: Contract) -> WsgiApp:
    """The mock exactly as ``campaign-mock serve`` builds it for ``contract``."""
    error_format = spec_error_format(contract.document)
    options = AppOptions(api_keys=[KEY], log_requests=False, error_format=error_format)
    app = create_app(contract, options, clock=ControllableClock(), ids=ids_for(contract.document))
    return cast(WsgiApp, app)


# --------------------------------------------------------------------------------------------
# WSGI helpers: buffered answers, request bodies, paths
# --------------------------------------------------------------------------------------------


@dataclass
class Answer:
    """A whole answer of the wrapped app, to inspect and rewrite before it is sent."""

    status: str
    headers: list[tuple[str, str]]
    body: bytes
    head: bool = False  # the answer to a HEAD request: computed as for GET, sent without its body

    @property
    def code(self) -> int:
        return int(self.status.split(" ", 1)[0])

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def set_header(self, name: str, value: str | None) -> None:
        self.headers = [(key, val) for key, val in self.headers if key.lower() != name.lower()]
        if value is not None:
            self.headers.append((name, value))

    def json(self) -> Any:
        content_type = (self.header("Content-Type") or "").lower()
        if not self.body or "json" not in content_type:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def set_json(self, document: Any) -> None:
        self.body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        self.set_header("Content-Length", str(len(self.body)))


@dataclass
class _Capture:
    status: str = "500 Internal Server Error"
    headers: list[tuple[str, str]] = field(default_factory=list)


def _run(app: WsgiApp, environ: WSGIEnvironment) -> tuple[str, list[tuple[str, str]], bytes]:
    captured = _Capture()

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], object]:
        captured.status = status
        captured.headers = list(headers)
        return lambda _data: None

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return captured.status, captured.headers, body


def call(app: WsgiApp, environ: WSGIEnvironment, body_of_head: bool = False) -> Answer:
    """Run ``app`` on ``environ`` and buffer its whole answer.

    ``body_of_head``: a fault that rewrites the body of a read runs a HEAD request as GET, so
    the HEAD answer's Content-Length is that of the rewritten body; when the GET is no
    success, the HEAD is run as sent (error messages name the method)."""
    head = environ.get("REQUEST_METHOD") == "HEAD"
    if head and body_of_head:
        as_get = dict(environ)
        as_get["REQUEST_METHOD"] = "GET"
        status, headers, body = _run(app, as_get)
        if 200 <= int(status.split(" ", 1)[0]) < 300:
            return Answer(status, headers, body, head=True)
    status, headers, body = _run(app, environ)
    return Answer(status, headers, body, head=head)


def send(answer: Answer, start_response: StartResponse) -> Iterable[bytes]:
    start_response(answer.status, answer.headers)
    return [] if answer.head else [answer.body]


def read_body(environ: WSGIEnvironment) -> bytes:
    """The request body, read once; the environ gets a fresh stream with the same bytes."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return b""  # the app refuses the framing itself; leave the stream as it is
    stream = environ.get("wsgi.input")
    if stream is None or length <= 0:
        return b""
    data = cast(bytes, stream.read(length))
    environ["wsgi.input"] = io.BytesIO(data)
    return data


def set_body(environ: WSGIEnvironment, data: bytes) -> None:
    environ["wsgi.input"] = io.BytesIO(data)
    environ["CONTENT_LENGTH"] = str(len(data))


def json_body(environ: WSGIEnvironment) -> Any:
    """The request body as JSON when it is JSON (else None); the body stays readable."""
    data = read_body(environ)
    if "json" not in str(environ.get("CONTENT_TYPE", "")).lower() or not data:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return None


_SANDBOX = re.compile(r"^(/sandboxes/[^/]+)")


def split_path(environ: WSGIEnvironment, contract: Contract) -> tuple[str, str] | None:
    """(sandbox prefix, path under the contract's base path), or None outside the API."""
    path = str(environ.get("PATH_INFO", ""))
    prefix = ""
    found = _SANDBOX.match(path)
    if found:
        prefix = found.group(1)
        path = path[len(prefix) :]
    base = contract.base_path.rstrip("/")
    if base:
        if path != base and not path.startswith(base + "/"):
            return None
        path = path[len(base) :]
    return prefix, path or "/"


def query_pairs(environ: WSGIEnvironment) -> list[tuple[str, str]]:
    return parse_qsl(str(environ.get("QUERY_STRING", "")), keep_blank_values=True)


def sub_request(
    environ: WSGIEnvironment, path: str, query: str = "", method: str = "GET", body: bytes = b""
) -> WSGIEnvironment:
    """A copy of ``environ`` (same client, same credentials) for another request."""
    derived = dict(environ)
    derived["REQUEST_METHOD"] = method
    derived["PATH_INFO"] = path
    derived["QUERY_STRING"] = query
    derived["wsgi.input"] = io.BytesIO(body)
    derived["CONTENT_LENGTH"] = str(len(body)) if body else ""
    derived["CONTENT_TYPE"] = "application/json" if body else ""
    derived.pop("HTTP_IF_MATCH", None)
    return derived


Handler = Callable[[WsgiApp, WSGIEnvironment, StartResponse], Iterable[bytes]]


def wrapped(
    build_inner: Callable[[Contract], WsgiApp], handler: Callable[[Contract], Handler]
) -> Callable[[Contract], WsgiApp]:
    """A fault builder: the real app, and a handler that sees each request before it."""

    def build(contract: Contract) -> WsgiApp:
        inner = build_inner(contract)
        handle = handler(contract)

        def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
            return handle(inner, environ, start_response)

        return app

    return build


_SPEC_PATHS = re.compile(r"^(/sandboxes/[^/]+)?/(openapi\.(yaml|json)|docs(/.*)?)$")


def altered(mutate: Callable[[dict[str, Any]], None]) -> Callable[[Contract], WsgiApp]:
    """The mock built from a copy of the contract that ``mutate`` changed; the original
    contract's app answers the served spec and docs, so clients read the original promise."""

    def build(contract: Contract) -> WsgiApp:
        document: dict[str, Any] = copy.deepcopy(dict(contract.document))
        mutate(document)
        faulty = real_app(build_contract(document, contract.origin))
        original = real_app(contract)

        def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
            if _SPEC_PATHS.match(str(environ.get("PATH_INFO", ""))):
                return original(environ, start_response)
            return faulty(environ, start_response)

        return app

    return build


def _lifecycle(document: dict[str, Any]) -> dict[str, Any]:
    return cast(dict[str, Any], document["x-lifecycle"])


def _campaigns_in(document: Any, member: str) -> list[dict[str, Any]]:
    """The campaign objects an answer holds under ``member`` (one object or a list)."""
    if not isinstance(document, dict):
        return []
    value = document.get(member)
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, dict)]
    return []


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


_ACTION = re.compile(r"^/campaigns/([^/]+)/([a-z_]+)$")
_ONE = re.compile(r"^/campaigns/([^/]+)$")
_EVENTS = re.compile(r"^/campaigns/([^/]+)/events$")


# --------------------------------------------------------------------------------------------
# The canonical contract (openapi/campaigns.yaml)
# --------------------------------------------------------------------------------------------


def _total_ignores_status_filter(contract: Contract) -> Handler:
    """listCampaigns with a status filter: `total` (and `has_more`) count every campaign."""

    def handle(inner: WsgiApp, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        where = split_path(environ, contract)
        if (
            where is None
            or where[1] != "/campaigns"
            or environ.get("REQUEST_METHOD") not in ("GET", "HEAD")
            or not any(name == "status" for name, _ in query_pairs(environ))
        ):
            return inner(environ, start_response)
        answer = call(inner, environ, body_of_head=True)
        page = answer.json()
        if answer.code != 200 or not isinstance(page, dict) or not isinstance(page.get("pagination"), dict):
            return send(answer, start_response)
        everything = call(inner, sub_request(environ, str(environ["PATH_INFO"]), "limit=1")).json()
        if isinstance(everything, dict) and isinstance(everything.get("pagination"), dict):
            total = int(everything["pagination"]["total"])
            pagination = page["pagination"]
            pagination["total"] = total
            pagination["has_more"] = int(pagination["offset"]) + len(page.get("data") or []) < total
            answer.set_json(page)
        return send(answer, start_response)

    return handle


def _limit_max_refused(contract: Contract) -> Handler:
    """listCampaigns: `limit=100` (the documented maximum) is refused as if over it (>= for >)."""

    def handle(inner: WsgiApp, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        where = split_path(environ, contract)
        if where is None or where[1] != "/campaigns" or environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return inner(environ, start_response)
        limits = [_int(value) for name, value in query_pairs(environ) if name == "limit"]
        if limits != [100]:
            return inner(environ, start_response)
        # The rest of the request is checked as usual (credentials first): only a request the
        # mock would answer 200 gets the off-by-one refusal.
        answer = call(inner, environ)
        if answer.code != 200:
            return send(answer, start_response)
        detail = "100 is greater than or equal to the maximum of 100"
        problem = {
            "type": "urn:campaign-mock:problem:invalid-parameter",
            "title": "Invalid parameter",
            "status": 400,
            "detail": f"query parameter limit: {detail}",
            "errors": [{"in": "query", "name": "limit", "pointer": "", "detail": detail}],
        }
        refusal = Answer("400 Bad Request", [("Content-Type", "application/problem+json")], b"", head=answer.head)
        refusal.set_json(problem)
        return send(refusal, start_response)

    return handle


def _pause_only_from_active(document: dict[str, Any]) -> None:
    _lifecycle(document)["transitions"]["pause"]["from"] = ["active"]


def _clock_event_at_first_read(contract: Contract) -> Handler:
    """listCampaignEvents: a move the clock made is stamped with the clock's time when the
    history is first read after it, not the time it was due (`start_at` / `end_at`)."""
    timers = {str(timer.get("name")) for timer in contract.document["x-lifecycle"].get("timers", [])}
    seen: dict[tuple[str, str, int], str] = {}
    lock = threading.Lock()

    def handle(inner: WsgiApp, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        where = split_path(environ, contract)
        found = _EVENTS.match(where[1]) if where is not None else None
        if where is None or found is None or environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return inner(environ, start_response)
        answer = call(inner, environ, body_of_head=True)
        page = answer.json()
        if answer.code != 200 or not isinstance(page, dict) or not isinstance(page.get("data"), list):
            return send(answer, start_response)
        offset = int((page.get("pagination") or {}).get("offset", 0))
        now: str | None = None
        changed = False
        for index, event in enumerate(page["data"]):
            if not isinstance(event, dict) or event.get("action") not in timers:
                continue
            key = (where[0], found.group(1), offset + index)
            with lock:
                stamp = seen.get(key)
            if stamp is None:
                if now is None:
                    clock = call(inner, sub_request(environ, f"{where[0]}/__admin/clock")).json()
                    now = str(clock["now"]) if isinstance(clock, dict) and "now" in clock else str(event["at"])
                with lock:
                    stamp = seen.setdefault(key, now)
            event["at"] = stamp
            changed = True
        if changed:
            answer.set_json(page)
        return send(answer, start_response)

    return handle


def _events_later_pages_overlap(contract: Contract) -> Handler:
    """listCampaignEvents: an offset past 0 is applied one short (1-based slicing), so every
    later page starts with the last event of the page before it."""

    def handle(inner: WsgiApp, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        where = split_path(environ, contract)
        if where is None or not _EVENTS.match(where[1]) or environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return inner(environ, start_response)
        pairs = query_pairs(environ)
        offsets = [_int(value) for name, value in pairs if name == "offset"]
        if len(offsets) != 1 or offsets[0] is None or not 1 <= offsets[0] <= 1_000_000_000:
            return inner(environ, start_response)
        asked = offsets[0]
        environ["QUERY_STRING"] = urlencode(
            [(name, str(asked - 1) if name == "offset" else value) for name, value in pairs]
        )
        answer = call(inner, environ, body_of_head=True)
        page = answer.json()
        if answer.code == 200 and isinstance(page, dict) and isinstance(page.get("pagination"), dict):
            page["pagination"]["offset"] = asked
            answer.set_json(page)
        return send(answer, start_response)

    return handle


def _transition_etag_stale(contract: Contract) -> Handler:
    """Transitions answer the ETag of the version before the move (the record was tagged
    before its version was raised); reads, creates and updates tag correctly."""
    actions = set(contract.lifecycle.transitions)

    def handle(inner: WsgiApp, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        where = split_path(environ, contract)
        found = _ACTION.match(where[1]) if where is not None else None
        if found is None or found.group(2) not in actions or environ.get("REQUEST_METHOD") != "POST":
            return inner(environ, start_response)
        answer = call(inner, environ)
        etag = answer.header("ETag")
        version = _int(etag.strip('"')) if etag else None
        if answer.code == 200 and version is not None and version > 1:
            answer.set_header("ETag", f'"{version - 1}"')
        return send(answer, start_response)

    return handle


def _if_match_ignored_on_cancel(contract: Contract) -> Handler:
    """cancelCampaign never looks at If-Match: a stale tag cancels anyway."""

    def handle(inner: WsgiApp, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        where = split_path(environ, contract)
        found = _ACTION.match(where[1]) if where is not None else None
        if found is not None and found.group(2) == "cancel" and environ.get("REQUEST_METHOD") == "POST":
            environ.pop("HTTP_IF_MATCH", None)
        return inner(environ, start_response)

    return handle


def _settings_not_merged(contract: Contract) -> Handler:
    """updateCampaign: `settings` in a patch replaces the stored object, the members it leaves
    out falling back to the create defaults, instead of being merged key by key."""
    defaults: dict[str, Any] = {"daily_limit": 50, "track_opens": True}
    for item in contract.document.get("paths", {}).values():
        for operation in item.values():
            declared = operation.get("x-operation", {}) if isinstance(operation, dict) else {}
            if declared.get("kind") == "create" and isinstance(declared.get("defaults", {}).get("settings"), dict):
                defaults = dict(declared["defaults"]["settings"])

    def handle(inner: WsgiApp, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        where = split_path(environ, contract)
        if where is None or not _ONE.match(where[1]) or environ.get("REQUEST_METHOD") != "PATCH":
            return inner(environ, start_response)
        patch = json_body(environ)
        if isinstance(patch, dict) and isinstance(patch.get("settings"), dict):
            patch["settings"] = {**defaults, **patch["settings"]}
            set_body(environ, json.dumps(patch).encode("utf-8"))
        return inner(environ, start_response)

    return handle


def _delete_twice_204(contract: Contract) -> Handler:
    """deleteCampaign: deleting a campaign that was already deleted answers 204 again
    (reads of it answer 404 as they should)."""
    deleted: set[tuple[str, str]] = set()
    lock = threading.Lock()

    def handle(inner: WsgiApp, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        where = split_path(environ, contract)
        found = _ONE.match(where[1]) if where is not None else None
        if where is None or found is None or environ.get("REQUEST_METHOD") != "DELETE":
            return inner(environ, start_response)
        key = (where[0], found.group(1))
        answer = call(inner, environ)
        with lock:
            if answer.code == 204:
                deleted.add(key)
            elif answer.code == 404 and key in deleted:
                answer = Answer("204 No Content", [], b"")
        return send(answer, start_response)

    return handle


def _put_treated_as_patch(contract: Contract) -> Handler:
    """PUT /campaigns/{id}, a method the contract does not have, is routed to the update."""

    def handle(inner: WsgiApp, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        where = split_path(environ, contract)
        if where is not None and _ONE.match(where[1]) and environ.get("REQUEST_METHOD") == "PUT":
            environ["REQUEST_METHOD"] = "PATCH"
        return inner(environ, start_response)

    return handle


def _unprocessable_as_plain_json(contract: Contract) -> Handler:
    """422 answers are labelled application/json; every other error is application/problem+json."""

    def handle(inner: WsgiApp, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if split_path(environ, contract) is None:
            return inner(environ, start_response)
        answer = call(inner, environ)
        if answer.code == 422 and answer.header("Content-Type"):
            answer.set_header("Content-Type", "application/json")
        return send(answer, start_response)

    return handle


# --------------------------------------------------------------------------------------------
# Vendor profiles (openapi/profiles/*.yaml)
# --------------------------------------------------------------------------------------------


def _ocamba_remaining_off_by_one(contract: Contract) -> Handler:
    """X-RateLimit-Remaining is read before the request is counted: one more than is left."""

    def handle(inner: WsgiApp, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        answer = call(inner, environ)
        remaining = answer.header("X-RateLimit-Remaining")
        value = _int(remaining) if remaining is not None else None
        if value is not None:
            answer.set_header("X-RateLimit-Remaining", str(value + 1))
        return send(answer, start_response)

    return handle


def _ocamba_desc_name_sort_ignored(contract: Contract) -> Handler:
    """listCampaigns: `sort=-name` sorts ascending (the `-` is honoured for the other fields)."""

    def handle(inner: WsgiApp, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        where = split_path(environ, contract)
        if where is not None and where[1] == "/campaigns" and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            pairs = query_pairs(environ)
            if ("sort", "-name") in pairs:
                environ["QUERY_STRING"] = urlencode(
                    [(name, "name" if (name, value) == ("sort", "-name") else value) for name, value in pairs]
                )
        return inner(environ, start_response)

    return handle


def _woodpecker_bearer_accepted(contract: Contract) -> Handler:
    """Besides the documented `x-api-key` header, `Authorization: Bearer KEY` lets a client in."""

    def handle(inner: WsgiApp, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        authorization = str(environ.get("HTTP_AUTHORIZATION", ""))
        if "HTTP_X_API_KEY" not in environ and authorization[:7].lower() == "bearer ":
            environ["HTTP_X_API_KEY"] = authorization[7:].strip()
            del environ["HTTP_AUTHORIZATION"]
        return inner(environ, start_response)

    return handle


def _woodpecker_paused_update_keeps_state(document: dict[str, Any]) -> None:
    _lifecycle(document)["updates"]["moves"] = {"STOPPED": "EDITED"}


def _sevenheaven_create_active_not_stored(contract: Contract) -> Handler:
    """createCampaign with `"status": "active"` answers an active campaign but stores a draft."""

    def handle(inner: WsgiApp, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        where = split_path(environ, contract)
        if where is None or where[1] != "/campaign" or environ.get("REQUEST_METHOD") != "POST":
            return inner(environ, start_response)
        body = json_body(environ)
        if not isinstance(body, dict) or body.get("status") != "active":
            return inner(environ, start_response)
        del body["status"]
        set_body(environ, json.dumps(body).encode("utf-8"))
        answer = call(inner, environ)
        document = answer.json()
        if answer.code == 201 and isinstance(document, dict) and isinstance(document.get("data"), dict):
            document["data"]["status"] = "active"
            answer.set_json(document)
        return send(answer, start_response)

    return handle


def _sevenheaven_end_timer_only_from_active(document: dict[str, Any]) -> None:
    for timer in _lifecycle(document)["timers"]:
        if timer["name"] == "end":
            timer["from"] = ["active"]


def _tenant_send_keeps_updated_at(contract: Contract) -> Handler:
    """sendCampaign (start, resume, pause) never moves `updated_at`: its answer and every later
    read show the value from before the move, until an update or a clock-driven move."""
    frozen: dict[tuple[str, str], tuple[str, str]] = {}  # (sandbox, id) -> (real updated_at, shown one)
    lock = threading.Lock()

    def rewrite(prefix: str, answer: Answer) -> Answer:
        document = answer.json()
        changed = False
        for campaign in _campaigns_in(document, "data"):
            with lock:
                held = frozen.get((prefix, str(campaign.get("id"))))
            if held is not None and campaign.get("updated_at") == held[0]:
                campaign["updated_at"] = held[1]
                changed = True
        if changed:
            answer.set_json(document)
        return answer

    def handle(inner: WsgiApp, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        where = split_path(environ, contract)
        if where is None:
            return inner(environ, start_response)
        prefix, path = where
        found = _ACTION.match(path)
        if found is None or found.group(2) != "send" or environ.get("REQUEST_METHOD") != "POST":
            return send(rewrite(prefix, call(inner, environ, body_of_head=True)), start_response)
        campaign_path = str(environ["PATH_INFO"]).rsplit("/", 1)[0]  # the sandbox prefix and base path kept
        before = _campaigns_in(call(inner, sub_request(environ, campaign_path)).json(), "data")
        answer = call(inner, environ)
        after = _campaigns_in(answer.json(), "data")
        if answer.code == 200 and before and after:
            key = (prefix, found.group(1))
            old = str(before[0].get("updated_at"))
            with lock:
                held = frozen.get(key)
                shown = held[1] if held is not None and held[0] == old else old
                frozen[key] = (str(after[0].get("updated_at")), shown)
        return send(rewrite(prefix, answer), start_response)

    return handle


def _altcraft_from_id_inclusive(contract: Contract) -> Handler:
    """list: `from_id` keeps the campaign with that id (>= where the profile says >)."""

    def handle(inner: WsgiApp, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        where = split_path(environ, contract)
        if where is None or where[1] != "/list" or environ.get("REQUEST_METHOD") != "POST":
            return inner(environ, start_response)
        body = json_body(environ)
        if isinstance(body, dict):
            from_id = body.get("from_id")
            if isinstance(from_id, int) and not isinstance(from_id, bool) and 1 <= from_id <= 2147483647:
                body["from_id"] = from_id - 1
                set_body(environ, json.dumps(body).encode("utf-8"))
        return inner(environ, start_response)

    return handle


def _altcraft_404_coded_400(contract: Contract) -> Handler:
    """A missing campaign answers HTTP 404 with `"error": 400` in the envelope."""

    def handle(inner: WsgiApp, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        answer = call(inner, environ)
        if answer.code != 404:
            return send(answer, start_response)
        document = answer.json()
        if isinstance(document, dict) and document.get("error") == 404:
            document["error"] = 400
            answer.set_json(document)
        elif b"<error>404</error>" in answer.body:
            answer.body = answer.body.replace(b"<error>404</error>", b"<error>400</error>")
            answer.set_header("Content-Length", str(len(answer.body)))
        return send(answer, start_response)

    return handle


# --------------------------------------------------------------------------------------------
# The batch
# --------------------------------------------------------------------------------------------

CANONICAL = "openapi/campaigns.yaml"


def _fault(name: str, spec: str, promise: str, build: Callable[[Contract], WsgiApp]) -> BlindFault:
    return BlindFault(name=name, spec=spec, promise=promise, build=build)


FAULTS: list[BlindFault] = [
    _fault(
        "list-total-ignores-status-filter",
        CANONICAL,
        "listCampaigns returns 'One page of matching campaigns' (openapi/campaigns.yaml:92) and `status` keeps "
        "'Only campaigns in one of these states' (:72); pagination.total, like offset ('How many matching "
        "campaigns to skip', :87), counts the matching campaigns (README 'The canonical API'). With ?status=... "
        "the faulty total and has_more count every campaign.",
        wrapped(real_app, _total_ignores_status_filter),
    ),
    _fault(
        "list-limit-max-refused",
        CANONICAL,
        "listCampaigns limit schema {minimum: 1, maximum: 100, default: 20} (openapi/campaigns.yaml:80-83; README"
        " 'The canonical API': limit=1..100). limit=100 is refused 400 as if over the maximum (>= where > is "
        "meant); 99 is served, 101 refused as it should be.",
        wrapped(real_app, _limit_max_refused),
    ),
    _fault(
        "pause-from-scheduled-refused",
        CANONICAL,
        "x-lifecycle.transitions.pause: {from: [active, scheduled], to: paused} (openapi/campaigns.yaml:53); "
        "pauseCampaign summary 'Pause an active or scheduled campaign' (:304); README 'The lifecycle' table "
        "(scheduled + pause -> paused). Pausing a scheduled campaign answers 409 (allowed: cancel); pausing an "
        "active one works.",
        altered(_pause_only_from_active),
    ),
    _fault(
        "clock-event-at-first-read",
        CANONICAL,
        "x-lifecycle.timers (openapi/campaigns.yaml:57-59): a scheduled campaign becomes active at its start_at, "
        "an active or paused one completed at its end_at (info.description :8-10; README 'The lifecycle': event "
        "actions start/end; 'The clock': the moves are in the history). The faulty history stamps a clock-driven "
        "move with the server time of the first events read after it, not the start_at/end_at it happened at (the"
        " campaign's updated_at is right).",
        wrapped(real_app, _clock_event_at_first_read),
    ),
    _fault(
        "events-later-pages-overlap",
        CANONICAL,
        "listCampaignEvents offset: 'How many events to skip' (openapi/campaigns.yaml:256-258), history oldest "
        "first a page at a time (README 'The canonical API'). Any offset >= 1 skips one event fewer, so page 2 "
        "repeats the last event of page 1; pagination.offset still echoes the request.",
        wrapped(real_app, _events_later_pages_overlap),
    ),
    _fault(
        "transition-etag-stale",
        CANONICAL,
        "TransitionOk.headers.ETag: 'The campaign's version; send it back in If-Match' "
        "(openapi/campaigns.yaml:466-470); README 'The canonical API' (:99): every campaign answer carries an "
        "ETag, its version, raised by every write. Transition answers carry the version from before the move "
        "(create, get and update are right); sending it back in If-Match answers 412.",
        wrapped(real_app, _transition_etag_stale),
    ),
    _fault(
        "if-match-ignored-on-cancel",
        CANONICAL,
        "components.parameters.IfMatch on every transition, /campaigns/{campaign_id}/cancel included: 'A stale "
        "tag answers 412 and changes nothing' (openapi/campaigns.yaml:394-400); README 'The canonical API': PATCH"
        " and the transitions take If-Match, 412 with current_etag. cancelCampaign ignores If-Match and cancels "
        "with a stale tag (the other transitions and PATCH check it).",
        wrapped(real_app, _if_match_ignored_on_cancel),
    ),
    _fault(
        "patch-settings-not-merged",
        CANONICAL,
        "updateCampaign: JSON merge patch (RFC 7396), '`settings` is merged key by key' "
        "(openapi/campaigns.yaml:195-201; README 'The canonical API'). A patch naming one settings member resets "
        "the other to its create default: {settings: {daily_limit: 5}} turns track_opens false into true.",
        wrapped(real_app, _settings_not_merged),
    ),
    _fault(
        "delete-twice-204",
        CANONICAL,
        "deleteCampaign 204 'Deleted; later reads answer 404' (openapi/campaigns.yaml:227-234) and 404 'No "
        "campaign with this id (or it was deleted)' (:527); README 'The canonical API': 204, later 404. A second "
        "DELETE of the same campaign answers 204 instead of 404 (GET answers 404 as it should).",
        wrapped(real_app, _delete_twice_204),
    ),
    _fault(
        "put-treated-as-patch",
        CANONICAL,
        "paths./campaigns/{campaign_id} has get, patch and delete only (openapi/campaigns.yaml:182-240); README "
        "'Errors' (:131): 405 for a method the path does not have, with Allow. PUT /campaigns/{id} is served as "
        "an update (200, the campaign renamed); Allow still omits PUT.",
        wrapped(real_app, _put_treated_as_patch),
    ),
    _fault(
        "unprocessable-as-plain-json",
        CANONICAL,
        "components.responses.UnprocessableContent content application/problem+json "
        "(openapi/campaigns.yaml:584-587); info.description (:20): errors are RFC 9457 problem details "
        "(application/problem+json); README 'Error formats'. 422 answers are labelled application/json (same "
        "body); every other error keeps application/problem+json.",
        wrapped(real_app, _unprocessable_as_plain_json),
    ),
    _fault(
        "ocamba-remaining-off-by-one",
        "openapi/profiles/ocamba.yaml",
        "x-rate-limit windows [10/s, 150/min], headers: legacy (openapi/profiles/ocamba.yaml:35-39) and "
        "info.description (:17-20): X-RateLimit-Limit, -Remaining and -Reset on answers under the limit; README "
        "'Rate limits'. X-RateLimit-Remaining is one more than what is left: 10 after the first request of a "
        "window, 1 on the last one before the 429.",
        wrapped(real_app, _ocamba_remaining_off_by_one),
    ),
    _fault(
        "ocamba-desc-name-sort-ignored",
        "openapi/profiles/ocamba.yaml",
        "listCampaigns sort enum [name, -name, created_at, -created_at, status, -status] "
        "(openapi/profiles/ocamba.yaml:78); info.description (:22-23) '`sort` takes a field, `-` first for "
        "descending'; README 'Writing a contract' (sort_param, `-field` descending). sort=-name lists by name "
        "ascending; -created_at and -status are right.",
        wrapped(real_app, _ocamba_desc_name_sort_ignored),
    ),
    _fault(
        "woodpecker-bearer-accepted",
        "openapi/profiles/woodpecker.yaml",
        "security: [apiKey: []] (openapi/profiles/woodpecker.yaml:27-28) with apiKey {type: apiKey, in: header, "
        "name: x-api-key} (:178); info.description (:8) 'authenticated with the `x-api-key` header'; README "
        "'Errors': 401 for missing credentials. A request carrying the key only as 'Authorization: Bearer KEY' is"
        " served (and can run campaigns) instead of 401.",
        wrapped(real_app, _woodpecker_bearer_accepted),
    ),
    _fault(
        "woodpecker-paused-update-stays-paused",
        "openapi/profiles/woodpecker.yaml",
        "x-lifecycle.updates.moves {PAUSED: EDITED, STOPPED: EDITED} (openapi/profiles/woodpecker.yaml:46-48); "
        "updateCampaign summary 'PAUSED and STOPPED become EDITED' (:98); info.description (:20-22); README "
        "'woodpecker'. An update of a PAUSED campaign leaves it PAUSED; STOPPED still becomes EDITED.",
        altered(_woodpecker_paused_update_keeps_state),
    ),
    _fault(
        "sevenheaven-create-active-not-stored",
        "openapi/profiles/sevenheaven.yaml",
        "x-lifecycle.create_into [draft, active] (openapi/profiles/sevenheaven.yaml:31); CampaignCreate.status "
        "'The state to create in' (:182); info.description (:15-16); README 'sevenheaven': with \"status\": "
        '"active", active. The create answer says active but the campaign is stored in draft: a later GET says '
        "draft, and pause answers 409.",
        wrapped(real_app, _sevenheaven_create_active_not_stored),
    ),
    _fault(
        "sevenheaven-paused-never-completes",
        "openapi/profiles/sevenheaven.yaml",
        "x-lifecycle.timers {name: end, from: [active, paused], at: end_at, to: completed} "
        "(openapi/profiles/sevenheaven.yaml:38-39); info.description (:18) 'a campaign completes by itself at its"
        " end_at'; README 'The clock'. A paused campaign stays paused past its end_at (and can still be resumed);"
        " an active one completes.",
        altered(_sevenheaven_end_timer_only_from_active),
    ),
    _fault(
        "tenant-send-keeps-updated-at",
        "openapi/profiles/tenant.yaml",
        "Campaign.updated_at x-stamp: write (openapi/profiles/tenant.yaml:270); README 'Writing a contract': a "
        "`write` stamp is moved forward by every write (update, action, clock-driven move). sendCampaign (start, "
        "resume, pause) leaves updated_at where it was, in its answer and in later reads, until a PATCH moves it.",
        wrapped(real_app, _tenant_send_keeps_updated_at),
    ),
    _fault(
        "altcraft-from-id-inclusive",
        "openapi/profiles/altcraft.yaml",
        "list x-operation paging: keyset, after_param: from_id (openapi/profiles/altcraft.yaml:97-98); "
        "info.description (:24) '`from_id` lists campaigns with a greater id'; README 'Writing a contract' "
        "(after_param: ids greater than it) and 'altcraft'. from_id=N includes the campaign with id N (>= for >).",
        wrapped(real_app, _altcraft_from_id_inclusive),
    ),
    _fault(
        "altcraft-404-coded-400",
        "openapi/profiles/altcraft.yaml",
        "components.responses.Error 'The error code is the HTTP status' (openapi/profiles/altcraft.yaml:275); "
        "info.description (:21-22) 'the HTTP status equals the envelope's error code; a missing campaign is 404 "
        "in the envelope'; README 'altcraft'. A 404 answer carries \"error\": 400 in its envelope (JSON and XML).",
        wrapped(real_app, _altcraft_404_coded_400),
    ),
]


def faults_by_name() -> Mapping[str, BlindFault]:
    return {fault.name: fault for fault in FAULTS}
