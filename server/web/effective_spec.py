"""The spec as this server really behaves: what ``/openapi.yaml`` and ``/openapi.json`` serve.

- When the configured error format differs from the one the spec was written for
  (``x-error-format``), every 4xx/5xx response documents the configured format instead, each
  status with its own shape (a vendor whose 404 differs from its 400 keeps both apart).
- ``x-rate-limit`` states the limits in force (spec, config and flags merged), and every
  limited operation documents its 429 with ``Retry-After`` and its rate-limit headers.
- The answers the server gives before or beside the contract's own (405 for a method the
  path lacks, 408 for a body that never came, 413, 414, 415, 431, 507 for a bound reached)
  are documented on every operation they can reach, each as a reference to one component
  (``components/responses/Mock...``) rather than a copy per operation.

So a conformance check against the served spec checks what the server really sends.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from campaign_mock.contract.jsontext import json_bytes
from campaign_mock.contract.operations import HTTP_METHODS, resolve
from campaign_mock.server.traffic.traffic import EXTENSION as RATE_LIMIT_EXTENSION
from campaign_mock.server.traffic.traffic import RateLimitPolicy
from campaign_mock.server.web.error_formats import ErrorFormat

NATIVE_FORMAT_KEY = "x-error-format"
HEADER_NAMES = {
    "ietf": ("RateLimit-Policy", "RateLimit"),
    "legacy": ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"),
    "none": (),
}
COMPONENT_PREFIX = "#/components/responses/"
WRITES = frozenset({"create", "update", "transition"})


@dataclass(frozen=True)
class ServerAnswer:
    """An answer the server itself may give to an operation."""

    status: int
    component: str
    description: str
    with_body_only: bool = False  # only where the operation takes a request body
    kinds: frozenset[str] | None = None  # only for operations of these x-operation kinds


SERVER_ANSWERS = (
    ServerAnswer(405, "MockMethodNotAllowed", "The path has no such method; `Allow` names those it has."),
    ServerAnswer(
        408, "MockRequestTimeout", "The body did not arrive in time (--body-timeout); the connection closes.", True
    ),
    ServerAnswer(413, "MockPayloadTooLarge", "The body is over --max-body-bytes; refused before it is read.", True),
    ServerAnswer(414, "MockUriTooLong", "The query string is over --max-query-bytes."),
    ServerAnswer(415, "MockUnsupportedMediaType", "The body's Content-Type is not one this operation takes.", True),
    ServerAnswer(431, "MockHeadersTooLarge", "The headers are over --max-header-bytes."),
    ServerAnswer(507, "MockInsufficientStorage", "A bound is reached: --max-campaigns or --max-events.", kinds=WRITES),
)


def _operations(served: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        item[method]
        for item in (served.get("paths") or {}).values()
        for method in HTTP_METHODS
        if isinstance(item.get(method), dict)
    ]


def _error_content(error_format: ErrorFormat, status: int | None) -> dict[str, Any]:
    return {error_format.media_type: {"schema": error_format.schema(status)}}


def _use_error_format(served: dict[str, Any], error_format: ErrorFormat) -> None:
    """Every error response documents ``error_format``. A shared response component is changed
    in place where the format writes one shape for all statuses; where shapes differ by status,
    each operation's response gets a copy with its own status's shape."""
    served[NATIVE_FORMAT_KEY] = error_format.declaration
    one_shape = error_format.schema(400) == error_format.schema(404) == error_format.schema(500)
    for operation in _operations(served):
        responses = operation.get("responses") or {}
        for status, response in list(responses.items()):
            if str(status)[0] not in "45":
                continue
            target, _ = resolve(served, response, "")
            if not target.get("content"):
                continue
            code = int(status) if str(status).isdecimal() else None
            if one_shape:
                target["content"] = _error_content(error_format, code)
            else:
                responses[status] = {**copy.deepcopy(target), "content": _error_content(error_format, code)}


def _string_header(description: str, required: bool) -> dict[str, Any]:
    return {"description": description, "required": required, "schema": {"type": "string"}}


def _components(served: dict[str, Any]) -> dict[str, Any]:
    responses: dict[str, Any] = served.setdefault("components", {}).setdefault("responses", {})
    return responses


def _document_server_answers(served: dict[str, Any], error_format: ErrorFormat) -> None:
    components = _components(served)
    for answer in SERVER_ANSWERS:
        components[answer.component] = {
            "description": answer.description,
            "content": _error_content(error_format, answer.status),
        }
    for operation in _operations(served):
        responses = operation.setdefault("responses", {})
        kind = (operation.get("x-operation") or {}).get("kind")
        for answer in SERVER_ANSWERS:
            if str(answer.status) in responses:
                continue
            if (answer.with_body_only and "requestBody" not in operation) or (
                answer.kinds is not None and kind not in answer.kinds
            ):
                continue
            responses[str(answer.status)] = {"$ref": COMPONENT_PREFIX + answer.component}


def _document_limits(served: dict[str, Any], error_format: ErrorFormat, policy: RateLimitPolicy) -> None:
    served[RATE_LIMIT_EXTENSION] = policy.describe()
    names = HEADER_NAMES[policy.headers]
    too_many_headers = {"Retry-After": _string_header("Seconds to wait before retrying.", True)}
    if policy.headers_on_429:
        too_many_headers.update({name: _string_header("Rate-limit state.", False) for name in names})
    _components(served)["MockTooManyRequests"] = {
        "description": f"Over the rate limit ({', '.join(policy.describe()['windows']) or 'concurrency'}).",
        "headers": too_many_headers,
        "content": _error_content(error_format, 429),
    }
    for operation in _operations(served):
        if operation.get("operationId") in policy.exempt:
            continue
        responses = operation.setdefault("responses", {})
        responses["429"] = {"$ref": COMPONENT_PREFIX + "MockTooManyRequests"}
        for status, response in list(responses.items()):
            if str(status).startswith("2") and names:
                target, _ = resolve(served, response, "")
                copied = copy.deepcopy(target)
                copied.setdefault("headers", {}).update(
                    {name: _string_header("Rate-limit state.", False) for name in names}
                )
                responses[status] = copied


def effective_document(
    document: Mapping[str, Any], error_format: ErrorFormat, policy: RateLimitPolicy | None = None
) -> dict[str, Any]:
    served = copy.deepcopy(dict(document))
    if served.get(NATIVE_FORMAT_KEY, "problem") != error_format.declaration:
        _use_error_format(served, error_format)
    _document_server_answers(served, error_format)
    if policy is not None and policy.active:
        _document_limits(served, error_format, policy)
    else:
        served.pop(RATE_LIMIT_EXTENSION, None)
    return served


def effective_admin_document(
    document: Mapping[str, Any], error_format: ErrorFormat, admin_key_required: bool
) -> dict[str, Any]:
    """The admin contract as this server serves it: whether its key is needed, and its errors'
    format (the admin API answers in the configured format too)."""
    served = copy.deepcopy(dict(document))
    served["security"] = [{"adminKey": []}] if admin_key_required else [{}]
    if error_format.name != "problem":
        _use_error_format(served, error_format)
    return served


def render_yaml(document: Mapping[str, Any]) -> bytes:
    return yaml.safe_dump(dict(document), sort_keys=False, allow_unicode=True).encode("utf-8")


def render_json(document: Mapping[str, Any]) -> bytes:
    return json_bytes(document, compact=False)
