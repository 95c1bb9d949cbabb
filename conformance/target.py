"""The implementation under test, reached over HTTP as the contract says.

Credentials go where the spec's security scheme puts them (bearer header, API-key header,
query); extra headers go on every request. A 429 is waited out (``Retry-After``) and
retried, so groups other than ``rate-limit`` are not disturbed by limits. Every exchange
is kept, so a failure can be reproduced as a sequence of curl lines and the ``errors``
group can judge every error the kit provoked.
"""

from __future__ import annotations

import http.client
import json
import re
import shlex
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import requests

from campaign_mock.conformance.results import UsageError
from campaign_mock.conformance.view import id_schema
from campaign_mock.contract.envelopes import wrap
from campaign_mock.contract.operations import Contract, Operation
from campaign_mock.contract.pointers import escape, with_value_at
from campaign_mock.contract.security import Placement, Security, split_basic
from campaign_mock.contract.tenancy import tenancy_spec

KEY_PLACEHOLDER = "${API_KEY}"
KEY_OTHER_CASE = "${API_KEY~~}"  # bash: the key with every letter's case swapped
KEY_LESS_ONE = "${API_KEY%?}"  # bash: the key less its last character
_EXPANSIONS = re.compile(r"(\$\{API_KEY(?:~~|%\?)?\})")


def shell_word(part: str) -> str:
    """``part`` as one shell word: literal text single-quoted, the key's expansions double-quoted."""
    pieces = _EXPANSIONS.split(part)
    if len(pieces) == 1:
        return shlex.quote(part)
    return "".join(f'"{piece}"' if _EXPANSIONS.fullmatch(piece) else shlex.quote(piece) for piece in pieces if piece)


MAX_RETRY_WAIT_SECONDS = 65.0
RETRIES_ON_429 = 3


Credential = Placement  # where the key goes; the kit's name for ``contract.security.Placement``


def as_documented(
    operation: Operation, json_body: Any, content_type: str | None, id_in_body: bool = False, campaign_id: Any = None
) -> tuple[Any, str | None]:
    """The body the kit built (the campaign's members) in the operation's request envelope,
    sent as the JSON media type the operation documents. A body only an id goes into (a
    JSON:API clone's ``{data: {type, id}}``) is the envelope with no members."""
    if json_body is None and id_in_body and operation.request_envelope is not None:
        json_body = {}
    if isinstance(json_body, dict):
        json_body = wrap(operation.request_envelope, json_body, campaign_id)
    if json_body is not None and content_type in (None, "application/json"):
        content_type = documented_json(operation) or content_type
    return json_body, content_type


def documented_json(operation: Operation) -> str | None:
    """The JSON media type the operation documents for its body, where it is not plain
    ``application/json`` (JSON:API's ``application/vnd.api+json``)."""
    documented = tuple(operation.body_schemas)
    if not documented or "application/json" in documented:
        return None
    return next((media for media in documented if media.split(";")[0].strip().endswith("+json")), None)


def credential_for(contract: Contract, operation: Operation | None = None) -> Credential | None:
    """How the spec says to send a key: the first scheme campaign-mock can place among the
    operation's security requirements; without an operation, the root's, or (a spec that
    secures operation by operation) the first secured operation's."""
    if operation is not None:
        requirements = operation.security
    else:
        requirements = tuple(contract.document.get("security") or ())
        secured = (op.security for op in contract.operations if any(op.security))
        requirements = requirements or next(secured, ())
    return Security.of(contract.document).first(requirements)


