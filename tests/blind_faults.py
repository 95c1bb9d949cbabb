"""A blind batch of planted faults: realistic bugs written without reading the conformance kit.

Each fault is a WSGI middleware around the real mock (or, for two of them, the mock built
from an altered copy of the contract, with the original contract still served at
``/openapi.yaml``). They measure how well ``campaign-mock check`` catches bugs it was never
told about; tests/BLIND_FAULTS.md says, per fault, the promise it breaks and the requests that
reveal it.
"""

from __future__ import annotations

import copy
import io
import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from campaign_mock.contract.operations import Contract, build_contract
from campaign_mock.server.domain.clock import ControllableClock
from campaign_mock.server.domain.ids import ids_for
from campaign_mock.server.web.app import AppOptions, create_app
from campaign_mock.server.web.error_formats import spec_error_format

KEY = "kit-key"
WsgiApp = WSGIApplication
MAX_BUFFERED_BODY = 1024 * 1024  # bodies past this go to the mock untouched (its 413 stays as it is)


@dataclass(frozen=True)
class BlindFault:
    name: str  # short kebab-case id
    spec: str  # path relative to the repo root
    promise: str  # the contract/README promise it breaks, citing where
    build: Callable[[Contract], WsgiApp]  # the faulty app for the contract loaded from ``spec``


def real_app(contract: Contract) -> WsgiApp:
    """The unmodified mock, as ``campaign-mock serve`` builds it for this spec: key ``KEY`` only,
    the ids the spec's ``x-ids`` asks for and the error format its ``x-error-format`` names."""
    error_format = spec_error_format(contract.document)
    options = AppOptions(api_keys=[KEY], log_requests=False, error_format=error_format)
    app: WsgiApp = create_app(contract, options, clock=ControllableClock(), ids=ids_for(contract.document))
    return app


# ---------------------------------------------------------------------------------------------
# Small WSGI helpers


@dataclass
class Answer:
    """A whole answer of the wrapped app, to read and rewrite before it is sent."""

    status: str
    headers: list[tuple[str, str]]
    body: bytes

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
        if "json" not in content_type or not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def set_body(self, body: bytes, content_type: str | None) -> None:
        self.body = body
        self.set_header("Content-Type", content_type)
        self.set_header("Content-Length", str(len(body)))

    def set_json(self, value: Any) -> None:
        content_type = self.header("Content-Type") or "application/json"
        self.set_body(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode(), content_type)

    def set_status(self, code: int, reason: str) -> None:
        self.status = f"{code} {reason}"


