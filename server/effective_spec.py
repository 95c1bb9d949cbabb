"""The spec as this server really behaves: what ``/openapi.yaml`` and ``/openapi.json`` serve.

When the configured error format differs from the one the spec was written for
(``x-error-format``), every 4xx/5xx response documents the configured format instead, so a
conformance check against the served spec checks what the server sends.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

import yaml

from contract.operations import HTTP_METHODS, resolve
from server.error_formats import ErrorFormat

NATIVE_FORMAT_KEY = "x-error-format"


def effective_document(document: Mapping[str, Any], error_format: ErrorFormat) -> dict[str, Any]:
    served = copy.deepcopy(dict(document))
    if served.get(NATIVE_FORMAT_KEY, "problem") == error_format.name:
        return served
    served[NATIVE_FORMAT_KEY] = error_format.name
    for item in (served.get("paths") or {}).values():
        for method in HTTP_METHODS:
            for status, response in ((item.get(method) or {}).get("responses") or {}).items():
                if str(status)[0] in "45":
                    target, _ = resolve(served, response, "")
                    if target.get("content"):
                        target["content"] = {error_format.media_type: {"schema": error_format.schema()}}
    return served


def render_yaml(document: Mapping[str, Any]) -> bytes:
    return yaml.safe_dump(dict(document), sort_keys=False, allow_unicode=True).encode("utf-8")


def render_json(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode("utf-8")
