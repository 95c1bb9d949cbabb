"""``/docs``: the served spec as an interactive reference (Swagger UI 5, shipped by the
swagger-ui-py package, so it works offline), and ``/docs/lifecycle``: the lifecycle as a
picture and as a state x action table.
"""

from __future__ import annotations

import importlib.util
from html import escape
from pathlib import Path

import falcon

from campaign_mock.contract.diagram import render_mermaid, render_svg, state_action_table
from campaign_mock.contract.operations import Contract

ASSETS = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "application/javascript",
    "favicon-32x32.png": "image/png",
}


def _assets_dir() -> Path:
    found = importlib.util.find_spec("swagger_ui")
    if found is None or not found.submodule_search_locations:
        raise RuntimeError("the swagger-ui-py package is missing; reinstall campaign-mock")
    return Path(next(iter(found.submodule_search_locations))) / "static"


def _page(title: str, body: str, head: str = "") -> bytes:
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title>{head}"
        "<style>body{font-family:sans-serif;margin:0}nav{padding:10px 20px;background:#1b2a41}"
        "nav a{color:#fff;margin-right:18px}main{padding:10px 20px}table{border-collapse:collapse}"
        "td,th{border:1px solid #bbb;padding:4px 8px;text-align:left}th{background:#eef4ff}</style></head>"
        '<body><nav><a href="/docs">API reference</a><a href="/docs/lifecycle">Lifecycle</a>'
        '<a href="/openapi.yaml">openapi.yaml</a></nav>'
        f"{body}</body></html>\n"
    ).encode()


class ReferencePage:
    def __init__(self, title: str) -> None:
        self._body = _page(
            f"{title}: API reference",
            '<div id="swagger-ui"></div><script src="/docs/static/swagger-ui-bundle.js"></script>'
            '<script>window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", '
            "displayOperationId: true, deepLinking: true, docExpansion: 'list'});</script>",
            '<link rel="stylesheet" href="/docs/static/swagger-ui.css">'
            '<link rel="icon" href="/docs/static/favicon-32x32.png">',
        )

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_HTML
        resp.data = self._body


class Assets:
    """Swagger UI's files, read once from the installed package."""

    def __init__(self) -> None:
        self._folder = _assets_dir()
        self._cache: dict[str, bytes] = {}

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        if name not in ASSETS:
            raise falcon.HTTPNotFound()
        if name not in self._cache:
            self._cache[name] = (self._folder / name).read_bytes()
        resp.content_type = ASSETS[name]
        resp.cache_control = ["public", "max-age=3600"]
        resp.data = self._cache[name]


class LifecyclePage:
    def __init__(self, contract: Contract) -> None:
        lifecycle = contract.lifecycle
        title = str(contract.document.get("info", {}).get("title", "API"))
        rows = state_action_table(lifecycle)
        header = "".join(f"<th>{escape(cell)}</th>" for cell in rows[0])
        body_rows = "".join(
            "<tr>" + f"<th>{escape(row[0])}</th>" + "".join(f"<td>{escape(cell)}</td>" for cell in row[1:]) + "</tr>"
            for row in rows[1:]
        )
        timers = "".join(
            f"<li>{escape(', '.join(sorted(t.sources)))} → {escape(t.target)} when {escape(t.at_field)} has passed "
            f"(event action <code>{escape(t.name)}</code>)</li>"
            for t in lifecycle.timers
        )
        self._body = _page(
            f"{title}: lifecycle",
            f"<main><h1>{escape(title)}: lifecycle</h1>{render_svg(lifecycle, f'{title} lifecycle')}"
            f"<h2>From each state, what each action leads to</h2>"
            f"<p>A cell names the new state, or the status answered when the action is not allowed "
            f"({lifecycle.conflict_status}).</p><table><tr>{header}</tr>{body_rows}</table>"
            f"<h2>Moves the clock makes</h2><ul>{timers or '<li>none</li>'}</ul>"
            f"<h2>Mermaid</h2><pre>{escape(render_mermaid(lifecycle))}</pre></main>",
        )

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_HTML
        resp.data = self._body


def mount_docs(app: falcon.App[falcon.Request, falcon.Response], contract: Contract) -> None:
    title = str(contract.document.get("info", {}).get("title", "API"))
    app.add_route("/docs", ReferencePage(title))
    app.add_route("/docs/static/{name}", Assets())
    app.add_route("/docs/lifecycle", LifecyclePage(contract))
