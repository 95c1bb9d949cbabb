"""RFC 3339 timestamps: strict parsing for validation, UTC rendering for answers.

``datetime.fromisoformat`` accepts more than RFC 3339 (no offset, week dates) and less
(lower-case ``t``/``z``, leap seconds), so the grammar is checked here first.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_RFC3339 = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$", re.ASCII)


def parse_timestamp(text: str) -> datetime | None:
    """An aware datetime for a valid RFC 3339 date-time, else None."""
    match = _RFC3339.match(text)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    fraction, offset = match.group(7) or "", match.group(8).upper()
    micro = int((fraction[1:] + "000000")[:6]) if fraction else 0
    if offset == "Z":
        offset = "+00:00"
    if int(offset[1:3]) > 23 or int(offset[4:6]) > 59:
        return None
    # A leap second (second 60) is legal RFC 3339; Python cannot hold it, so it reads as :59.
    second = min(second, 59)
    try:
        naive = datetime(year, month, day, hour, minute, second, micro)
        moment = datetime.fromisoformat(naive.isoformat() + offset)
        moment.astimezone(UTC)  # a moment UTC cannot hold (9999-12-31T23:59:59-23:59) is no moment here
    except (ValueError, OverflowError):
        return None
    return moment


_SPACED_UTC = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$", re.ASCII)


def parse_moment(text: str) -> datetime | None:
    """An RFC 3339 date-time, or a vendor's ``YYYY-MM-DD HH:MM:SS`` read as UTC (Ocamba's
    ``scheduled_time``); None for anything else."""
    if _SPACED_UTC.match(text):
        return parse_timestamp(text.replace(" ", "T") + "Z")
    return parse_timestamp(text)


def is_timestamp(value: object) -> bool:
    return not isinstance(value, str) or parse_timestamp(value) is not None


def format_timestamp(moment: datetime) -> str:
    """UTC with a ``Z``; a moment whose UTC form leaves the datetime range keeps its offset."""
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:
        return moment.isoformat()
    text = utc.isoformat(timespec="microseconds" if utc.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def normalize_timestamp(value: object) -> object:
    """Render a valid timestamp string in UTC; anything else is returned unchanged."""
    if isinstance(value, str):
        moment = parse_moment(value)
        if moment is not None:
            return format_timestamp(moment)
    return value


_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$", re.ASCII)


def parse_duration(text: str) -> timedelta | None:
    """An ISO 8601 duration of days, hours, minutes and seconds (``PT15M``, ``P1DT2H``); None
    for anything else (years and months have no fixed length, so they are not durations here)."""
    match = _DURATION.match(text)
    if match is None or text in ("P", "PT") or text.endswith("T"):
        return None
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def format_duration(span: timedelta) -> str:
    """``span`` as ISO 8601 (``PT15M``, ``P1DT2H``), as a contract writes it."""
    seconds = int(span.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    clock = "".join(f"{value}{unit}" for value, unit in ((hours, "H"), (minutes, "M"), (seconds, "S")) if value)
    return "P" + (f"{days}D" if days else "") + (f"T{clock}" if clock else "" if days else "T0S")
