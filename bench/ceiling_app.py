"""The ceiling for this stack: a bare Falcon app answering a constant JSON object, on waitress
with the same settings as the mock. Prints its URL, then serves until interrupted."""

from __future__ import annotations

import contextlib
import logging
import sys

import falcon
import waitress

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
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=threads)
    print(f"serving at http://127.0.0.1:{server.effective_port}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.run()


if __name__ == "__main__":
    main()
