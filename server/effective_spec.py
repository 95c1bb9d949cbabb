"""The spec as this server really behaves: what ``/openapi.yaml`` and ``/openapi.json`` serve.

- When the configured error format differs from the one the spec was written for
  (``x-error-format``), every 4xx/5xx response documents the configured format instead.
- ``x-rate-limit`` states the limits in force (spec, config and flags merged), and every
  limited operation documents its 429 with ``Retry-After`` and its rate-limit headers.

So a conformance check against the served spec checks what the server really sends.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

import yaml

from campaign_mock.contract.operations import HTTP_METHODS, resolve
from campaign_mock.server.error_formats import ErrorFormat
from campaign_mock.server.traffic import EXTENSION as RATE_LIMIT_EXTENSION
from campaign_mock.server.traffic import RateLimitPolicy

NATIVE_FORMAT_KEY = "x-error-format"
HEADER_NAMES = {
    "ietf": ("RateLimit-Policy", "RateLimit"),
    "legacy": ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"),
    "none": (),
}


def _operations(served: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        item[method]
        for item in (served.get("paths") or {}).values()
        for method in HTTP_METHODS
        if isinstance(item.get(method), dict)
    ]


def _use_error_format(served: dict[str, Any], error_format: ErrorFormat) -> None:
    served[NATIVE_FORMAT_KEY] = error_format.name
    for operation in _operations(served):
        for status, response in (operation.get("responses") or {}).items():
            if str(status)[0] in "45":
                target, _ = resolve(served, response, "")
                if target.get("content"):
                    target["content"] = {error_format.media_type: {"schema": error_format.schema()}}


def _string_header(description: str, required: bool) -> dict[str, Any]:
    return {"description": description, "required": required, "schema": {"type": "string"}}


def _document_limits(served: dict[str, Any], error_format: ErrorFormat, policy: RateLimitPolicy) -> None:
    served[RATE_LIMIT_EXTENSION] = policy.describe()
    names = HEADER_NAMES[policy.headers]
    for operation in _operations(served):
        if operation.get("operationId") in policy.exempt:
            continue
        responses = operation.setdefault("responses", {})
        too_many_headers = {"Retry-After": _string_header("Seconds to wait before retrying.", True)}
        if policy.headers_on_429:
            too_many_headers.update({name: _string_header("Rate-limit state.", False) for name in names})
        responses["429"] = {
            "description": f"Over the rate limit ({', '.join(policy.describe()['windows']) or 'concurrency'}).",
            "headers": too_many_headers,
            "content": {error_format.media_type: {"schema": error_format.schema()}},
        }
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
    if served.get(NATIVE_FORMAT_KEY, "problem") != error_format.name:
        _use_error_format(served, error_format)
    if policy is not None and policy.active:
        _document_limits(served, error_format, policy)
    else:
        served.pop(RATE_LIMIT_EXTENSION, None)
    return served


def render_yaml(document: Mapping[str, Any]) -> bytes:
    return yaml.safe_dump(dict(document), sort_keys=False, allow_unicode=True).encode("utf-8")


def render_json(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode("utf-8")
