"""``/__admin/ui``: the live page, one self-contained file (no CDN, works offline).

The page holds no data: it is served without the admin key, and everything it shows or
changes goes through the admin API from the browser, with the key when the server has one
(the page asks for it on the first 401). Its policy forbids loading anything from elsewhere.
"""

from __future__ import annotations

from importlib.resources import files

import falcon

PAGE_POLICY = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "connect-src 'self'; img-src 'self' data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)


class LivePage:
    def __init__(self) -> None:
        self._body = files(__package__).joinpath("live_page.html").read_bytes()

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_HTML
        resp.cache_control = ["no-store"]
        resp.set_header("Content-Security-Policy", PAGE_POLICY)
        resp.data = self._body
