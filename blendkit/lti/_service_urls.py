"""Service URLs taken from launches: admitted by the outbound fence and the registration's pin.

AGS line items and scores, the NRPS memberships URL and the deep-linking return URL are named by
the launch, so they are checked before any access token is requested or sent: the fence (https,
public addresses) and, when the registration has one, its ``service_hosts`` pin. Without a pin any
public https host is accepted, because Canvas serves these URLs from each school's own domain.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

import httpx

from blendkit.errors import OutboundError, ServiceError
from blendkit.http import Fence

__all__ = ["admit", "admit_async", "host_pinned"]


def host_pinned(url: str, hosts: Iterable[str]) -> bool:
    """True when ``url``'s host is one of ``hosts`` (``*.example.edu`` matches its subdomains);
    an empty ``hosts`` pins nothing."""
    patterns = [h.lower().rstrip(".") for h in hosts]
    if not patterns:
        return True
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    return any(
        host == p or (p.startswith("*.") and host.endswith(p[1:]) and len(host) > len(p) - 1)
        for p in patterns
    )


def admit(fence: Fence, url: str, what: str, service_hosts: Iterable[str] = ()) -> None:
    """Refuse a service URL taken from a launch before any token is asked for or sent: the
    outbound fence (https, public addresses) and the registration's ``service_hosts`` pin."""
    try:
        fence.check(url)
    except OutboundError as exc:
        raise ServiceError(f"{what}: {exc.message}", code=exc.code) from exc
    except httpx.HTTPError:
        # The name does not resolve here: nothing can reach it (the exchange itself fails the
        # same way), and a deep-linking return URL is posted by the browser, not by the tool.
        pass
    _pinned(url, what, service_hosts)


async def admit_async(fence: Fence, url: str, what: str, service_hosts: Iterable[str] = ()) -> None:
    """:func:`admit` with the fence's asynchronous check (the resolver off the event loop)."""
    try:
        await fence.check_async(url)
    except OutboundError as exc:
        raise ServiceError(f"{what}: {exc.message}", code=exc.code) from exc
    except httpx.HTTPError:
        pass  # unresolvable: the exchange fails the same way (see admit)
    _pinned(url, what, service_hosts)


def _pinned(url: str, what: str, service_hosts: Iterable[str]) -> None:
    hosts = tuple(service_hosts or ())
    if not host_pinned(url, hosts):
        raise ServiceError(
            f"{what}: the service URL {url[:200]} is not on a host this registration allows "
            f"({', '.join(hosts)}); no token was sent. If the platform moved its services, "
            "update the registration (`blendkit platform set-service-hosts`).",
            code="lti.service_host_not_allowed",
        )
