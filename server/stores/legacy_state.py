"""Old ``--state-file`` JSON snapshots (before the SQLite store): read once, to migrate them.

Everything that can go wrong is found as one line: a file that cannot be read, one written
for another spec, a record the contract forbids (an unknown or missing status, a history the
lifecycle could not produce), an id twice, a string the API would refuse: a lone surrogate
(``"\ud800"``) parses as JSON but is no Unicode text, so a request holding one is a 400
(``server.web.bodies``), and a migrated one would be served as if it had been accepted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from campaign_mock.contract.jsontext import printable
from campaign_mock.contract.operations import Contract
from campaign_mock.server.domain.errors import ApiError
from campaign_mock.server.domain.records import RecordChecks

FORMAT = "campaign-mock-state"
FORMAT_VERSION = 1


class StateFileError(Exception):
    """The state file exists but cannot be used; the message names it and the problem."""


def contract_title(contract: Contract) -> str:
    """What says which contract a store's data belongs to."""
    return str(contract.document.get("info", {}).get("title", ""))


def looks_like_state_file(path: Path) -> bool:
    """Whether ``path`` starts as a JSON object would (an old state file, not a database)."""
    try:
        with path.open("rb") as stream:
            return stream.read(64).lstrip()[:1] == b"{"
    except OSError:
        return False


def read_state_file(path: Path, contract: Contract) -> list[dict[str, Any]]:
    """The checked records ({id, version, campaign, events}) of an old state file."""
    try:
        text = path.read_text(encoding="utf-8")
        document = json.loads(text)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StateFileError(f"{path}: cannot read the state file: {exc}") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise StateFileError(f'{path}: not a campaign-mock state file (no "format": "{FORMAT}")')
    if document.get("version") != FORMAT_VERSION:
        raise StateFileError(
            f"{path}: state format version {document.get('version')!r}; this build reads {FORMAT_VERSION}"
        )
    written_for = document.get("contract")
    ours = contract_title(contract)
    if isinstance(written_for, Mapping) and written_for.get("title") != ours:
        raise StateFileError(
            f"{path}: written by a mock serving {written_for.get('title')!r}, not {ours!r}; "
            "give another --state-file, or serve the spec it belongs to"
        )
    campaigns = document.get("campaigns")
    if not isinstance(campaigns, list) or not all(_is_entry(entry) for entry in campaigns):
        raise StateFileError(f'{path}: "campaigns" must be a list of {{id, version, campaign, events}}')
    if "\\u" in text:  # only an escape can spell a lone surrogate: strict UTF-8 holds none
        _refuse_lone_surrogates(path, document)
    _check_records(path, contract, campaigns)
    return campaigns


def _check_records(path: Path, contract: Contract, campaigns: list[dict[str, Any]]) -> None:
    checks = RecordChecks(contract)
    seen: set[str] = set()
    for index, entry in enumerate(campaigns):
        campaign_id = entry["id"]
        if campaign_id in seen:
            raise StateFileError(f"{path}: campaign id {campaign_id!r} is stored twice (records {index} and before)")
        seen.add(campaign_id)
        if str(entry["campaign"].get("id")) != campaign_id:
            raise StateFileError(f"{path}: record {index} ({campaign_id!r}) holds a campaign with another id")
        try:
            checks.check(entry["campaign"], entry["events"], f"/campaigns/{index}")
        except ApiError as problem:
            raise StateFileError(f"{path}: campaign {campaign_id!r}: {problem.detail}") from problem


def _refuse_lone_surrogates(path: Path, document: Any) -> None:
    """StateFileError naming the first string (or member name) that is not Unicode text."""
    stack: list[tuple[Any, str]] = [(document, "")]
    while stack:
        node, pointer = stack.pop()
        if isinstance(node, dict):
            for key, child in node.items():
                where = f"{pointer}/{printable(key)}"
                if not _is_unicode(key):
                    _lone_surrogate(path, document, where, "member name")
                stack.append((child, where))
        elif isinstance(node, list):
            stack.extend((child, f"{pointer}/{index}") for index, child in enumerate(node))
        elif isinstance(node, str) and not _is_unicode(node):
            _lone_surrogate(path, document, pointer, "string")


def _lone_surrogate(path: Path, document: Any, pointer: str, what: str) -> None:
    campaign = ""
    parts = pointer.split("/")
    if len(parts) > 2 and parts[1] == "campaigns" and parts[2].isdigit():
        entry = document["campaigns"][int(parts[2])]
        if isinstance(entry, dict) and isinstance(entry.get("id"), str) and _is_unicode(entry["id"]):
            campaign = f"campaign {entry['id']!r}: "
    raise StateFileError(
        f"{path}: {campaign}the {what} at {pointer} holds a lone surrogate (a \\uD800-\\uDFFF escape without its "
        "pair), which is no Unicode text and which the API refuses (400); write the character itself, or both "
        "halves of the pair"
    )


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_entry(entry: Any) -> bool:
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("id"), str)
        and isinstance(entry.get("version"), int)
        and isinstance(entry.get("campaign"), dict)
        and isinstance(entry.get("events"), list)
    )
