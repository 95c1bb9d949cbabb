"""Where the kit works on a target: a sandbox of its own when the target has them.

A verdict must stay true when the target carries other traffic: a CI fleet sharing one
mock, or the kit's own groups run by pytest-xdist side by side. Totals, listings and the
clock are all disturbed by another writer. campaign-mock (and any server that follows its
convention) serves independent worlds under ``/sandboxes/NAME``; where that path answers
the contract's list operation, the kit runs there, alone, and drops the sandbox at the end.
Elsewhere it works on the base URL as given, and the listing rules re-measure before they
blame (see ``groups.listing``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from campaign_mock.conformance.results import UsageError
from campaign_mock.conformance.target import Target
from campaign_mock.conformance.view import ContractView

SANDBOX_PREFIX = "/sandboxes/"
CHOICES_HELP = "auto (its own sandbox where the target has them), off, or a sandbox NAME to use as is"


@dataclass(frozen=True)
class Workspace:
    base_url: str
    sandbox: str | None = None
    owned: bool = False  # made by the kit: dropped when the run ends
    root: str = ""  # the target's URL without the spec's base path or the sandbox


def _root(base_url: str, base_path: str) -> str:
    trimmed = base_url.rstrip("/")
    return trimmed[: -len(base_path)] if base_path and trimmed.endswith(base_path) else trimmed


def _valid_name(name: str) -> bool:
    return bool(name) and len(name) <= 64 and all(c.isalnum() or c in "-_." for c in name) and name.strip(".") != ""


def _answers_lists(target: Target, view: ContractView) -> bool:
    lister = view.one("list")
    if lister is None:
        return False
    try:
        answer = target.send(lister, wait_on_429=True)
    except UsageError:
        return False
    return answer.status < 300 and isinstance(view.campaign_in(lister, answer.json()), list)


def choose_workspace(target: Target, view: ContractView, choice: str, option: str = "--sandbox") -> Workspace:
    """``choice``: auto, off or a name. ``target`` is aimed at the base URL as given."""
    given = target.base_url
    if choice == "off":
        return Workspace(given)
    root = _root(given, view.contract.base_path)
    if SANDBOX_PREFIX in urlsplit(root).path:
        return Workspace(given)  # the base URL names a sandbox already
    if choice != "auto":
        if not _valid_name(choice):
            raise UsageError(f"{option} {choice!r}: a sandbox name is letters, digits, '-', '_' and '.' (64 at most)")
        return Workspace(root + SANDBOX_PREFIX + choice, choice, owned=False, root=root)
    name = f"kit-{secrets.token_hex(6)}"
    probe = Target(view.contract, root + SANDBOX_PREFIX + name, target.api_key, dict(target.extra_headers))
    probe.tenant = target.tenant
    if not _answers_lists(probe, view):
        return Workspace(given)
    return Workspace(probe.base_url, name, owned=True, root=root)


def release(workspace: Workspace, headers: dict[str, str], timeout: float = 10.0) -> str | None:
    """Drop the sandbox the kit made; a line for the progress log when it could not."""
    if not workspace.owned or workspace.sandbox is None:
        return None
    url = f"{workspace.root}/__admin/sandboxes/{workspace.sandbox}"
    try:
        answer = requests.delete(url, headers={**headers, "X-Campaign-Mock": "kit"}, timeout=timeout)
    except requests.RequestException as exc:
        return f"could not drop the kit's sandbox {workspace.sandbox} ({exc.__class__.__name__}); it expires unused"
    if answer.status_code in (200, 204, 404):
        return None
    return f"the kit's sandbox {workspace.sandbox} was not dropped ({answer.status_code}); it expires unused"
