"""The fence's address checks: a destination's URL and the addresses its host resolves to before
anything is sent, and the peer address each connection reached."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Sequence

import anyio
import anyio.to_thread
import httpx

from blendkit._fence_rules import Destination, OutboundPolicy, _ip_literal, refused

__all__ = ["Resolver", "system_resolver"]

_log = logging.getLogger("blendkit.http.fence")

Resolver = Callable[[str, int], Sequence[str]]
"""``resolver(host, port)`` → the IP addresses the host resolves to (raise ``OSError`` if none)."""


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses ``socket.getaddrinfo`` gives for ``host`` (what the transport will use)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _unreachable(request: httpx.Request) -> httpx.ConnectError:
    return httpx.ConnectError("the server could not be reached", request=request)


class _FenceChecks:
    """The checks of :class:`~blendkit.http.Fence` (which sets these attributes): where an
    exchange may go, and where its connection went."""

    policy: OutboundPolicy
    resolver: Resolver

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
