"""Run the real ralph LRS (filesystem backend) behind a fault-injecting ASGI wrapper.

Usage: ``python ralph_server.py PORT DATA_DIR``. The environment must name ralph's settings
(see ``tests/xapi/conftest.py``). ``POST /_faults`` queues faults for the next statement POSTs
(``[{"status": 500}, {"status": 429, "retry_after": 1}, {"delay": 3}]``); ``GET /_stats`` returns
how many times each statement id was POSTed, so tests can prove there were no double sends.
"""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from typing import Any

import orjson
import uvicorn
from ralph.backends.data.base import BaseOperationType
from ralph.backends.lrs.fs import FSLRSBackend

# Unpatched, ralph's fs backend fails the second POST with 500 (it creates, not appends).
FSLRSBackend.default_operation_type = BaseOperationType.APPEND

from ralph.api import app as ralph_app  # noqa: E402 - must follow the backend patch

Scope = dict[str, Any]


class FaultWrapper:
    """ASGI middleware: injects queued faults and counts statement ids per POST."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.faults: list[dict[str, Any]] = []
        self.sent: Counter[str] = Counter()
        self.posts = 0

    async def _reply(self, send: Any, status: int, body: bytes, headers: list[Any]) -> None:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, method = scope["path"], scope["method"]
        json_header = [(b"content-type", b"application/json")]
        if path == "/_faults" and method == "POST":
            self.faults.extend(orjson.loads(await _body(receive)))
            await self._reply(send, 204, b"", [])
            return
        if path == "/_stats":
            body = orjson.dumps(
                {"posts": self.posts, "sent": dict(self.sent), "faults_left": len(self.faults)}
            )
            await self._reply(send, 200, body, json_header)
            return
        if path.rstrip("/") == "/xAPI/statements" and method == "POST":
            raw = await _body(receive)
            self.posts += 1
            try:
                data = orjson.loads(raw)
                for item in data if isinstance(data, list) else [data]:
                    if isinstance(item, dict) and "id" in item:
                        self.sent[str(item["id"])] += 1
            except orjson.JSONDecodeError:
                pass
            if self.faults:
                fault = self.faults.pop(0)
                if "delay" in fault:
                    await asyncio.sleep(float(fault["delay"]))
                else:
                    headers = list(json_header)
                    if "retry_after" in fault:
                        headers.append((b"retry-after", str(fault["retry_after"]).encode()))
                    body = orjson.dumps({"detail": f"injected {fault['status']}"})
                    await self._reply(send, int(fault["status"]), body, headers)
                    return
            replayed = False

            async def replay() -> dict[str, Any]:
                nonlocal replayed
                if replayed:
                    return await receive()  # type: ignore[no-any-return]
                replayed = True
                return {"type": "http.request", "body": raw, "more_body": False}

            await self.app(scope, replay, send)
            return
        await self.app(scope, receive, send)


async def _body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def main() -> None:
    port = int(sys.argv[1])
    uvicorn.run(FaultWrapper(ralph_app), host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
