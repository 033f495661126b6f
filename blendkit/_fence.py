"""The outbound fence: every request blendkit sends to another server goes through :class:`Fence`.

For each hop of an exchange (redirects are followed here, never by httpx) the fence checks the
URL (:meth:`OutboundPolicy.check_url`), resolves the host and refuses it when any address is not
allowed, sends through the caller's ``httpx.Client`` (whatever its transport), confirms the peer
address the connection reached (so a DNS answer that changed in between is caught), and reads
the body as a stream up to a byte cap and a total deadline. Auth flows (an OAuth token request
inside ``httpx.Auth``) are driven here too, so their requests are fenced as well.

Failures that depend on the far side (refused or closed port, silence, a trickle) all surface as
httpx transport errors or :class:`~blendkit.errors.OutboundError`; callers word them uniformly and
never put a response body in a message.

The address checks live in :mod:`blendkit._fence_checks`, the deadline timer in
:mod:`blendkit._fence_deadlines`.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import anyio
import httpx

from blendkit._fence_checks import Resolver, _FenceChecks, system_resolver
from blendkit._fence_deadlines import _Watchdog
from blendkit._fence_rules import OutboundPolicy
from blendkit.errors import OutboundRefused, ResponseTooLarge

__all__ = ["Fence", "FetchDeadlineExceeded"]

_DROPPED_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


class FetchDeadlineExceeded(httpx.ReadTimeout):
    """The exchange ran past the fence's total deadline (a transport failure for retries)."""


def _auth_of(client: httpx.Client | httpx.AsyncClient, auth: object) -> httpx.Auth | None:
    if auth is httpx.USE_CLIENT_DEFAULT:
        return client.auth
    if auth is None or isinstance(auth, httpx.Auth):
        return auth
    raise TypeError("auth must be an httpx.Auth, None or httpx.USE_CLIENT_DEFAULT")


