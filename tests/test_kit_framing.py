"""An answer whose bytes run past its framing (a 204 followed by a body) breaks the next answer
on the kept-alive connection. The kit names the answer at fault, asks again on a new
connection, and goes on judging, instead of blaming the innocent request or stopping."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from campaign_mock.conformance.results import GroupResult, Verdict
from campaign_mock.conformance.target import Target
from campaign_mock.conformance.view import ContractView
from campaign_mock.conformance.wire import judge_answers
from campaign_mock.contract.operations import Contract

GOOD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
BAD_HEAD = b"HTTP/1.1 204 No Content\r\n\r\n"
STRAY = b'{"deleted": true}'


def _serve(connection: socket.socket) -> None:
    buffered = b""
    with connection:
        while True:
            while b"\r\n\r\n" not in buffered:
                chunk = connection.recv(65536)
                if not chunk:
                    return
                buffered += chunk
            head, _, buffered = buffered.partition(b"\r\n\r\n")
            if b" /bad " in head.split(b"\r\n")[0]:
                connection.sendall(BAD_HEAD)
                time.sleep(0.2)  # the stray body comes after the client has sent its next request
                connection.sendall(STRAY)
            else:
                connection.sendall(GOOD)


@contextmanager
def sloppy_server() -> Iterator[str]:
    """Answers /bad with a 204 and, a moment later, a body; anything else with 200 {}."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=_serve, args=(connection,), daemon=True).start()

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        acceptor.join(2)
        listener.close()


def test_the_answer_that_broke_the_connection_is_named_and_the_next_one_still_judged(contract: Contract) -> None:
    with sloppy_server() as base_url:
        target = Target(contract, base_url)
        bad = target.send(None, url=f"{base_url}/bad", method="GET")
        time.sleep(0.05)
        good = target.send(None, url=f"{base_url}/good", method="GET")
    assert bad.status == 204
    assert good.status == 200, "the request after the broken answer was asked again and answered"
    assert [broken.culprit.url for broken in target.framing] == [f"{base_url}/bad"]
    result = GroupResult("headers")
    judge_answers(result, ContractView(contract), list(target.exchanges), list(target.framing))
    framing = [o for o in result.outcomes if o.rule == "headers.framing"]
    assert [o.verdict for o in framing] == [Verdict.FAILED]
    assert f"{base_url}/bad" in framing[0].received
    assert f"GET {base_url}/good" in framing[0].received
