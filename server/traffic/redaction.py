"""Credentials never leave the mock in the clear: the journal, the logs and the start-up banner
show a key as ``****`` and its last 4 characters; a key of 8 characters or fewer, whose tail
would give half of it away, as ``****`` with its length and the first 6 hex digits of its
SHA-256 (``****(8 chars, sha256 1a2b3c)``), so two short keys can still be told apart.

Where credentials travel is read from the contract once: the Authorization header, the
headers and query parameters its API-key schemes name, and the body member
``x-token-field`` names (JSON or XML).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from campaign_mock.contract.jsontext import json_bytes
from campaign_mock.contract.operations import security_schemes

SHOWN_TAIL = 4
MIN_LENGTH_TO_SHOW_TAIL = 9
FINGERPRINT_DIGITS = 6


def mask(secret: str) -> str:
    """``****`` and the last 4 characters of a secret longer than 8; for a shorter one ``****``,
    its length and a short SHA-256 fingerprint (``****`` alone would make every short key look
    the same); ``****`` for an empty one."""
    if len(secret) >= MIN_LENGTH_TO_SHOW_TAIL:
        return "****" + secret[-SHOWN_TAIL:]
    if not secret:
        return "****"
    return f"****({len(secret)} chars, sha256 {fingerprint(secret)})"


def fingerprint(secret: str) -> str:
    """The first 6 hex digits of the secret's SHA-256: the same key always shows the same
    digits, in the banner, the journal and every process, and they do not spell the key."""
    digest = hashlib.sha256(secret.encode("utf-8", errors="replace")).hexdigest()
    return digest[:FINGERPRINT_DIGITS]


def mask_key_entry(entry: str) -> str:
    """A configured key, ``KEY@WORKSPACE#SCOPES``, with the key masked and the rest shown."""
    key, _, scopes = entry.partition("#")
    secret, at, workspace = key.rpartition("@") if "@" in key else (key, "", "")
    return mask(secret) + at + workspace + (f"#{scopes}" if scopes else "")


def mask_authorization(value: str) -> str:
    """``Bearer abcdefghijkl`` -> ``Bearer ****ijkl``: the scheme stays, the credential is masked."""
    scheme, separator, credential = value.strip().partition(" ")
    return f"{scheme} {mask(credential.strip())}" if separator else mask(value)


@dataclass(frozen=True)
class Redactor:
    """Masks credentials where one contract says they travel."""

    headers: frozenset[str]  # lower-case names, Authorization included
    query: frozenset[str]
    body_field: str | None

    @classmethod
    def for_document(cls, document: Mapping[str, Any]) -> Redactor:
        headers, query = {"authorization"}, set()
        for raw in security_schemes(document).values():
            if raw.get("type") == "apiKey" and raw.get("in") == "header":
                headers.add(str(raw.get("name", "")).lower())
            elif raw.get("type") == "apiKey" and raw.get("in") == "query":
                query.add(str(raw.get("name", "")))
        token = document.get("x-token-field")
        return cls(frozenset(headers), frozenset(query), str(token) if token else None)

    def header_value(self, name: str, value: str) -> str:
        lowered = name.lower()
        if lowered == "authorization":
            return mask_authorization(value)
        return mask(value) if lowered in self.headers else value

    def headers_of(self, headers: Mapping[str, str]) -> dict[str, str]:
        return {name: self.header_value(name, value) for name, value in headers.items()}

    def query_string(self, query: str) -> str:
        if not self.query or not query:
            return query
        pairs = parse_qsl(query, keep_blank_values=True)
        if not any(name in self.query for name, _ in pairs):
            return query
        return urlencode([(name, mask(value) if name in self.query else value) for name, value in pairs])

    def body(self, text: str | None) -> str | None:
        """The body with its token member masked (JSON or XML; other text is left as it is)."""
        if text is None or self.body_field is None or self.body_field not in text:
            return text
        try:
            document = json.loads(text)
        except ValueError:
            # Unreadable (cut short, malformed, XML): every place the member may stand is masked,
            # as a JSON member and as an XML element, so a token in a broken body stays masked too.
            masked = _JSON_MEMBER(self.body_field).sub(lambda m: m.group(1) + mask(m.group(2)) + m.group(3), text)
            return _XML_MEMBER(self.body_field).sub(lambda m: m.group(1) + mask(m.group(2)) + m.group(3), masked)
        if isinstance(document, dict) and isinstance(document.get(self.body_field), str):
            document[self.body_field] = mask(document[self.body_field])
            return json_bytes(document).decode("utf-8")
        return text


def _JSON_MEMBER(name: str) -> re.Pattern[str]:
    escaped = re.escape(json_bytes(name).decode("utf-8")[1:-1])
    return re.compile(rf'("{escaped}"\s*:\s*")((?:[^"\\]|\\.)*)("?)', re.DOTALL)


def _XML_MEMBER(name: str) -> re.Pattern[str]:
    escaped = re.escape(name)
    return re.compile(rf"(<{escaped}>)(.*?)(</{escaped}>)", re.DOTALL)


NO_REDACTION = Redactor(frozenset({"authorization"}), frozenset(), None)