class Fence(_FenceChecks):
    """Applies an :class:`OutboundPolicy` to exchanges sent through any ``httpx`` client.

    ``resolver`` is injectable so tests can name hosts that no DNS knows; ``clock`` is the
    monotonic clock the deadline is measured with.
    """

    def __init__(
        self,
        policy: OutboundPolicy | None = None,
        *,
        resolver: Resolver = system_resolver,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = policy or OutboundPolicy()
        self.resolver = resolver
        self.clock = clock

    @classmethod
    def from_settings(cls, settings: Any, *, resolver: Resolver = system_resolver) -> Fence:
        """The fence of ``[http]`` and ``[tool] environment`` (https-only in production)."""
        http = settings.http
        policy = OutboundPolicy.allowing(
            http.allowed_hosts,
            https_only=settings.tool.production,
            max_response_bytes=http.max_response_bytes,
            deadline_seconds=http.deadline_seconds,
            max_redirects=http.max_redirects,
        )
        return cls(policy, resolver=resolver)

    # --- bounds and the answer -----------------------------------------------------------------

    def _bounded(self, request: httpx.Request, deadline: float) -> None:
        remaining = deadline - self.clock()
        if remaining <= 0:
            raise FetchDeadlineExceeded("the total deadline passed", request=request)
        timeouts = dict(request.extensions.get("timeout") or {})
        request.extensions["timeout"] = {
            key: remaining if timeouts.get(key) is None else min(float(timeouts[key]), remaining)
            for key in ("connect", "read", "write", "pool")
        }

    def _cap(self, max_bytes: int | None) -> int:
        cap = self.policy.max_response_bytes
        return cap if max_bytes is None else min(cap, max_bytes)

    @staticmethod
    def _too_large(response: httpx.Response, cap: int) -> ResponseTooLarge:
        url = str(response.url.copy_with(query=None))[:200]
        return ResponseTooLarge(
            f"the answer of {url} is larger than {cap} bytes; reading stopped there. Raise "
            "[http] max_response_bytes if this server's answers are legitimately that large"
        )

    def _declared_too_large(self, response: httpx.Response, cap: int) -> bool:
        declared = response.headers.get("content-length", "")
        return declared.isdigit() and int(declared) > cap

    def _finished(self, response: httpx.Response, body: bytes, started: float) -> httpx.Response:
        headers = [
            (k, v) for k, v in response.headers.multi_items() if k.lower() not in _DROPPED_HEADERS
        ]
        keep = {k: v for k, v in response.extensions.items() if k != "network_stream"}
        done = httpx.Response(
            response.status_code,
            headers=headers,
            content=body,
            request=response.request,
            extensions=keep,
        )
        done.elapsed = timedelta(seconds=self.clock() - started)
        return done

    # --- sync ----------------------------------------------------------------------------------

    def send(
        self,
        client: httpx.Client,
        request: httpx.Request,
        *,
        auth: httpx.Auth | object | None = httpx.USE_CLIENT_DEFAULT,
        follow_redirects: bool = False,
        max_bytes: int | None = None,
    ) -> httpx.Response:
        """Send ``request`` through ``client`` inside the fence; the answer is fully read.

        ``auth`` (by default the client's own) is driven here so every request it adds is
        fenced too. Raises :class:`OutboundRefused`, :class:`ResponseTooLarge`,
        :class:`FetchDeadlineExceeded` or the client's ``httpx.HTTPError``.
        """
        started = self.clock()
        deadline = started + self.policy.deadline_seconds
        flow_auth = _auth_of(client, auth)
        exchange = functools.partial(
            self._exchange,
            client,
            deadline=deadline,
            follow=follow_redirects,
            cap=self._cap(max_bytes),
            started=started,
        )
        if flow_auth is None:
            return exchange(request)
        flow = flow_auth.sync_auth_flow(request)
        step = next(flow)
        while True:
            response = exchange(step)
            try:
                step = flow.send(response)
            except StopIteration:
                return response

    def _exchange(
        self,
        client: httpx.Client,
        request: httpx.Request,
        *,
        deadline: float,
        follow: bool,
        cap: int,
        started: float,
    ) -> httpx.Response:
        watchdog = _Watchdog(deadline - self.clock(), request.extensions.get("trace"))
        try:
            return self._hops(
                client,
                request,
                watchdog,
                deadline=deadline,
                cap=cap,
                follow=follow,
                started=started,
            )
        except httpx.HTTPError as exc:
            if watchdog.fired and not isinstance(exc, FetchDeadlineExceeded):
                raise FetchDeadlineExceeded("the total deadline passed", request=request) from exc
            raise
        finally:
            watchdog.cancel()

    def _hops(
        self,
        client: httpx.Client,
        request: httpx.Request,
        watchdog: _Watchdog,
        *,
        deadline: float,
        follow: bool,
        cap: int,
        started: float,
    ) -> httpx.Response:
        hops = 0
        while True:
            destination = self.check(request.url)
            self._bounded(request, deadline)
            request.extensions["trace"] = watchdog.trace
            response = client.send(request, stream=True, auth=None, follow_redirects=False)
            try:
                self._check_peer(response, destination)
                following = follow and response.next_request is not None
                if following:
                    hops += 1
                    if hops > self.policy.max_redirects:
                        raise OutboundRefused(
                            f"{str(request.url)[:200]} redirected more than "
                            f"{self.policy.max_redirects} times; check the URL"
                        )
                    assert response.next_request is not None
                    request = response.next_request
                    continue
                if self._declared_too_large(response, cap):
                    raise self._too_large(response, cap)
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > cap:
                        raise self._too_large(response, cap)
                    chunks.append(chunk)
                    if self.clock() > deadline:
                        raise FetchDeadlineExceeded("the total deadline passed", request=request)
                return self._finished(response, b"".join(chunks), started)
            finally:
                response.close()

    # --- async ---------------------------------------------------------------------------------

    async def send_async(
        self,
        client: httpx.AsyncClient,
        request: httpx.Request,
        *,
        auth: httpx.Auth | object | None = httpx.USE_CLIENT_DEFAULT,
        follow_redirects: bool = False,
        max_bytes: int | None = None,
    ) -> httpx.Response:
        """:meth:`send` for an ``httpx.AsyncClient``; the deadline cancels a stalled read."""
        started = self.clock()
        try:
            with anyio.fail_after(self.policy.deadline_seconds):
                return await self._send_async(
                    client,
                    request,
                    auth=auth,
                    follow=follow_redirects,
                    cap=self._cap(max_bytes),
                    started=started,
                )
        except TimeoutError:
            raise FetchDeadlineExceeded("the total deadline passed", request=request) from None

    async def _send_async(
        self,
        client: httpx.AsyncClient,
        request: httpx.Request,
        *,
        auth: httpx.Auth | object | None,
        follow: bool,
        cap: int,
        started: float,
    ) -> httpx.Response:
        flow_auth = _auth_of(client, auth)
        exchange = functools.partial(
            self._exchange_async, client, follow=follow, cap=cap, started=started
        )
        if flow_auth is None:
            return await exchange(request)
        flow = flow_auth.async_auth_flow(request)
        step = await flow.__anext__()
        while True:
            response = await exchange(step)
            try:
                step = await flow.asend(response)
            except StopAsyncIteration:
                return response

    async def _exchange_async(
        self,
        client: httpx.AsyncClient,
        request: httpx.Request,
        *,
        follow: bool,
        cap: int,
        started: float,
    ) -> httpx.Response:
        hops = 0
        while True:
            destination = await self.check_async(request.url)
            response = await client.send(request, stream=True, auth=None, follow_redirects=False)
            try:
                self._check_peer(response, destination)
                if follow and response.next_request is not None:
                    hops += 1
                    if hops > self.policy.max_redirects:
                        raise OutboundRefused(
                            f"{str(request.url)[:200]} redirected more than "
                            f"{self.policy.max_redirects} times; check the URL"
                        )
                    request = response.next_request
                    continue
                if self._declared_too_large(response, cap):
                    raise self._too_large(response, cap)
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > cap:
                        raise self._too_large(response, cap)
                    chunks.append(chunk)
                return self._finished(response, b"".join(chunks), started)
            finally:
                await response.aclose()
