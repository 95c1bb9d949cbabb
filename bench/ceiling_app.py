"""The ceiling for this stack: a bare Falcon app answering a constant JSON object, on waitress
or granian with the same settings as the mock. Prints its URL, then serves until interrupted.

    python bench/ceiling_app.py THREADS [waitress|granian]
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
from typing import Any

import falcon

BODY = b'{"id":"cmp_0f1e2d3c4b5a69788796","name":"Q4 Outreach","status":"active"}'


class Constant:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_JSON
        resp.data = BODY


def main() -> None:
    # As the mock's CLI does: no "Task queue depth" warning per queued request.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    app = falcon.App()
    app.add_route("/constant", Constant())
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    if len(sys.argv) > 2 and sys.argv[2] == "granian":
        serve_on_granian(app, threads)
        return
    server = mock_waitress(app, threads)
    print(f"serving at http://127.0.0.1:{server.effective_port}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.run()


def mock_waitress(app: falcon.App[falcon.Request, falcon.Response], threads: int) -> Any:
    """A waitress server built as the mock builds its own, with the mock's default limits: with
    waitress' own defaults this app made 697 req/s at 16 connections here, with the mock's 3,112."""
    from campaign_mock.server.run.waitress_runner import (  # noqa: PLC0415 (the mock's own runner, for equal settings)
        ConnectionLimits,
        create_waitress_server,
    )

    return create_waitress_server(app, host="127.0.0.1", port=0, threads=threads, limits=ConnectionLimits())


def serve_on_granian(app: falcon.App[falcon.Request, falcon.Response], threads: int) -> None:
    """As ``campaign-mock serve --server granian`` runs the mock: one worker, the same threads."""
    from campaign_mock.server.run.config import ServeSettings  # noqa: PLC0415 (the mock's own runner, for equal settings)
    from campaign_mock.server.run.granian_runner import free_port, serve_granian, wait_until_listening  # noqa: PLC0415

    settings = ServeSettings(server="granian", threads=threads)
    port = free_port(settings.host)

    def announce() -> None:
        if wait_until_listening(settings.host, port):
            print(f"serving at http://127.0.0.1:{port}", flush=True)

    def in_worker() -> None:
        threading.Thread(target=announce, daemon=True).start()

    serve_granian(settings, app, port, in_worker)


if __name__ == "__main__":
    main()
