"""Deliberately broken variants of the mock, for proving the kit catches each fault.

Faults are planted here, in test code: a WSGI wrapper that rewrites what the real app
answers, or a server built from an altered copy of the contract. ``server/`` has no
switch for any of them.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from campaign_mock.contract.operations import Contract, build_contract, resolve
from campaign_mock.server.app import AppOptions, create_app
from campaign_mock.server.clock import ControllableClock
from campaign_mock.server.ids import RandomIds
from campaign_mock.server.traffic import RateLimitPolicy

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
        body = json.dumps(media["example"]).encode() if "example" in media else b""
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
