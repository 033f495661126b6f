"""A minimal HTTP/1.1 client over a plain socket, for load scripts.

A load generator that shares the machine with the server under test must cost as little CPU as
possible, or it measures itself: httpx spends several hundred microseconds of Python per request,
this client a few tens. It speaks just what the benchmarks need: one request per connection
(gunicorn's sync workers close after every response) and ``Content-Length`` bodies (or
read-to-close).

:func:`run_flows` drives many request sequences at once from one thread with a selector: no
thread switches and no lock hand-overs, so a client waiting on a response reacts at once and the
server is never left waiting on a descheduled client.
"""

from __future__ import annotations

import selectors
import socket
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Answer", "Flow", "Request", "encode_request", "parse_answer", "run_flows"]


@dataclass
class Request:
    """One request of a flow: method, target, headers and body."""

    method: str
    target: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


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


def encode_request(host_header: bytes, request: Request) -> bytes:
    """The bytes of ``request`` (HTTP/1.1, ``Content-Length`` when there is a body)."""
    lines = [f"{request.method} {request.target} HTTP/1.1\r\n".encode(), host_header]
    for name, value in request.headers.items():
        lines.append(f"{name}: {value}\r\n".encode())
    if request.body or request.method == "POST":
        lines.append(f"Content-Length: {len(request.body)}\r\n".encode())
    lines.append(b"\r\n")
    return b"".join(lines) + request.body


def parse_answer(buffer: bytes, *, closed: bool) -> tuple[Answer | None, bytes]:
    """One complete response from the front of ``buffer`` and what follows it, or ``(None,
    buffer)`` while incomplete (``closed``: the server closed, so a body without length ends)."""
    head, found, rest = buffer.partition(b"\r\n\r\n")
    if not found:
        if closed:
            raise ConnectionError("the server closed the connection before answering")
        return None, buffer
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    answer = Answer(status=int(status_line.split(" ", 2)[1]))
    for line in header_lines:
        name, _, value = line.partition(":")
        answer.headers.setdefault(name.strip().lower(), []).append(value.strip())
    if "chunked" in answer.headers.get("transfer-encoding", [""])[0].lower():
        raise ConnectionError("chunked responses are not supported by this load client")
    length = answer.headers.get("content-length")
    if length is None:
        if not closed:
            return None, buffer
        answer.body = rest
        return answer, b""
    size = int(length[0])
    if len(rest) < size:
        if closed:
            raise ConnectionError("the server closed the connection mid-body")
        return None, buffer
    answer.body = rest[:size]
    return answer, rest[size:]


# A flow yields requests and receives their answers; its return value is its result.
Flow = Generator[Request, Answer, Any]


def run_flows(
    host: str, port: int, flows: Iterable[Flow], concurrency: int, *, timeout: float = 30.0
) -> list[Any]:
    """Run ``flows`` with at most ``concurrency`` in flight; their results, in order.

    Every request goes on a fresh connection that the client closes as soon as the response is
    complete (what gunicorn's sync workers expect).
    """
    host_header = f"Host: {host}:{port}\r\n".encode()
    selector = selectors.DefaultSelector()
    pending: Iterator[tuple[int, Flow]] = iter(enumerate(flows))
    results: dict[int, Any] = {}
    active = 0

    def begin(index: int, flow: Flow, request: Request) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        sock.connect_ex((host, port))
        state = {"index": index, "flow": flow, "out": encode_request(host_header, request),
                 "in": b""}  # fmt: skip
        selector.register(sock, selectors.EVENT_WRITE, state)

    def advance(index: int, flow: Flow, answer: Answer | None) -> bool:
        try:
            request = flow.send(answer) if answer is not None else next(flow)
        except StopIteration as done:
            results[index] = done.value
            return False
        begin(index, flow, request)
        return True

    def start_next() -> bool:
        # any() stops at the first flow that issued a request; finished ones are skipped.
        return any(advance(index, flow, None) for index, flow in pending)

    for _ in range(concurrency):
        if not start_next():
            break
        active += 1

    def on_close(sock: socket.socket) -> None:
        selector.unregister(sock)
        sock.close()

    while active:
        events = selector.select(timeout)
        if not events:
            raise TimeoutError(f"no answer within {timeout} s")
        for key, mask in events:
            sock: socket.socket = key.fileobj  # type: ignore[assignment]
            state = key.data
            if mask & selectors.EVENT_WRITE:
                sent = sock.send(state["out"])
                state["out"] = state["out"][sent:]
                if not state["out"]:
                    selector.modify(sock, selectors.EVENT_READ, state)
                continue
            chunk = sock.recv(65536)
            state["in"] += chunk
            answer, _ = parse_answer(state["in"], closed=not chunk)
            if answer is None:
                continue
            on_close(sock)
            if not advance(state["index"], state["flow"], answer) and not start_next():
                active -= 1
    selector.close()
    return [results[i] for i in sorted(results)]