def call(app: WsgiApp, environ: WSGIEnvironment) -> Answer:
    """Run ``app`` on ``environ`` and collect its whole answer."""
    seen: dict[str, Any] = {}
    chunks: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], object]:
        seen["status"] = status
        seen["headers"] = list(headers)
        return chunks.append

    result = app(environ, start_response)
    try:
        chunks.extend(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return Answer(str(seen["status"]), list(seen["headers"]), b"".join(chunks))


def send(answer: Answer, environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
    start_response(answer.status, answer.headers)
    return [b""] if environ.get("REQUEST_METHOD") == "HEAD" else [answer.body]


def method(environ: WSGIEnvironment) -> str:
    return str(environ.get("REQUEST_METHOD", "GET")).upper()


def path(environ: WSGIEnvironment) -> str:
    return str(environ.get("PATH_INFO", ""))


def query(environ: WSGIEnvironment) -> list[tuple[str, str]]:
    return parse_qsl(str(environ.get("QUERY_STRING", "")), keep_blank_values=True)


def take_body(environ: WSGIEnvironment) -> bytes | None:
    """Read the request body and put it back, so the app still reads it; None when too large to buffer."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if length > MAX_BUFFERED_BODY:
        return None
    body: bytes = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def put_body(environ: WSGIEnvironment, body: bytes) -> None:
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))


def json_of(body: bytes | None) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def internal(environ: WSGIEnvironment, verb: str, at: str, params: Iterable[tuple[str, str]] = ()) -> WSGIEnvironment:
    """An environ for a request the fault itself sends to the mock (same client, host and key)."""
    inner = dict(environ)
    for name in ("HTTP_IF_MATCH", "CONTENT_TYPE", "HTTP_X_HTTP_METHOD_OVERRIDE"):
        inner.pop(name, None)
    inner["REQUEST_METHOD"] = verb
    inner["PATH_INFO"] = at
    inner["QUERY_STRING"] = urlencode(list(params))
    put_body(inner, b"")
    return inner


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def campaigns_in(value: Any) -> list[dict[str, Any]]:
    """The campaign objects of an answer: the answer itself, ``data`` or ``data``'s items."""
    if not isinstance(value, dict):
        return []
    if "id" in value and "status" in value:
        return [value]
    data = value.get("data")
    if isinstance(data, dict) and "id" in data:
        return [data]
    if isinstance(data, list):
        return [item for item in data if isinstance(item, dict) and "id" in item]
    return []


SANDBOX = r"(?P<prefix>(?:/sandboxes/[A-Za-z0-9._-]+)?)"
CANONICAL_ITEM = re.compile(SANDBOX + r"/campaigns/(?P<id>[^/]+)$")
CANONICAL_LIST = re.compile(SANDBOX + r"/campaigns$")
CANONICAL_EVENTS = re.compile(SANDBOX + r"/campaigns/(?P<id>[^/]+)/events$")
CANONICAL_ACTION = re.compile(SANDBOX + r"/campaigns/(?P<id>[^/]+)/(?P<action>activate|pause|resume|cancel|complete)$")


def is_admin(at: str) -> bool:
    return bool(re.match(SANDBOX + r"/__admin(?:/|$)", at))


def serves_spec(at: str) -> bool:
    return bool(re.match(SANDBOX + r"/(?:openapi\.(?:yaml|json)|docs(?:/.*)?)$", at))


Rewrite = Callable[[WSGIEnvironment, Answer], None]


def rewriting(app: WsgiApp, rewrite: Rewrite, *, before: Callable[[WSGIEnvironment], None] | None = None) -> WsgiApp:
    """Run ``before`` on the request, the app, then ``rewrite`` on its whole answer."""

    def wrapped(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if before is not None:
            before(environ)
        answer = call(app, environ)
        rewrite(environ, answer)
        return send(answer, environ, start_response)

    return wrapped


def with_original_spec(faulty: WsgiApp, original: WsgiApp) -> WsgiApp:
    """Serve the original contract (``/openapi.yaml``, ``/openapi.json``, ``/docs``) and everything else faulty."""

    def wrapped(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        target = original if serves_spec(path(environ)) else faulty
        return target(environ, start_response)

    return wrapped


def altered(contract: Contract, change: Callable[[dict[str, Any]], None]) -> Contract:
    document: dict[str, Any] = copy.deepcopy(dict(contract.document))
    change(document)
    return build_contract(document, contract.origin)


@dataclass
class Memo:
    """Per-campaign state a fault keeps across requests."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)

    def put(self, key: str, name: str, value: Any) -> None:
        with self.lock:
            self.values.setdefault(key, {})[name] = value

    def drop(self, key: str, name: str) -> None:
        with self.lock:
            self.values.get(key, {}).pop(name, None)

    def get(self, key: str) -> dict[str, Any]:
        with self.lock:
            return dict(self.values.get(key, {}))


# ---------------------------------------------------------------------------------------------
# The canonical contract (openapi/campaigns.yaml)


def event_reason_dropped(contract: Contract) -> WsgiApp:
    """The history keeps the move but loses the reason the client gave for it."""

    def rewrite(environ: WSGIEnvironment, answer: Answer) -> None:
        if not (method(environ) == "GET" and CANONICAL_EVENTS.match(path(environ)) and answer.code == 200):
            return
        body = answer.json()
        if isinstance(body, dict) and isinstance(body.get("data"), list):
            for event in body["data"]:
                if isinstance(event, dict):
                    event["reason"] = None
            answer.set_json(body)

    return rewriting(real_app(contract), rewrite)


def list_order_by_updated(contract: Contract) -> WsgiApp:
    """The list is ordered by when campaigns last changed (an ORDER BY updated_at), not by creation."""
    app = real_app(contract)

    def rewrite(environ: WSGIEnvironment, answer: Answer) -> None:
        found = CANONICAL_LIST.match(path(environ))
        if not (method(environ) == "GET" and found and answer.code == 200):
            return
        body = answer.json()
        if not isinstance(body, dict) or not isinstance(body.get("pagination"), dict):
            return
        page = body["pagination"]
        statuses = [(name, value) for name, value in query(environ) if name == "status"]
        every: list[dict[str, Any]] = []
        while True:
            inner = internal(environ, "GET", path(environ), [*statuses, ("limit", "100"), ("offset", str(len(every)))])
            got = call(app, inner).json()
            items = got.get("data") if isinstance(got, dict) else None
            if not items:
                break
            every.extend(items)
            if not got["pagination"].get("has_more"):
                break
        order = {item["id"]: index for index, item in enumerate(every)}
        every.sort(key=lambda item: (parse_time(item.get("updated_at")) or datetime.min, order[item["id"]]))
        offset, limit = int(page.get("offset", 0)), int(page.get("limit", 20))
        body["data"] = every[offset : offset + limit]
        answer.set_json(body)

    return rewriting(app, rewrite)


def head_skips_auth(contract: Contract) -> WsgiApp:
    """The auth middleware lets "safe" HEAD requests through without credentials."""

    def before(environ: WSGIEnvironment) -> None:
        if method(environ) == "HEAD" and not is_admin(path(environ)):
            environ["HTTP_AUTHORIZATION"] = f"Bearer {KEY}"

    return rewriting(real_app(contract), lambda environ, answer: None, before=before)


def delete_missing_204(contract: Contract) -> WsgiApp:
    """DELETE is made "idempotent": a campaign that does not exist (or is gone) answers 204 too."""

    def rewrite(environ: WSGIEnvironment, answer: Answer) -> None:
        if method(environ) == "DELETE" and CANONICAL_ITEM.match(path(environ)) and answer.code == 404:
            answer.set_status(204, "No Content")
            answer.set_body(b"", None)
            answer.set_header("Content-Length", None)

    return rewriting(real_app(contract), rewrite)


def update_restamps_created_at(contract: Contract) -> WsgiApp:
    """Saving an update stamps both created_at and updated_at with the time of the save."""
    memo = Memo()

    def rewrite(environ: WSGIEnvironment, answer: Answer) -> None:
        if not 200 <= answer.code < 300:
            return
        body = answer.json()
        found = CANONICAL_ITEM.match(path(environ))
        if method(environ) == "PATCH" and found and isinstance(body, dict) and "updated_at" in body:
            memo.put(found["id"], "created_at", body["updated_at"])
        changed = False
        for campaign in campaigns_in(body):
            stamp = memo.get(str(campaign["id"])).get("created_at")
            if stamp is not None:
                campaign["created_at"] = stamp
                changed = True
        if changed:
            answer.set_json(body)

    return rewriting(real_app(contract), rewrite)


def times_keep_client_offset(contract: Contract) -> WsgiApp:
    """start_at and end_at are stored as the client wrote them and answered in its offset, not in UTC with Z."""
    memo = Memo()

    def before(environ: WSGIEnvironment) -> None:
        if method(environ) in ("POST", "PATCH"):
            environ["blind_faults.sent"] = json_of(take_body(environ))

    def rewrite(environ: WSGIEnvironment, answer: Answer) -> None:
        request = environ.get("blind_faults.sent")
        if not 200 <= answer.code < 300:
            return
        body = answer.json()
        at = path(environ)
        writes = (method(environ) == "POST" and CANONICAL_LIST.match(at)) or (
            method(environ) == "PATCH" and CANONICAL_ITEM.match(at)
        )
        if writes and isinstance(request, dict) and isinstance(body, dict) and "id" in body:
            for name in ("start_at", "end_at"):
                if name not in request:
                    continue
                value = request[name]
                if isinstance(value, str) and not value.endswith(("Z", "z")):
                    memo.put(str(body["id"]), name, value)
                else:
                    memo.drop(str(body["id"]), name)
        changed = False
        for campaign in campaigns_in(body):
            for name, raw in memo.get(str(campaign["id"])).items():
                if parse_time(campaign.get(name)) is not None and parse_time(campaign.get(name)) == parse_time(raw):
                    campaign[name] = raw
                    changed = True
        if changed:
            answer.set_json(body)

    return rewriting(real_app(contract), rewrite, before=before)


def if_match_first_tag_only(contract: Contract) -> WsgiApp:
    """If-Match is read as one tag: of a list, only the first is compared."""

    def before(environ: WSGIEnvironment) -> None:
        value = environ.get("HTTP_IF_MATCH")
        if isinstance(value, str) and "," in value:
            environ["HTTP_IF_MATCH"] = value.split(",", 1)[0].strip()

    return rewriting(real_app(contract), lambda environ, answer: None, before=before)


def if_match_check_then_write(contract: Contract) -> WsgiApp:
    """If-Match is compared against a read made before the write, not in the same atomic step."""
    app = real_app(contract)

    def wrapped(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        at = path(environ)
        found = CANONICAL_ITEM.match(at) or CANONICAL_ACTION.match(at)
        tags = str(environ.get("HTTP_IF_MATCH") or "").strip()
        writes = (method(environ) == "PATCH" and CANONICAL_ITEM.match(at)) or (
            method(environ) == "POST" and CANONICAL_ACTION.match(at)
        )
        if found and writes and tags and tags != "*":
            current = call(app, internal(environ, "GET", f"{found['prefix']}/campaigns/{found['id']}"))
            etag = current.header("ETag")
            listed = [tag.strip().removeprefix("W/") for tag in tags.split(",")]
            if current.code == 200 and etag in listed:
                time.sleep(0.5)  # the rest of the handler (validation, a store round trip) between check and write
                environ.pop("HTTP_IF_MATCH", None)
        return app(environ, start_response)

    return wrapped


def conflict_allowed_actions_inverted(contract: Contract) -> WsgiApp:
    """The 409's allowed_actions is computed from the wrong end of each transition: the actions that lead
    INTO the current state, not those allowed FROM it."""
    transitions: Mapping[str, Any] = contract.document.get("x-lifecycle", {}).get("transitions", {})
    into: dict[str, list[str]] = {}
    for action, rule in transitions.items():
        targets = [rule.get("to")] + [guard.get("to") for guard in rule.get("when", []) or []]
        for target in targets:
            if isinstance(target, str) and action not in into.setdefault(target, []):
                into[target].append(action)

    def rewrite(environ: WSGIEnvironment, answer: Answer) -> None:
        if answer.code != 409:
            return
        body = answer.json()
        if isinstance(body, dict) and "allowed_actions" in body and isinstance(body.get("current_status"), str):
            body["allowed_actions"] = into.get(body["current_status"], [])
            answer.set_json(body)

    return rewriting(real_app(contract), rewrite)


def json_charset_refused(contract: Contract) -> WsgiApp:
    """Content-Type is compared as a whole string: ``application/json; charset=utf-8`` is refused with 415."""

    def before(environ: WSGIEnvironment) -> None:
        content_type = str(environ.get("CONTENT_TYPE") or "")
        if ";" in content_type and not is_admin(path(environ)) and method(environ) in ("POST", "PATCH", "PUT"):
            environ["blind_faults.content_type"] = content_type
            environ["CONTENT_TYPE"] = "text/plain"  # what the mock refuses; its 415 is rewritten below

    def rewrite(environ: WSGIEnvironment, answer: Answer) -> None:
        sent = environ.get("blind_faults.content_type")
        if sent is None or answer.code != 415:
            return
        body = answer.json()
        if isinstance(body, dict) and isinstance(body.get("detail"), str):
            body["detail"] = body["detail"].replace("text/plain", sent)
            answer.set_json(body)

    return rewriting(real_app(contract), rewrite, before=before)


def host_prefix_localhost(contract: Contract) -> WsgiApp:
    """The Host guard tests ``host.startswith("localhost")``: ``localhost.attacker.example`` passes (DNS rebinding)."""

    def before(environ: WSGIEnvironment) -> None:
        host = str(environ.get("HTTP_HOST") or "")
        found = re.match(r"^localhost\.([^:]+)(:\d+)?$", host, re.IGNORECASE)
        if found and not found[1].lower().endswith("localhost"):
            environ["HTTP_HOST"] = "localhost" + (found[2] or "")

    return rewriting(real_app(contract), lambda environ, answer: None, before=before)


def method_override_header(contract: Contract) -> WsgiApp:
    """A method-override middleware honours ``X-HTTP-Method-Override`` on POST, so a POST can delete or patch."""

    def before(environ: WSGIEnvironment) -> None:
        override = str(environ.get("HTTP_X_HTTP_METHOD_OVERRIDE") or "").upper()
        if method(environ) == "POST" and override in ("DELETE", "PATCH", "PUT", "GET"):
            environ["REQUEST_METHOD"] = override

    return rewriting(real_app(contract), lambda environ, answer: None, before=before)


def patch_time_conflict_422(contract: Contract) -> WsgiApp:
    """A patch whose end_at is not after the STORED start_at is answered as an invalid body (422), not 409."""

    def rewrite(environ: WSGIEnvironment, answer: Answer) -> None:
        if not (method(environ) == "PATCH" and CANONICAL_ITEM.match(path(environ)) and answer.code == 409):
            return
        body = answer.json()
        if not (isinstance(body, dict) and "would not be after" in str(body.get("detail", ""))):
            return
        detail = "end_at must be after start_at"
        answer.set_status(422, "Unprocessable Entity")
        answer.set_json(
            {
                "type": "urn:campaign-mock:problem:validation-failed",
                "title": "Invalid body",
                "status": 422,
                "detail": f"body /end_at: {detail}",
                "errors": [{"in": "body", "name": "end_at", "pointer": "/end_at", "detail": detail}],
            }
        )

    return rewriting(real_app(contract), rewrite)


# ---------------------------------------------------------------------------------------------
# Vendor profiles (openapi/profiles/*.yaml)


def ocamba_minute_window_unenforced(contract: Contract) -> WsgiApp:
    """Only the burst window (10/s) is enforced; the steady 150/min window is never counted."""

    def change(document: dict[str, Any]) -> None:
        document["x-rate-limit"]["windows"] = ["10/s"]

    faulty: WsgiApp = real_app(altered(contract, change))
    return with_original_spec(faulty, real_app(contract))


OCAMBA_LIST = re.compile(SANDBOX + r"/v1/hood/campaigns$")
OCAMBA_PAGE = re.compile(r"^([1-9][0-9]{0,5})(?:,([1-9][0-9]{0,2}))?$")


def ocamba_search_case_sensitive(contract: Contract) -> WsgiApp:
    """``q`` is matched with a case-sensitive ``in`` (a SQL LIKE on a case-sensitive collation)."""
    app = real_app(contract)

    def wrapped(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        params = query(environ)
        text = next((value for name, value in params if name == "q"), None)
        page = next((value for name, value in params if name == "page"), "1,20")
        paging = OCAMBA_PAGE.match(page)
        if not (method(environ) == "GET" and OCAMBA_LIST.match(path(environ)) and text and paging):
            return app(environ, start_response)
        number, size = int(paging[1]), int(paging[2] or 20)
        if size > 100:  # the mock's own 400
            return app(environ, start_response)
        kept = [(name, value) for name, value in params if name != "page"]
        every: list[dict[str, Any]] = []
        while True:  # pages of 100 (the most the mock serves); the first replaces the client's request
            inner = dict(environ)
            inner["QUERY_STRING"] = urlencode([*kept, ("page", f"{len(every) // 100 + 1},100")])
            answer = call(app, inner)
            body = answer.json()
            if answer.code != 200 or not isinstance(body, dict) or not isinstance(body.get("items"), list):
                return send(answer, environ, start_response)
            every.extend(body["items"])
            if not body["items"] or len(every) >= int(body.get("total", 0)):
                break
        matching = [item for item in every if text in str(item.get("name", ""))]
        answer.set_json({"total": len(matching), "items": matching[(number - 1) * size : number * size]})
        return send(answer, environ, start_response)

    return wrapped


WOODPECKER_ACTION = re.compile(SANDBOX + r"/rest/v2/campaigns/(?P<id>[^/]+)/(?:run|pause|stop)$")


def woodpecker_timer_completes_paused(contract: Contract) -> WsgiApp:
    """The job that completes campaigns at end_at picks every campaign past its end_at, PAUSED ones too."""

    def change(document: dict[str, Any]) -> None:
        for timer in document["x-lifecycle"]["timers"]:
            if timer["to"] == "COMPLETED":
                timer["from"] = ["RUNNING", "PAUSED"]

    faulty: WsgiApp = real_app(altered(contract, change))
    return with_original_spec(faulty, real_app(contract))


def woodpecker_action_answers_body(contract: Contract) -> WsgiApp:
    """/run, /pause and /stop answer ``{"success": true}`` as JSON where the contract promises no body."""

    def rewrite(environ: WSGIEnvironment, answer: Answer) -> None:
        if method(environ) == "POST" and WOODPECKER_ACTION.match(path(environ)) and answer.code == 200:
            answer.set_body(b'{"success":true}', "application/json")

    return rewriting(real_app(contract), rewrite)


ALTCRAFT_METHOD = re.compile(SANDBOX + r"/api/v1\.1/scampaigns/[a-z_]+$")


def altcraft_body_token_ignored(contract: Contract) -> WsgiApp:
    """Only the Authorization header is read; a token sent in the body (JSON or XML) is dropped."""

    def before(environ: WSGIEnvironment) -> None:
        if method(environ) != "POST" or not ALTCRAFT_METHOD.match(path(environ)):
            return
        body = take_body(environ)
        if not body:
            return
        content_type = str(environ.get("CONTENT_TYPE") or "").lower()
        if "xml" in content_type:
            put_body(environ, re.sub(rb"<token>[^<]*</token>|<token\s*/>", b"", body))
            return
        parsed = json_of(body)
        if isinstance(parsed, dict) and "token" in parsed:
            del parsed["token"]
            put_body(environ, json.dumps(parsed).encode())

    return rewriting(real_app(contract), lambda environ, answer: None, before=before)


SEVENHEAVEN_CREATE = re.compile(SANDBOX + r"/alpha/campaign$")
SEVENHEAVEN_ITEM = re.compile(SANDBOX + r"/alpha/campaign/(?P<id>[^/]+)$")
SEVENHEAVEN_ACTION = re.compile(SANDBOX + r"/alpha/campaign/(?P<id>[^/]+)/(?:pause|resume|cancel)$")


def sevenheaven_timer_keeps_updated_at(contract: Contract) -> WsgiApp:
    """updated_at is stamped by the request handlers only: the clock's move to completed leaves it as it was."""
    memo = Memo()

    def rewrite(environ: WSGIEnvironment, answer: Answer) -> None:
        body = answer.json()
        data = body.get("data") if isinstance(body, dict) else None
        if not (200 <= answer.code < 300 and isinstance(data, dict) and "id" in data):
            return
        at = path(environ)
        if method(environ) == "POST" and (SEVENHEAVEN_CREATE.match(at) or SEVENHEAVEN_ACTION.match(at)):
            memo.put(str(data["id"]), "updated_at", data.get("updated_at"))
        elif method(environ) in ("GET", "HEAD") and SEVENHEAVEN_ITEM.match(at):
            stamp = memo.get(str(data["id"])).get("updated_at")
            if stamp is not None and stamp != data.get("updated_at"):
                data["updated_at"] = stamp
                answer.set_json(body)

    return rewriting(real_app(contract), rewrite)


TENANT_LIST = re.compile(SANDBOX + r"/api/v1/tenant/campaigns$")


def tenant_foreign_workspace_empty(contract: Contract) -> WsgiApp:
    """The list filters by the ``workspace`` it is given instead of refusing a workspace that is not the key's."""

    def rewrite(environ: WSGIEnvironment, answer: Answer) -> None:
        if not (method(environ) in ("GET", "HEAD") and TENANT_LIST.match(path(environ)) and answer.code == 404):
            return
        params = dict(query(environ))
        try:
            limit, offset = int(params.get("limit", 20)), int(params.get("offset", 0))
        except ValueError:
            return
        answer.set_status(200, "OK")
        page = {"total": 0, "limit": limit, "offset": offset, "has_more": False}
        answer.set_body(b"", "application/json")
        answer.set_json({"success": True, "data": [], "pagination": page})

    return rewriting(real_app(contract), rewrite)


CANONICAL = "openapi/campaigns.yaml"

FAULTS: list[BlindFault] = [
    BlindFault(
        "event-reason-dropped",
        CANONICAL,
        "The reason sent with an action is 'recorded in the event history' (campaigns.yaml "
        "components/requestBodies/ActionReason; README 'The canonical API': events carry `reason`).",
        event_reason_dropped,
    ),
    BlindFault(
        "list-order-by-updated",
        CANONICAL,
        "listCampaigns answers 'oldest first' (campaigns.yaml listCampaigns summary 'List campaigns, oldest "
        "first.'; README 'The canonical API' table).",
        list_order_by_updated,
    ),
    BlindFault(
        "head-skips-auth",
        CANONICAL,
        "Every operation needs `Authorization: Bearer KEY` (campaigns.yaml root `security`) and HEAD answers "
        "'the same status and headers' as GET (README 'The canonical API'), so HEAD without a key is 401.",
        head_skips_auth,
    ),
    BlindFault(
        "delete-missing-204",
        CANONICAL,
        "deleteCampaign documents 404 'No campaign with this id (or it was deleted)' (campaigns.yaml "
        "deleteCampaign responses, components/responses/NotFound; README: '204, later 404').",
        delete_missing_204,
    ),
    BlindFault(
        "update-restamps-created-at",
        CANONICAL,
        "created_at is 'When the campaign was created; no later write changes it.' (campaigns.yaml "
        "components/schemas/Campaign created_at, x-stamp: create).",
        update_restamps_created_at,
    ),
    BlindFault(
        "times-keep-client-offset",
        CANONICAL,
        "Timestamps: 'answers are in UTC with a `Z`' (campaigns.yaml components/schemas/Timestamp description; "
        "README 'The canonical API').",
        times_keep_client_offset,
    ),
    BlindFault(
        "if-match-first-tag-only",
        CANONICAL,
        "PATCH and the transitions take `If-Match: \"3\"` (or `*`, or a list) (README 'The canonical API'; "
        "RFC 9110 13.1.1): a list naming the current version must pass.",
        if_match_first_tag_only,
    ),
    BlindFault(
        "if-match-check-then-write",
        CANONICAL,
        "'The check and the write are one atomic step.' (README 'The canonical API', ETag paragraph): of two "
        "writes sent with the same current If-Match, one must get 412.",
        if_match_check_then_write,
    ),
    BlindFault(
        "conflict-allowed-actions-inverted",
        CANONICAL,
        "The 409 body 'names the current status and the actions allowed from it' (campaigns.yaml "
        "components/responses/Conflict; README: allowed_actions).",
        conflict_allowed_actions_inverted,
    ),
    BlindFault(
        "json-charset-refused",
        CANONICAL,
        "Bodies are `application/json` (createCampaign, transitions) or `application/merge-patch+json` "
        "(updateCampaign); a charset parameter does not change the media type (RFC 9110 8.3.1), and 415 is only "
        "for a Content-Type 'the operation does not accept' (README 'Errors').",
        json_charset_refused,
    ),
    BlindFault(
        "host-prefix-localhost",
        CANONICAL,
        "'the Host header must be a loopback name (localhost, *.localhost), an IP address, or a name given with "
        "--allowed-hosts; any other is 403 host-not-allowed' (README 'The admin API', applies to every request).",
        host_prefix_localhost,
    ),
    BlindFault(
        "method-override-header",
        CANONICAL,
        "`/campaigns/{campaign_id}` has GET, PATCH and DELETE only: 'a method the path does not have' is 405 "
        "with Allow (README 'Errors'; campaigns.yaml paths); no header turns a POST into another method.",
        method_override_header,
    ),
    BlindFault(
        "patch-time-conflict-422",
        CANONICAL,
        "'A patch whose times would contradict the stored ones ... answers 409' (campaigns.yaml updateCampaign "
        "description; info.description; README 'Errors' 409 row).",
        patch_time_conflict_422,
    ),
    BlindFault(
        "ocamba-minute-window-unenforced",
        "openapi/profiles/ocamba.yaml",
        "'Rate limits per account in fixed windows, burst 10/s and steady 150/min' (ocamba.yaml info.description; "
        "x-rate-limit.windows [10/s, 150/min]; README 'Rate limits': all windows at once).",
        ocamba_minute_window_unenforced,
    ),
    BlindFault(
        "ocamba-search-case-sensitive",
        "openapi/profiles/ocamba.yaml",
        "'q matches the name, case-insensitively' (ocamba.yaml info.description, 'Our assumptions').",
        ocamba_search_case_sensitive,
    ),
    BlindFault(
        "woodpecker-timer-completes-paused",
        "openapi/profiles/woodpecker.yaml",
        "Only 'a RUNNING campaign completes by itself at its end_at' (woodpecker.yaml info.description; "
        "x-lifecycle.timers complete from [RUNNING]); a PAUSED one stays PAUSED.",
        woodpecker_timer_completes_paused,
    ),
    BlindFault(
        "woodpecker-action-answers-body",
        "openapi/profiles/woodpecker.yaml",
        "/pause and /run answer '200 with no body' (woodpecker.yaml info.description; components/responses/"
        "ActionDone 'Done; the answer has no body.'; README: 'An answer without a body has no Content-Type').",
        woodpecker_action_answers_body,
    ),
    BlindFault(
        "altcraft-body-token-ignored",
        "openapi/profiles/altcraft.yaml",
        "'the token in the body (\"token\") or as Authorization: Bearer' (altcraft.yaml info.description; "
        "securitySchemes.bearerAuth description; x-token-field: token).",
        altcraft_body_token_ignored,
    ),
    BlindFault(
        "sevenheaven-timer-keeps-updated-at",
        "openapi/profiles/sevenheaven.yaml",
        "updated_at is `x-stamp: write` (sevenheaven.yaml components/schemas/Campaign), which README 'Writing a "
        "contract' defines as 'moved forward by every write: update, action, clock-driven move'.",
        sevenheaven_timer_keeps_updated_at,
    ),
    BlindFault(
        "tenant-foreign-workspace-empty",
        "openapi/profiles/tenant.yaml",
        "The list's `workspace` 'must be the API key's own (404 otherwise)' (tenant.yaml listCampaigns parameter "
        "workspace; info.description: another workspace's slug in a list answers 404).",
        tenant_foreign_workspace_empty,
    ),
]
