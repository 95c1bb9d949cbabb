"""``--store URL``: which backend keeps the state, read and checked before anything starts.

- ``memory:`` (the default): in this process, gone when it stops;
- ``sqlite:PATH`` (``?synchronous=normal`` optional): a durable file on this machine;
- ``redis://[:PASSWORD@]HOST[:PORT][/DB]`` or ``rediss://`` (TLS): one state shared by
  every process and host that names it (redis-py's URL options, ``?socket_timeout=5`` and
  the like, pass through).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

KINDS = ("memory", "sqlite", "redis")
STORE_VALUES = "memory: | sqlite:PATH | redis://HOST:PORT/DB | rediss://..."
REDIS_EXTRA_HINT = "pip install 'campaign-mock[redis]'"


@dataclass(frozen=True)
class StoreUrl:
    kind: str
    text: str  # as given
    path: str = ""  # sqlite: the file
    synchronous: str = "full"  # sqlite


def parse_store_url(text: str) -> StoreUrl:
    """The store ``text`` names; ValueError saying what a store URL looks like otherwise."""
    value = text.strip()
    if value in ("memory", "memory:", "memory://"):
        return StoreUrl("memory", "memory:")
    if value.startswith("sqlite:"):
        location = value.removeprefix("sqlite:").removeprefix("//")
        path, _, query = location.partition("?")
        if not path:
            raise ValueError("sqlite: needs a file, as in sqlite:state/mock.db")
        options = parse_qs(query, keep_blank_values=True)
        unknown = sorted(set(options) - {"synchronous"})
        if unknown:
            raise ValueError(f"{value}: unknown option {unknown[0]!r}; sqlite takes ?synchronous=full|normal")
        synchronous = (options.get("synchronous") or ["full"])[-1].lower()
        if synchronous not in ("full", "normal"):
            raise ValueError(f"{value}: synchronous={synchronous!r}: expected full or normal")
        return StoreUrl("sqlite", value, path=path, synchronous=synchronous)
    if value.startswith(("redis://", "rediss://")):
        parts = urlsplit(value)
        try:
            port = parts.port
        except ValueError as exc:
            raise ValueError(f"{value}: {exc}") from exc
        if not parts.hostname:
            raise ValueError(f"{value}: no host; expected redis://HOST:PORT/DB, as in redis://127.0.0.1:6379/0")
        database = parts.path.strip("/")
        if database and not database.isdigit():
            raise ValueError(f"{value}: the database is a number (/0 to /15), not {database!r}")
        del port
        return StoreUrl("redis", value)
    raise ValueError(f"expected {STORE_VALUES}, got {text!r}")
