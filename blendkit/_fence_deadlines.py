"""The fence's total deadline: one timer thread for every exchange, and the watchdog that shuts an
exchange's sockets down when its deadline passes."""

from __future__ import annotations

import contextlib
import heapq
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any


class _Deadlines:
    """One daemon thread that fires every exchange's deadline: starting a thread per request
    cost more than a small request itself on a loaded machine."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """No deadlines and no thread (also in a forked child, where the thread is gone)."""
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, _Watchdog]] = []
        self._count = 0
        self._thread: threading.Thread | None = None

    def add(self, at: float, watchdog: _Watchdog) -> None:
        with self._cond:
            self._count += 1
            if len(self._heap) > _COMPACT_AT:  # answered exchanges wait for their deadline
                self._heap = [entry for entry in self._heap if not entry[2].cancelled]
                heapq.heapify(self._heap)
            heapq.heappush(self._heap, (at, self._count, watchdog))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="blendkit-fence-deadlines", daemon=True
                )
                self._thread.start()
            elif self._heap[0][2] is watchdog:
                self._cond.notify()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while True:
                    while self._heap and self._heap[0][2].cancelled:
                        heapq.heappop(self._heap)
                    wait = self._heap[0][0] - time.monotonic() if self._heap else None
                    if wait is not None and wait <= 0:
                        due = heapq.heappop(self._heap)[2]
                        break
                    self._cond.wait(wait)
            due.fire()


class _Watchdog:
    """Shuts the sockets an exchange opened down at its deadline, whatever phase it is in.

    A server that trickles its *headers* never hands control back to the fence (httpx reads them
    in one call and its read timeout restarts on every byte), so the deadline needs a timer of
    its own (:class:`_Deadlines`); it learns each new connection's socket from httpcore's
    ``trace`` extension.
    """

    def __init__(self, seconds: float, inner: Callable[[str, dict[str, Any]], Any] | None) -> None:
        self._inner = inner
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self.fired = False
        self.cancelled = False
        _DEADLINES.add(time.monotonic() + max(seconds, 0.0), self)

    def trace(self, name: str, info: dict[str, Any]) -> None:
        if self._inner is not None:
            self._inner(name, info)
        if not name.endswith("connect_tcp.complete"):
            return
        stream = info.get("return_value")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if isinstance(sock, socket.socket):
            with self._lock:
                self._sockets.append(sock)
                if self.fired:
                    _shut(sock)

    def fire(self) -> None:
        with self._lock:
            if self.cancelled:
                return
            self.fired = True
            for sock in self._sockets:
                _shut(sock)

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            self._sockets.clear()


_COMPACT_AT = 4096
_DEADLINES = _Deadlines()
# A forked worker (gunicorn) starts with no deadline thread and a lock nobody holds.
os.register_at_fork(after_in_child=_DEADLINES.reset)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
