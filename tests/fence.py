"""Fences for tests whose servers are played by ``httpx.MockTransport`` or run on loopback.

A MockTransport test names hosts no DNS knows (``lms.example.edu``): :func:`public_fence` keeps
the production rules but resolves every name to one public address. Tests against real servers
on 127.0.0.1 allow exactly that address with :func:`loopback_fence` (or the ``[http]
allowed_hosts`` setting); neither switches the tool to development mode.
"""

from __future__ import annotations

from typing import Any

from blendkit.http import Fence, OutboundPolicy

PUBLIC_ADDRESS = "93.184.215.14"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")


def public_resolver(host: str, port: int) -> list[str]:
    """Every host name resolves to one public address."""
    del host, port
    return [PUBLIC_ADDRESS]


def public_fence(**policy: Any) -> Fence:
    """The production policy (https, public addresses) with :func:`public_resolver`."""
    return Fence(OutboundPolicy(**policy), resolver=public_resolver)


def loopback_fence(**policy: Any) -> Fence:
    """The production policy with 127.0.0.1 and localhost allowed, for servers on loopback
    (other host names resolve as in :func:`public_fence`)."""
    return Fence(OutboundPolicy.allowing(LOOPBACK_HOSTS, **policy), resolver=public_resolver)