@dataclass
class Exchange:
    """One request the kit sent and what came back."""

    operation: Operation | None
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None
    status: int
    response_headers: Mapping[str, str]
    response_body: bytes
    masked_key: str | None = None

    def json(self) -> Any:
        try:
            return json.loads(self.response_body)
        except ValueError:
            return None

    @property
    def content_type(self) -> str:
        return str(self.response_headers.get("Content-Type", "")).split(";")[0].strip().lower()

    def curl(self) -> str:
        """A curl line that sends this request again: the valid key (and keys one edit away from
        it, which the auth group sends) written as ``${API_KEY}`` shell expansions, Basic
        credentials as ``-u``, any other (wrong) key as sent, so the line replays the finding."""
        parts = ["curl", "-i", "-X", self.method]
        for name, value in self.headers.items():
            try:
                user, password = split_basic(value) if name.lower() == "authorization" else ("", None)
            except ValueError:  # no Basic credentials: the header as it was sent
                user, password = "", None
            if password is not None:
                parts += ["-u", f"{user}:{self._masked(password)}"]
            else:
                parts += ["-H", f"{name}: {self._masked(value)}"]
        if self.body is not None:
            parts += ["--data-binary", self._masked(self.body.decode("utf-8", errors="replace"))]
        parts.append(self._masked(self.url))
        return " ".join(map(shell_word, parts))

    def _masked(self, text: str) -> str:
        key = self.masked_key
        if not key:
            return text
        text = text.replace(key, KEY_PLACEHOLDER)
        if key.swapcase() != key:
            text = text.replace(key.swapcase(), KEY_OTHER_CASE)
        return text.replace(key[:-1], KEY_LESS_ONE) if len(key) > 1 else text

    def brief(self) -> str:
        text = self.response_body[:300].decode("utf-8", errors="replace")
        return f"{self.status} {self.content_type or '(no content type)'} {text}".strip()


@dataclass(frozen=True)
class Framing:
    """An answer after which the next one on the same connection could not be read."""

    culprit: Exchange
    next_request: str
    reason: str


class TargetStopped(UsageError):
    """The implementation stopped answering: what the kit found before stays in the report."""

    def __init__(self, method: str, url: str, number: int, reason: str) -> None:
        super().__init__(f"{method} {url} got no answer: {reason}")
        self.request = f"{method} {url}"
        self.number = number
        self.reason = reason


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


