"""Pure ASGI middleware of the Starlette adapter: the request body cap and request timing.

Both wrap the whole application (blendkit's routes and the host's), below any framework code,
so no route, form parser or host middleware reads a body byte before the cap applies.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from blendkit.errors import BlendkitError, RequestTooLarge
from blendkit.integrations._runtime import ToolRuntime
from blendkit.limits import RequestLimits
from blendkit.lti import HttpResponse

__all__ = ["ANSWERED_KEY", "BodyCapMiddleware", "TimingMiddleware", "send_response"]


async def send_response(send: Send, response: HttpResponse) -> None:
    """Send a core :class:`HttpResponse` straight through ASGI (no framework needed)."""
    body = response.body.encode() if isinstance(response.body, str) else response.body
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
    if not any(k == b"content-type" for k, _ in headers):
        headers.append((b"content-type", b"text/html; charset=utf-8"))
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


ANSWERED_KEY = "blendkit.body_cap.answered"
"""Scope key holding the over-cap error the middleware has already answered (and logged)."""

Refuse = Callable[[BaseException, str, str, str], HttpResponse | None]
"""``refuse(error, method, path, accept)``: the adapter's answer to a blendkit error."""


class BodyCapMiddleware:
    """Caps every request body (:class:`~blendkit.limits.RequestLimits`).

    A larger declared ``Content-Length`` is answered 413 before the body is read. A chunked or
    under-declared body is cut off at the cap: 413 is answered at once and ``receive`` raises
    :class:`~blendkit.errors.RequestTooLarge`, so whatever the app does with that error (a
    framework that turns body errors into 400, a handler that swallows it) the client gets 413
    and nothing past the cap is read.
    """

    def __init__(self, app: ASGIApp, limits: Callable[[], RequestLimits], refuse: Refuse) -> None:
        self.app = app
        self._limits = limits
        self._refuse = refuse

    async def _answer(self, send: Send, scope: Scope, error: BlendkitError) -> None:
        accept = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"accept"), "")
        answer = self._refuse(error, scope["method"], scope.get("path", ""), accept)
        await send_response(send, answer or ToolRuntime.refusal(error))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        limits = self._limits()
        try:
            limits.check_declared(path, _declared_length(scope))
        except BlendkitError as error:
            await self._answer(send, scope, error)
            return
        received = 0
        started = refused = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 went out; the app's own answer to the error is dropped
            started = started or message["type"] == "http.response.start"
            await send(message)

        async def capped_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                try:
                    limits.check_declared(path, received)
                except RequestTooLarge as error:
                    if not started:
                        await self._answer(send, scope, error)
                        refused = True
                        scope[ANSWERED_KEY] = error  # the app's handler must not log it again
                    raise
            return message

        try:
            await self.app(scope, capped_receive, guarded_send)
        except RequestTooLarge:
            if not refused:
                raise


class TimingMiddleware:
    """Records each request's duration under its route's name (``/metrics``)."""

    def __init__(
        self, app: ASGIApp, observe: Callable[[str, float, bool], None], names: dict[Any, str]
    ) -> None:
        self.app = app
        self._observe = observe
        self._names = names

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            endpoint = scope.get("endpoint")
            name = (
                self._names.get(endpoint, getattr(endpoint, "__name__", "unmatched"))
                if endpoint is not None
                else "unmatched"
            )
            if name not in {"blendkit_ops.healthz", "blendkit_ops.readyz", "blendkit_ops.metrics"}:
                self._observe(name, time.perf_counter() - started, name.startswith("blendkit_lti."))
