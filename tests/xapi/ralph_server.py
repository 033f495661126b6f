"""Run the real ralph LRS (filesystem backend) behind a fault-injecting ASGI wrapper.

Usage: ``python ralph_server.py PORT DATA_DIR``. The environment must name ralph's settings
(see ``tests/xapi/conftest.py``). ``POST /_faults`` queues faults for the next statement POSTs
(``[{"status": 500}, {"status": 429, "retry_after": 1}, {"delay": 3}]``); ``GET /_stats`` returns
how many times each statement id was POSTed (to prove there were no double sends; with
``RALPH_POSTS_FILE`` set, also written there when the server stops) and every statement that
ralph's own models (base, and the Video / Virtual Classroom profile models where one applies)
refused.
"""

from __future__ import annotations

import asyncio
import os
import signal
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
from ralph.exceptions import UnknownEventException  # noqa: E402
from ralph.models.selector import ModelSelector  # noqa: E402
from ralph.models.validator import Validator  # noqa: E402
from ralph.models.xapi.base.statements import BaseXapiStatement  # noqa: E402

Scope = dict[str, Any]


class FaultWrapper:
    """ASGI middleware: injects queued faults and counts statement ids per POST."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.faults: list[dict[str, Any]] = []
        self.sent: Counter[str] = Counter()
        self.posts = 0
        self.invalid: list[str] = []
        self.profiled: Counter[str] = Counter()
        self.validator = Validator(ModelSelector(module="ralph.models.xapi"))

    def check(self, item: dict[str, Any]) -> None:
        """Validate with ralph's base model and, where one applies, its profile model."""
        try:
            BaseXapiStatement.model_validate(item)
            model = self.validator.get_first_valid_model(item)
            self.profiled[type(model).__name__] += 1
        except UnknownEventException:
            return  # no profile model for this verb / activity type: the base model passed
        except Exception as exc:  # any rejection is reported to the test
            self.invalid.append(f"{item.get('id')}: {exc}"[:500])

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
                {
                    "posts": self.posts,
                    "sent": dict(self.sent),
                    "faults_left": len(self.faults),
                    "invalid": self.invalid,
                    "profiled": dict(self.profiled),
                }
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
                        if str(item["id"]) not in self.sent:
                            self.check(item)
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
    wrapper = FaultWrapper(ralph_app)
    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again with the handler
    # found at start: this one lets main() go on to write the counts.
    signal.signal(signal.SIGTERM, lambda *_: None)
    uvicorn.run(wrapper, host="127.0.0.1", port=port, log_level="warning")
    # After a graceful stop (SIGTERM), when RALPH_POSTS_FILE names a file: every POST counted,
    # the last ones included (a /_stats read before the stop could miss a batch in flight).
    target = os.environ.get("RALPH_POSTS_FILE")
    if target:
        with open(target.replace("{pid}", str(os.getpid())), "wb") as out:
            out.write(orjson.dumps({"posts": wrapper.posts, "sent": dict(wrapper.sent)}))


if __name__ == "__main__":
    main()
