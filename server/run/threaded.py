"""Run an app under waitress in a background thread of this process, on a free port.

For tests that talk real HTTP to the mock (ours and users': see the pytest fixture),
like moto's threaded server. ``stop()`` lets requests in flight finish, closes every
connection and joins the thread, so nothing outlives the test.
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any

from campaign_mock.server.run.waitress_runner import ConnectionLimits, Render, create_waitress_server

STOP_TIMEOUT_SECONDS = 10.0


class ThreadedServer:
    def __init__(
        self,
        app: Any,
        host: str = "127.0.0.1",
        port: int = 0,
        threads: int = 4,
        limits: ConnectionLimits | None = None,
        render: Render | None = None,
    ) -> None:
        """``render``: how waitress' own refusals are written (the app's error format; plain text without it)."""
        self._server = create_waitress_server(
            app, host=host, port=port, threads=threads, limits=limits or ConnectionLimits(), render=render
        )
        self.host = host
        self.port = int(self._server.effective_port)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"campaign-mock:{self.port}", daemon=True)

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def _run(self) -> None:
        try:
            self._server.run()
        except OSError:
            # Closing sockets under the poll loop from stop() may surface here; only then is it expected.
            if not self._stopping.is_set():
                raise

    def start(self) -> ThreadedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._server.task_dispatcher.shutdown(cancel_pending=False, timeout=STOP_TIMEOUT_SECONDS)
        server_map = self._server._map  # the listening socket, the trigger, open connections

        def close_everything() -> None:
            for channel in list(server_map.values()):
                channel.close()

        # Run in the loop's own thread (a trigger thunk): the loop ends at once, with no race.
        # If the loop has ended already (waitress closes itself, trigger included, after an
        # error on its listening socket), there is no thread left to race: close directly.
        try:
            if not self._thread.is_alive():
                raise OSError("the server loop has ended")
            self._server.trigger.pull_trigger(close_everything)
        except OSError:
            close_everything()
        self._thread.join(STOP_TIMEOUT_SECONDS)

    def __enter__(self) -> ThreadedServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()
