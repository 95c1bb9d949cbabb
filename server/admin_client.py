"""A small client for the admin API, for users' tests (standard library only).

admin = AdminClient("http://127.0.0.1:8080")                 # the default sandbox
mine = AdminClient("http://127.0.0.1:8080", sandbox="ci-42")  # /sandboxes/ci-42/__admin
admin.set_clock(now="2026-12-01T09:00:00Z", frozen=True)
admin.advance_clock(3600)
admin.set_faults([{"operation": "getCampaign", "error_rate": 1.0, "error_status": 503}])
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from campaign_mock.server.web.guard import MARKER_HEADER

ADMIN_PREFIX = "/__admin"


class AdminError(Exception):
    """The admin API refused a call; ``status`` and ``body`` say why."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"admin API answered {status}: {body}")
        self.status = status
        self.body = body


class AdminClient:
    def __init__(
        self, base_url: str, admin_key: str | None = None, timeout: float = 30.0, sandbox: str | None = None
    ) -> None:
        """``base_url``: the server's root (scheme, host, port); ``sandbox``: steer that sandbox
        (``/sandboxes/NAME/__admin``) instead of the default one."""
        self.base_url = base_url.rstrip("/")
        self.sandbox = sandbox
        self._admin_key = admin_key
        self._timeout = timeout

    def for_sandbox(self, sandbox: str | None) -> AdminClient:
        """The same server and key, steering ``sandbox``."""
        return AdminClient(self.base_url, self._admin_key, self._timeout, sandbox)

    def _call(self, method: str, path: str, body: Any = None, query: dict[str, Any] | None = None) -> Any:
        prefix = f"/sandboxes/{urllib.parse.quote(self.sandbox, safe='')}" if self.sandbox else ""
        url = f"{self.base_url}{prefix}{ADMIN_PREFIX}{path}"
        given = {name: value for name, value in (query or {}).items() if value is not None}
        if given:
            url += "?" + urllib.parse.urlencode(given)
        # The marker shows the admin API this is no browser form sent cross-site (``web.guard``).
        headers = {"Accept": "application/json", MARKER_HEADER: "admin-client"}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if self._admin_key:
            headers["Authorization"] = f"Bearer {self._admin_key}"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 (http(s) only)
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as answer:  # noqa: S310
                raw = answer.read()
        except urllib.error.HTTPError as error:
            text = error.read().decode("utf-8", errors="replace")
            try:
                detail: Any = json.loads(text)
            except ValueError:
                detail = text
            raise AdminError(error.code, detail) from error
        except urllib.error.URLError as error:
            raise AdminError(0, f"cannot reach {url}: {error.reason}") from error
        return json.loads(raw) if raw else None

    def reset(self) -> None:
        self._call("POST", "/reset")

    def seed(self, campaigns: list[dict[str, Any]]) -> list[dict[str, Any]]:
        stored: list[dict[str, Any]] = self._call("POST", "/campaigns", {"campaigns": campaigns})["data"]
        return stored

    def journal(
        self, *, method: str | None = None, path: str | None = None, status: int | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        query = {"method": method, "path": path, "status": status, "limit": limit}
        entries: list[dict[str, Any]] = self._call("GET", "/journal", query=query)["data"]
        return entries

    def clear_journal(self) -> None:
        self._call("DELETE", "/journal")

    def client_report(
        self,
        *,
        rules: list[str] | tuple[str, ...] = (),
        duplicate_window: float | None = None,
        examples: int | None = None,
    ) -> dict[str, Any]:
        """What the client under test did wrong, per rule (``GET /__admin/client-report``);
        ``rules`` turns optional rules on (``write-without-if-match``)."""
        query = {"rules": ",".join(rules) or None, "duplicate_window": duplicate_window, "examples": examples}
        report: dict[str, Any] = self._call("GET", "/client-report", query=query)
        return report

    def clock(self) -> dict[str, Any]:
        state: dict[str, Any] = self._call("GET", "/clock")
        return state

    def set_clock(self, *, now: str | None = None, frozen: bool | None = None) -> dict[str, Any]:
        body = {key: value for key, value in {"now": now, "frozen": frozen}.items() if value is not None}
        state: dict[str, Any] = self._call("PUT", "/clock", body)
        return state

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        state: dict[str, Any] = self._call("POST", "/clock/advance", {"seconds": seconds})
        return state

    def faults(self) -> dict[str, Any]:
        plan: dict[str, Any] = self._call("GET", "/faults")
        return plan

    def set_faults(self, faults: list[dict[str, Any]], seed: int = 0) -> dict[str, Any]:
        plan: dict[str, Any] = self._call("PUT", "/faults", {"faults": faults, "seed": seed})
        return plan

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def config(self) -> dict[str, Any]:
        described: dict[str, Any] = self._call("GET", "/config")
        return described

    def sandboxes(self) -> list[dict[str, Any]]:
        """Every sandbox of the server: name, campaigns, last use."""
        listed: list[dict[str, Any]] = self._call("GET", "/sandboxes")["data"]
        return listed

    def create_sandbox(self, name: str) -> dict[str, Any]:
        made: dict[str, Any] = self._call("PUT", f"/sandboxes/{urllib.parse.quote(name, safe='')}")
        return made

    def drop_sandbox(self, name: str) -> None:
        self._call("DELETE", f"/sandboxes/{urllib.parse.quote(name, safe='')}")


class ClientNotClean(AssertionError):
    """The client under test broke rules of the contract; the message lists them."""


def broken_rules(report: dict[str, Any], allow: list[str] | tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """The report's rules that found something, less those in ``allow`` (each a rule id)."""
    known = {rule["id"] for rule in report["rules"]}
    unknown = sorted(set(allow) - known)
    if unknown:
        raise ValueError(f"allow: unknown rule(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return [rule for rule in report["rules"] if rule["count"] and rule["id"] not in allow]


def describe_broken(rules: list[dict[str, Any]]) -> str:
    """The broken rules as a person reads them in a failed test: rule, advice, the requests."""
    lines = [f"the client broke {len(rules)} rule(s) of the contract:"]
    for rule in rules:
        lines.append(f"- {rule['id']}: {rule['count']} request(s). {rule['title']}.")
        lines.append(f"  Instead: {rule['advice']}")
        lines.extend(
            f"  #{entry['id']} {entry['method']} {entry['path']} -> {entry['status']}: {entry['why']}"
            for entry in rule["entries"]
        )
        if rule["count"] > len(rule["entries"]):
            lines.append(f"  ... and {rule['count'] - len(rule['entries'])} more")
    return "\n".join(lines)
