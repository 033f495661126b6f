"""A server that takes the request and then says nothing must not hold a fetch past the fence's
total deadline, even when the client's own read timeout is far longer.

No byte ever arrives. The fence bounds each timeout of the exchange by what is left of its
deadline and, on the blocking path, its deadline timer shuts the socket; either way the fetch
ends as ``FetchDeadlineExceeded`` (not the client's plain read timeout) while the server still
holds the connection open. No timing assertion.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator

import httpx
import pytest

from blendkit.http import FetchDeadlineExceeded
from tests.fence import loopback_fence
from tests.security.servers import _read_request


class SilentServer:
    """Accepts connections, reads each request and answers nothing until :meth:`release`."""

    def __init__(self) -> None:
        self.released = threading.Event()
        self.got_request = threading.Event()
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/keys"

    def _serve(self) -> None:
        while not self.released.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._hold, args=(conn,), daemon=True).start()

    def _hold(self, conn: socket.socket) -> None:
        with conn:
            _read_request(conn)
            self.got_request.set()
            self.released.wait(60)

    def release(self) -> None:
        self.released.set()
        self._sock.close()


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.release()


def test_a_silent_server_is_cut_at_the_deadline_on_the_blocking_path(silent: SilentServer) -> None:
    fence = loopback_fence(deadline_seconds=1.0)
    with (
        httpx.Client(timeout=httpx.Timeout(30.0)) as client,
        pytest.raises(FetchDeadlineExceeded),
    ):
        fence.send(client, client.build_request("GET", silent.url))
    assert silent.got_request.is_set()
    assert not silent.released.is_set(), "the server, not the deadline, ended the wait"


def test_a_silent_server_is_cut_at_the_deadline_on_the_async_path(silent: SilentServer) -> None:
    fence = loopback_fence(deadline_seconds=1.0)

    async def fetch() -> None:
        async with httpx.AsyncClient(timeout=httpx.Timeout(30.0)) as client:
            await fence.send_async(client, client.build_request("GET", silent.url))

    with pytest.raises(FetchDeadlineExceeded):
        asyncio.run(fetch())
    assert silent.got_request.is_set()
    assert not silent.released.is_set(), "the server, not the deadline, ended the wait"
