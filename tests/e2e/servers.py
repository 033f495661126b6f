"""Run WSGI apps on 127.0.0.1 in a thread for end-to-end tests (real sockets, real HTTP)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class LateBoundApp:
    """A WSGI app whose target is set after the server has its port (the app needs its URL)."""

    def __init__(self) -> None:
        self.target: WSGIApp | None = None

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        assert self.target is not None, "server started before its app was set"
        return self.target(environ, start_response)


class ThreadedServer:
    """``werkzeug`` threaded server on a free loopback port, stopped by :meth:`stop`."""

    def __init__(self) -> None:
        self.app = LateBoundApp()
        self._server: BaseWSGIServer = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self, app: WSGIApp) -> None:
        self.app.target = app
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
