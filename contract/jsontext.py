"""JSON out, total: every value the mock or the kit writes becomes bytes, whatever it holds.

A lone surrogate (``"\\ud800"``) cannot be encoded as UTF-8; ``json.dumps(ensure_ascii=False)``
followed by ``.encode("utf-8")`` then raises, and a raise while writing an answer, a state
file or a report turns one bad string into a 500 for everyone who reads it. Input is
refused before such strings are stored (``campaign_mock.server.web.bodies``); this is the
second line: the same value is written with ``\\uXXXX`` escapes instead, which is valid JSON.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

COMPACT = (",", ":")


def json_bytes(value: Any, *, compact: bool = True) -> bytes:
    """``value`` as UTF-8 JSON; strings UTF-8 cannot hold are written as ``\\u`` escapes.

    orjson writes the same compact bytes about ten times faster; what it refuses (a lone
    surrogate, an integer beyond 64 bits, a key that is not a string) goes the slow way."""
    if compact:
        try:
            return orjson.dumps(value)
        except TypeError:  # orjson.JSONEncodeError is one
            pass
    separators = COMPACT if compact else None
    try:
        return json.dumps(value, ensure_ascii=False, separators=separators).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, ensure_ascii=True, separators=separators).encode("ascii")


def printable(text: str) -> str:
    """``text`` with whatever UTF-8 cannot hold written as a backslash escape (for terminals and files)."""
    return text.encode("utf-8", errors="backslashreplace").decode("utf-8")


def json_ascii(value: Any) -> str:
    """``value`` as compact JSON in ASCII (``\\u`` escapes for the rest): always storable, as
    text in SQLite or bytes in Redis, whatever strings it holds."""
    return json.dumps(value, separators=COMPACT)


def parse_json(text: str | bytes) -> Any:
    """JSON this program stored, parsed: by orjson (several times the standard library's speed
    on a campaign), else by the standard library, which also takes what orjson refuses (a lone
    surrogate escape, an integer beyond 64 bits)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
