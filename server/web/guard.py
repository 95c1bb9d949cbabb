"""Who may talk to the mock at all, checked before anything else reads a request.

Two attacks reach a mock on a developer's machine through the developer's own browser:
- **DNS rebinding**: a page on ``attacker.example`` re-points its name at 127.0.0.1 and then
  talks to the mock as its own origin. The browser sends ``Host: attacker.example``, so a
  mock that answers only the Host names it knows (loopback names and IP literals by default,
  more with ``--allowed-hosts``, as Jupyter and Vite do) gives such a page nothing.
- **Cross-site requests**: any page may send a "simple" request (GET, or a POST with a form
  or text body, no custom headers) to any address without a CORS preflight, and ``no-cors``
  lets it do so blindly. Such a request must change nothing: a state-changing request that a
  browser marks as coming from another site (``Sec-Fetch-Site``, ``Origin``) is refused, and
  a state-changing admin call must carry something a simple request cannot (a JSON
  ``Content-Type``, an ``Authorization`` header, or the ``X-Campaign-Mock`` header).

Both answers are 403 in the configured error format.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import falcon

from campaign_mock.server.domain.errors import ApiError, InvalidRequest

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MARKER_HEADER = "X-Campaign-Mock"
"""A header no browser adds to a cross-site request without a preflight (which the mock never
grants): sent by the admin client, the pytest fixture and the live page."""
SAME_SITE_FETCHES = frozenset({"same-origin", "none"})  # "none": typed in the address bar, a bookmark


class HostNotAllowed(ApiError):
    status = 403
    title = "Forbidden"
    code = "host-not-allowed"


class CrossSiteRequest(ApiError):
    status = 403
    title = "Forbidden"
    code = "cross-site-request"


@dataclass(frozen=True)
class AllowedHosts:
    """The Host names the mock answers for. Always: IP literals (a rebinding page cannot make
    the browser send one for its own name), ``localhost`` and ``*.localhost``. Besides: exact
    names, ``.example.com`` or ``*.example.com`` for a domain and its subdomains, ``*`` for any."""

    names: frozenset[str] = frozenset()
    suffixes: tuple[str, ...] = ()
    anything: bool = False

    @classmethod
    def of(cls, patterns: Iterable[str]) -> AllowedHosts:
        names: set[str] = set()
        suffixes: list[str] = []
        anything = False
        for raw in patterns:
            pattern = raw.strip().lower().rstrip(".")
            if pattern == "*":
                anything = True
            elif pattern.startswith(("*.", ".")):
                domain = pattern.lstrip("*").lstrip(".")
                names.add(domain)
                suffixes.append("." + domain)
            elif pattern:
                names.add(host_name(pattern) or pattern)
        return cls(frozenset(names), tuple(suffixes), anything)

    def allows(self, host: str) -> bool:
        if self.anything or is_ip_literal(host) or host == "localhost" or host.endswith(".localhost"):
            return True
        return host in self.names or host.endswith(self.suffixes)


HOST_VALUE = re.compile(
    r"(?:\[(?P<v6>[0-9a-f:.]+)\]|(?P<name>[a-z0-9_-]+(?:\.[a-z0-9_-]+)*)\.?)(?::(?P<port>[0-9]{1,5}))?", re.ASCII
)


MAX_PORT = 65535
MAX_NAME = 253
MAX_LABEL = 63


def host_name(header: str) -> str | None:
    """The name in a Host header (or an Origin's authority): no port, no brackets, lower case;
    None when it is not a host name at all (``localhost:80.evil.example``, ``a#.localhost``):
    such a value is refused, not read generously."""
    found = HOST_VALUE.fullmatch(header.strip().lower())
    if found is None or int(found["port"] or 0) > MAX_PORT:
        return None
    name = found["name"]
    if name is not None and (len(name) > MAX_NAME or any(len(label) > MAX_LABEL for label in name.split("."))):
        return None  # past DNS's limits (RFC 1035): 63 characters a label, 253 a name
    return found["v6"] or name


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def authority(header: str, scheme: str) -> str | None:
    """``host:port`` with the scheme's default port written out, for comparing origins."""
    found = HOST_VALUE.fullmatch(header.strip().lower())
    if found is None:
        return None
    port = found["port"] or ("443" if scheme == "https" else "80")
    return f"{found['v6'] or found['name']}:{port}"


MAX_JUDGED_HOSTS = 1024


class HostGuard:
    """Refuses a request whose Host the mock does not answer for (403), before routing."""

    def __init__(self, allowed: AllowedHosts) -> None:
        self._allowed = allowed
        self._judged: dict[str, ApiError | None] = {}  # Host value -> its refusal (None: allowed)

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        for header in self._hosts_named(req):
            if header not in self._judged:
                # Clients send the same Host on every request: judged once (it was 12 us a request)
                if len(self._judged) >= MAX_JUDGED_HOSTS:
                    self._judged.clear()
                self._judged[header] = self._judge(header)
            refusal = self._judged[header]
            if refusal is not None:
                raise type(refusal)(refusal.detail)

    def _judge(self, header: str) -> ApiError | None:
        name = host_name(header)
        shown = header if len(header) <= 100 else header[:97] + "..."
        if name is None:
            return InvalidRequest(f"The Host {shown!r} is not a host name (RFC 9110: host[:port]).")
        if not self._allowed.allows(name):
            return HostNotAllowed(
                f"This mock does not answer for the host {shown!r} (a guard against DNS rebinding): "
                f"it answers loopback names and IP addresses; start it with --allowed-hosts {name} "
                "to add this one."
            )
        return None

    @staticmethod
    def _hosts_named(req: falcon.Request) -> list[str]:
        """The Host header and, for an absolute-form target (``GET http://evil.example/...``),
        the authority in it, which RFC 9112 makes the request's host. HTTP/1.0 may name none;
        an HTTP/1.1 request without one is refused (RFC 9112 3.2), as granian does itself."""
        named = []
        header = req.get_header("Host")
        if header is not None:
            named.append(header)
        elif req.env.get("SERVER_PROTOCOL") == "HTTP/1.1":
            raise InvalidRequest("An HTTP/1.1 request must name its Host (RFC 9112 3.2).")
        target = str(req.env.get("REQUEST_URI") or req.env.get("RAW_URI") or "")
        if target[:8].lower().startswith(("http://", "https://")):
            named.append(urlsplit(target).netloc.rpartition("@")[2])
        return named


def cross_site_reason(req: falcon.Request) -> str | None:
    """What says this request comes from a page of another site, or None. Browsers send
    ``Sec-Fetch-Site`` (a different port of localhost is ``same-site``: another site to us)
    and ``Origin``; other clients send neither."""
    fetch_site = req.get_header("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site.strip().lower() not in SAME_SITE_FETCHES:
        return f"Sec-Fetch-Site: {fetch_site}"
    origin = req.get_header("Origin")
    if origin is None:
        return None
    parts = urlsplit(origin.strip())
    host = req.get_header("Host")
    if not parts.scheme or not parts.netloc or host is None:
        return f"Origin: {origin}"  # "null" (a sandboxed frame, a file) or no Host to compare
    own = authority(host, parts.scheme)
    if own is None or authority(parts.netloc, parts.scheme) != own:
        return f"Origin: {origin}"
    return None


def is_admin_path(path: str) -> bool:
    return path == "/__admin" or path.startswith("/__admin/")


def carries_marker(req: falcon.Request, admin_key: str | None) -> bool:
    """Whether the request carries what a browser sends cross-site only after a preflight: a
    JSON content type, the marker header, or the configured admin key (any ``Authorization``
    would not do: a browser may hold Basic or Negotiate credentials for the host and add
    them by itself)."""
    content_type = (req.content_type or "").partition(";")[0].strip().lower()
    json_type = content_type == "application/json" or content_type.endswith("+json")
    admin = admin_key is not None and req.get_header("Authorization") == f"Bearer {admin_key}"
    return json_type or admin or req.get_header(MARKER_HEADER) is not None


class CrossSiteGuard:
    """Nothing a browser can send cross-site without a preflight changes state: a state-changing
    request marked as cross-site is refused, and a state-changing admin call must carry a
    marker (``carries_marker``). Runs after the sandbox prefix is taken off the path. The
    verdict is kept on the request: a cross-site request never makes a sandbox either. Runs once
    a route is found (``process_resource``), so an unknown path still answers 404 and a wrong
    method 405."""

    def __init__(self, admin_key: str | None = None) -> None:
        self._admin_key = admin_key

    def process_resource(
        self, req: falcon.Request, resp: falcon.Response, resource: object, params: dict[str, Any]
    ) -> None:
        if not hasattr(resource, f"on_{req.method.lower()}"):
            return  # a method the path does not serve: its 405 says so
        reason = cross_site_reason(req)
        req.context.cross_site = reason
        if req.method in SAFE_METHODS:
            return
        if reason is not None:
            raise CrossSiteRequest(
                f"Refused a {req.method} sent by a page of another site ({reason}): the mock changes state "
                "only for requests from its own pages or from clients that are not browsers."
            )
        if is_admin_path(req.path) and not carries_marker(req, self._admin_key):
            raise CrossSiteRequest(
                f"A {req.method} to the admin API must show it is not a browser form: send "
                f"'Content-Type: application/json' (an empty body is fine), the admin key, or the header "
                f"'{MARKER_HEADER}: 1'."
            )
