"""A minimal in-memory LRS for benchmarks: POST/PUT /statements, keep-alive, HTTP/1.1.

Run: ``python benchmarks/mini_lrs.py PORT``. It parses every body (as a real LRS must), stores
statements by id, answers 200 with the ids for POST and 204 for PUT, and 409 for nothing: a
repeated id is accepted silently, as ralph does.
"""

from __future__ import annotations

import json
import sys
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

STORE: dict[str, Any] = {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _reply(self, status: int, body: bytes = b"") -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Experience-API-Version", "1.0.3")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length))

    def do_POST(self) -> None:
        data = self._body()
        items = data if isinstance(data, list) else [data]
        ids = []
        for item in items:
            sid = item.get("id") or str(uuid.uuid4())
            STORE.setdefault(sid, item)
            ids.append(sid)
        self._reply(200, json.dumps(ids).encode())

    def do_PUT(self) -> None:
        data = self._body()
        sid = parse_qs(urlsplit(self.path).query).get("statementId", [data.get("id")])[0]
        STORE.setdefault(sid, data)
        self._reply(204)

    def do_GET(self) -> None:
        self._reply(200, json.dumps({"count": len(STORE)}).encode())


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
