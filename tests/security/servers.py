"""Real loopback servers for the outbound-fence tests: they record what reaches them.

``RecordingServer`` accepts connections and answers each request with a fixed HTTP answer,
keeping every request it read (so a test can prove that nothing, or no bearer token, arrived).
``TrickleServer`` answers 200 and then sends its body one byte at a time until released.
Both run on 127.0.0.1 in daemon threads and are stopped by the test that started them.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress


def _read_request(conn: socket.socket) -> bytes:
    conn.settimeout(5)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return data
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                wanted = int(line.split(b":", 1)[1])
                while len(body) < wanted:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    body += chunk
        return head + b"\r\n\r\n" + body
    except OSError:
        return data


class RecordingServer:
    """Answers every request with ``answer``; ``connections`` and ``requests`` record them."""

    def __init__(self, answer: bytes | None = None) -> None:
        self.answer = answer or (
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 40\r\n"
            b"Connection: close\r\n\r\n"
            b'{"secret": "internal-only-body-1234567"}'
        )
        self.connections = 0
        self.requests: list[bytes] = []
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        self._sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            with conn:
                request = _read_request(conn)
                if request:
                    self.requests.append(request)
                with suppress(OSError):
                    conn.sendall(self.answer)

    def stop(self) -> None:
        self._stop.set()
        self._sock.close()
        self._thread.join(timeout=5)


class TrickleServer:
    """Sends a 200 head, then one body byte every ``interval`` seconds until :meth:`release`;
    with ``in_headers`` the bytes trickle into an endless header line instead."""

    def __init__(self, interval: float = 0.2, *, in_headers: bool = False) -> None:
        self.interval = interval
        self.in_headers = in_headers
        self.got_request = threading.Event()
        self.released = threading.Event()
        self.bytes_sent = 0
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        try:
            conn, _ = self._sock.accept()
        except OSError:
            return
        with conn:
            _read_request(conn)
            self.got_request.set()
            try:
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Slow: "
                    if self.in_headers
                    else b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 100000\r\n\r\n"
                )
                while not self.released.is_set():
                    conn.sendall(b"a" if self.in_headers else b" ")
                    self.bytes_sent += 1
                    time.sleep(self.interval)
            except OSError:
                return

    def release(self) -> None:
        self.released.set()
        self._sock.close()
        self._thread.join(timeout=5)


@contextmanager
def recording_server(answer: bytes | None = None) -> Iterator[RecordingServer]:
    server = RecordingServer(answer)
    try:
        yield server
    finally:
        server.stop()


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return int(sock.getsockname()[1])
