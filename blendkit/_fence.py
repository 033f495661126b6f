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
"""

from __future__ import annotations

import contextlib
import functools
import heapq
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import anyio
import anyio.to_thread
import httpx

from blendkit._fence_rules import Destination, OutboundPolicy, _ip_literal, refused
from blendkit.errors import OutboundRefused, ResponseTooLarge

__all__ = ["Fence", "FetchDeadlineExceeded", "Resolver", "system_resolver"]

_log = logging.getLogger("blendkit.http.fence")

Resolver = Callable[[str, int], Sequence[str]]
"""``resolver(host, port)`` → the IP addresses the host resolves to (raise ``OSError`` if none)."""

_DROPPED_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


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


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses ``socket.getaddrinfo`` gives for ``host`` (what the transport will use)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class FetchDeadlineExceeded(httpx.ReadTimeout):
    """The exchange ran past the fence's total deadline (a transport failure for retries)."""


def _auth_of(client: httpx.Client | httpx.AsyncClient, auth: object) -> httpx.Auth | None:
    if auth is httpx.USE_CLIENT_DEFAULT:
        return client.auth
    if auth is None or isinstance(auth, httpx.Auth):
        return auth
    raise TypeError("auth must be an httpx.Auth, None or httpx.USE_CLIENT_DEFAULT")


def _unreachable(request: httpx.Request) -> httpx.ConnectError:
    return httpx.ConnectError("the server could not be reached", request=request)


class Fence:
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

    # --- checks --------------------------------------------------------------------------------

    def _judge(self, destination: Destination, addresses: Sequence[str], url: str) -> None:
        if not addresses:
            raise OSError("no address")
        for text in addresses:
            address = _ip_literal(text)
            if address is None or not self.policy.address_allowed(address):
                # the host only: a URL's path or query may hold a secret (a webhook's token)
                _log.warning("outbound fetch refused: %s resolves to %s", destination.host, text)
                raise refused(url)

    def _admitted(self, destination: Destination) -> bool:
        return destination.allowed or destination.literal is not None

    def check(self, url: httpx.URL | str) -> Destination:
        """Check ``url`` and the addresses its host resolves to, without sending anything.

        Raises :class:`OutboundRefused`, or ``httpx.ConnectError`` when the host does not
        resolve (the same failure the transport would report).
        """
        destination = self.policy.check_url(url)
        if not self._admitted(destination):
            try:
                addresses = self.resolver(destination.host, destination.port)
                self._judge(destination, addresses, str(url))
            except OSError:
                raise _unreachable(httpx.Request("GET", url)) from None
        return destination

    async def check_async(self, url: httpx.URL | str) -> Destination:
        """:meth:`check` with the resolver run in a worker thread."""
        destination = self.policy.check_url(url)
        if not self._admitted(destination):
            try:
                addresses = await anyio.to_thread.run_sync(
                    self.resolver, destination.host, destination.port
                )
                self._judge(destination, addresses, str(url))
            except OSError:
                raise _unreachable(httpx.Request("GET", url)) from None
        return destination

    def _check_peer(self, response: httpx.Response, destination: Destination) -> None:
        stream = response.extensions.get("network_stream")
        if stream is None or destination.allowed:
            return  # no network under this transport (MockTransport), or an allowed host
        peer = stream.get_extra_info("server_addr")
        address = _ip_literal(str(peer[0])) if isinstance(peer, tuple) and peer else None
        if address is None or not self.policy.address_allowed(address):
            _log.warning("outbound fetch refused: %s connected to %s", response.url.host, peer)
            raise refused(str(response.url))

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
