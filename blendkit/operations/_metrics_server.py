"""``/metrics`` on its own address (``[metrics] bind``): a small threaded HTTP server, started
once per host, so the metrics never share the public port.

Under gunicorn the master starts it before forking workers
(:func:`blendkit.integrations.gunicorn.serve_metrics_before_workers`) and, in multi-process mode,
answers with every worker's samples. A single process (``flask run``, another WSGI server)
starts it from the web adapter; when the address is already taken — by the gunicorn master, or
another process of the same host — the adapter leaves it to that process.
"""

from __future__ import annotations

import errno
import socket
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from pydantic import SecretStr

from blendkit._listen import parse_listen_address

__all__ = ["MetricsServer", "metrics_wsgi_app"]

StartResponse = Callable[..., Any]
Exposition = Callable[[], tuple[bytes, str]]


def metrics_wsgi_app(exposition: Exposition, token: SecretStr | None) -> Callable[..., Any]:
    """A WSGI app answering ``GET /metrics`` with ``exposition()`` (behind ``token`` if set)."""
    from blendkit.operations.metrics import bearer_token_matches

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/metrics" or environ.get("REQUEST_METHOD") != "GET":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found: scrape /metrics\n"]
        if token is not None and not bearer_token_matches(environ.get("HTTP_AUTHORIZATION"), token):
            start_response(
                "401 Unauthorized",
                [("Content-Type", "text/plain"), ("WWW-Authenticate", 'Bearer realm="metrics"')],
            )
            return [b"unauthorized\n"]
        body, content_type = exposition()
        start_response(
            "200 OK",
            [("Content-Type", content_type), ("Cache-Control", "no-store"),
             ("Content-Length", str(len(body)))],
        )  # fmt: skip
        return [body]

    return app


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _IPv6ThreadingServer(_ThreadingServer):
    address_family = socket.AF_INET6


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes are not logged (a line every few seconds per scraper says nothing)."""


class MetricsServer:
    """Serves ``exposition()`` on ``bind`` (``host:port``) from a daemon thread."""

    def __init__(self, bind: str, exposition: Exposition, token: SecretStr | None) -> None:
        self.bind = bind
        self.host, self.port = parse_listen_address(bind)
        self._app = metrics_wsgi_app(exposition, token)
        self._server: WSGIServer | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/metrics"

    def start(self) -> bool:
        """Listen and serve; False (nothing started) when the address is already in use."""
        server_class = _IPv6ThreadingServer if ":" in self.host else _ThreadingServer
        try:
            server = make_server(
                self.host, self.port, self._app, server_class=server_class,
                handler_class=_QuietHandler,
            )  # fmt: skip
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise
        self._server = server
        threading.Thread(target=server.serve_forever, name="blendkit-metrics", daemon=True).start()
        return True

    def close(self) -> None:
        """Stop serving and free the address."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
