"""A minimal HTTP/1.1 client over a plain socket, for load scripts.

A load generator that shares the machine with the server under test must cost as little CPU as
possible, or it measures itself: httpx spends several hundred microseconds of Python per request,
this client a few tens. It speaks just what the benchmarks need: one request at a time per
connection, ``Content-Length`` bodies (or read-to-close), keep-alive when the server offers it and
a new connection when it closes (gunicorn's sync workers close after every response).
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from urllib.parse import urlencode

__all__ = ["Answer", "RawHttp"]


@dataclass
class Answer:
    """Status, headers (lower-case names, every value kept) and the body of one response."""

    status: int
    headers: dict[str, list[str]] = field(default_factory=dict)
    body: bytes = b""

    def header(self, name: str) -> str:
        values = self.headers.get(name)
        if not values:
            raise KeyError(f"the response has no {name} header")
        return values[0]

    def cookies(self) -> dict[str, str]:
        """``name=value`` of each Set-Cookie header (attributes dropped)."""
        found: dict[str, str] = {}
        for line in self.headers.get("set-cookie", []):
            pair = line.split(";", 1)[0]
            name, _, value = pair.partition("=")
            found[name.strip()] = value.strip()
        return found


class RawHttp:
    """One connection to ``host:port``; reconnects when the server closes it."""

    def __init__(self, host: str, port: int, *, timeout: float = 10.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self._sock: socket.socket | None = None
        self._buffer = b""
        self._host_header = f"Host: {host}:{port}\r\n".encode()

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
        self._sock, self._buffer = None, b""

    def get(self, target: str, *, query: dict[str, str] | None = None) -> Answer:
        if query:
            target = f"{target}?{urlencode(query)}"
        return self.request("GET", target)

    def post_form(
        self, target: str, form: dict[str, str], *, headers: dict[str, str] | None = None
    ) -> Answer:
        extra = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        return self.request("POST", target, headers=extra, body=urlencode(form).encode())

    def request(
        self,
        method: str,
        target: str,
        *,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
    ) -> Answer:
        lines = [f"{method} {target} HTTP/1.1\r\n".encode(), self._host_header]
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}\r\n".encode())
        if body or method == "POST":
            lines.append(f"Content-Length: {len(body)}\r\n".encode())
        lines.append(b"\r\n")
        payload = b"".join(lines) + body
        if self._sock is None:
            self._connect()
        assert self._sock is not None
        try:
            self._sock.sendall(payload)
            answer = self._read()
        except (ConnectionError, TimeoutError):
            self.close()
            raise
        if [v.lower() for v in answer.headers.get("connection", [])] == ["close"]:
            self.close()
        return answer

    def _connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock, self._buffer = sock, b""

    def _fill(self) -> bool:
        assert self._sock is not None
        chunk = self._sock.recv(65536)
        self._buffer += chunk
        return bool(chunk)

    def _read(self) -> Answer:
        while b"\r\n\r\n" not in self._buffer:
            if not self._fill():
                raise ConnectionError("the server closed the connection before answering")
        head, _, self._buffer = self._buffer.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        answer = Answer(status=int(status_line.split(" ", 2)[1]))
        for line in header_lines:
            name, _, value = line.partition(":")
            answer.headers.setdefault(name.strip().lower(), []).append(value.strip())
        if "chunked" in answer.headers.get("transfer-encoding", [""])[0].lower():
            raise ConnectionError("chunked responses are not supported by this load client")
        length = answer.headers.get("content-length")
        if length is None:  # the body runs until the server closes the connection
            while self._fill():
                pass
            answer.body, self._buffer = self._buffer, b""
            self.close()
            return answer
        size = int(length[0])
        while len(self._buffer) < size:
            if not self._fill():
                raise ConnectionError("the server closed the connection mid-body")
        answer.body, self._buffer = self._buffer[:size], self._buffer[size:]
        return answer