@dataclass
class Target:
    contract: Contract
    base_url: str
    api_key: str | None = None
    extra_headers: dict[str, str] = field(default_factory=dict)
    tenant: str | None = None  # named on every list where the spec's x-tenancy has a query parameter
    timeout: float = 30.0
    wait_on_429: bool = True
    exchanges: list[Exchange] = field(default_factory=list)
    on_answer: Callable[[str, int, Mapping[str, str]], None] | None = None  # (operationId, status, headers)
    framing: list[Framing] = field(default_factory=list)  # answers that broke the connection for the next

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        base_path = self.contract.base_path
        given = urlsplit(self.base_url).path
        if base_path and not given.endswith(base_path):
            if given and base_path.startswith(given + "/"):
                # --base-url .../sandboxes/x with a spec served at .../sandboxes/x/openapi.yaml,
                # whose servers path (/sandboxes/x/v1/hood) already starts with what was given
                self.base_url = self.base_url[: len(self.base_url) - len(given)] + base_path
            else:
                self.base_url += base_path  # the spec's servers[0] path, e.g. /alpha, unless given
        self._session = requests.Session()
        tenancy = tenancy_spec(self.contract.document)
        self._tenant_query = tenancy.query if tenancy else None  # read once, not per request
        self._lock = threading.Lock()

    def url_for(self, operation: Operation, path_values: Mapping[str, str] | None = None) -> str:
        path = operation.path
        for name, value in (path_values or {}).items():
            path = path.replace("{" + name + "}", quote(str(value), safe=""))
        return self.base_url + path

    def send(
        self,
        operation: Operation | None,
        *,
        url: str | None = None,
        method: str | None = None,
        path_values: Mapping[str, str] | None = None,
        query: Mapping[str, Any] | None = None,
        json_body: Any = None,
        raw_body: bytes | None = None,
        content_type: str | None = None,
        key: str | bool | None = True,
        auth_override: Mapping[str, str] | None = None,
        wait_on_429: bool | None = None,
    ) -> Exchange:
        """Send one request. ``key``: True the configured key, a string another key, None or False none."""
        if operation is None and (url is None or method is None):
            raise ValueError("send() needs an operation or a url and a method")
        target_url = url or self.url_for(operation, path_values)  # type: ignore[arg-type]
        # (url_for leaves body ids alone: a path without the placeholder ignores them)
        verb = method or operation.method  # type: ignore[union-attr]
        headers = dict(self.extra_headers)
        params: dict[str, Any] = dict(query or {})
        if self._tenant_query and self.tenant and operation is not None and operation.kind == "list":
            params.setdefault(self._tenant_query, self.tenant)
        chosen = self.api_key if key is True else (key or None)
        credential = (
            credential_for(self.contract, operation) if operation is not None else credential_for(self.contract)
        )
        if chosen and credential is not None:
            credential.apply(chosen, headers, params)
        if auth_override:
            headers.update(auth_override)
        in_body = operation.extension.get("id_from_body") if operation is not None else None
        if operation is not None and raw_body is None:
            campaign_id = next(iter((path_values or {}).values()), None)
            json_body, content_type = as_documented(
                operation, json_body, content_type, bool(in_body and path_values), campaign_id
            )
        if in_body and path_values and raw_body is None:
            integer = id_schema(self.contract, operation).get("type") == "integer"  # type: ignore[arg-type]
            value = path_values[str(in_body)]
            typed = int(value) if integer and str(value).isdigit() else value
            where = str(in_body) if str(in_body).startswith("/") else "/" + escape(str(in_body))
            json_body = with_value_at(json_body if isinstance(json_body, dict) else {}, where, typed)
        if operation is not None and operation.extension.get("params_in") == "body" and raw_body is None:
            json_body = {**(json_body if isinstance(json_body, dict) else {}), **params}
            params = {}
        body = raw_body
        if json_body is not None:
            body = json.dumps(json_body).encode("utf-8")
            headers.setdefault("Content-Type", content_type or "application/json")
        elif content_type is not None:
            headers["Content-Type"] = content_type
        if params:
            target_url += ("&" if "?" in target_url else "?") + urlencode(params, doseq=True)
        waiting = self.wait_on_429 if wait_on_429 is None else wait_on_429
        for attempt in range(RETRIES_ON_429 + 1):
            exchange = self._exchange(operation, verb, target_url, headers, body)
            pause = _retry_after(exchange.response_headers.get("Retry-After"))
            if exchange.status != 429 or not waiting or attempt == RETRIES_ON_429 or pause is None:
                return exchange
            time.sleep(min(pause, MAX_RETRY_WAIT_SECONDS) + 0.05)
        return exchange

    def _exchange(
        self,
        operation: Operation | None,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes | None,
    ) -> Exchange:
        try:
            try:
                answer = self._session.request(method, url, headers=headers, data=body, timeout=self.timeout)
            except requests.ConnectionError as exc:
                # An answer that left bytes on the kept-alive connection (a 204 with a body, a wrong
                # Content-Length) breaks the next one: blame it, and ask again on a new connection.
                previous = self.exchanges[-1] if self.exchanges else None
                self._session.close()
                self._session = requests.Session()
                answer = self._session.request(method, url, headers=headers, data=body, timeout=self.timeout)
                if previous is not None and _garbled(exc):
                    self.framing.append(Framing(previous, f"{method} {url}", root_cause(exc)))
        except requests.Timeout as exc:
            raise TargetStopped(method, url, len(self.exchanges) + 1, f"no answer within {self.timeout:g} s") from exc
        except requests.RequestException as exc:
            raise TargetStopped(method, url, len(self.exchanges) + 1, root_cause(exc)) from exc
        exchange = Exchange(
            operation, method, url, headers, body, answer.status_code, answer.headers, answer.content, self.api_key
        )
        with self._lock:
            self.exchanges.append(exchange)
        if operation is not None and self.on_answer is not None:
            self.on_answer(operation.operation_id, exchange.status, exchange.response_headers)
        return exchange


def _garbled(error: BaseException) -> bool:
    """Whether the connection broke on bytes that are no answer (what an answer before left on it),
    not because the server closed an idle connection, which any client simply redials."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, http.client.BadStatusLine) and not isinstance(seen, http.client.RemoteDisconnected):
            return True
        if isinstance(seen, http.client.LineTooLong | http.client.IncompleteRead):
            return True
        seen = (
            seen.__cause__
            or seen.__context__
            or (seen.args[1] if len(seen.args) > 1 and isinstance(seen.args[1], BaseException) else None)
        )
    return False


def root_cause(error: BaseException) -> str:
    """The innermost cause of an error, readable: 'Connection refused', not urllib3's whole chain."""
    while error.__cause__ is not None or error.__context__ is not None:
        error = error.__cause__ or error.__context__  # type: ignore[assignment]
    return str(error) or error.__class__.__name__
