"""uvicorn on a loopback socket bound before the app exists (the app's settings need its URL)."""

from __future__ import annotations

import socket
import threading
from typing import Any

import uvicorn

__all__ = ["UvicornServer"]


class UvicornServer:
    """Serves an ASGI app with uvicorn in a thread on ``127.0.0.1:<free port>``."""

    def __init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self, app: Any, **config: Any) -> None:
        """Serve ``app`` (lifespan on) until :meth:`stop`; returns once uvicorn has started."""
        options: dict[str, Any] = {"lifespan": "on", "log_level": "warning", **config}
        self._server = uvicorn.Server(uvicorn.Config(app, **options))
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )
        self._thread.start()
        waiting = threading.Event()
        while not self._server.started and self._thread.is_alive():
            waiting.wait(0.02)
        if not self._server.started:
            raise RuntimeError("uvicorn did not start the app (its log says why)")

    def stop(self) -> None:
        """Let uvicorn finish (the app's lifespan shutdown runs) and release the port."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._socket.close()
