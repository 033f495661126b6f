"""Which destinations an outbound fetch may reach: the URL and address rules of the fence.

Pure functions and one frozen policy value, no I/O: :mod:`blendkit._fence` applies them around
every exchange. A destination is acceptable when its URL is https (plain http only for hosts the
operator allowed), carries no user information, names its host in one standard spelling, and
every address it resolves to is public. Addresses that wrap an IPv4 address (IPv4-mapped,
IPv4-compatible, NAT64, 6to4, Teredo) are judged by the address they wrap.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from typing import NamedTuple

import httpx
from pydantic import BaseModel, ConfigDict, Field

from blendkit.errors import ConfigError, OutboundRefused

__all__ = [
    "METADATA_ADDRESSES",
    "Destination",
    "OutboundPolicy",
    "is_public_address",
    "parse_allowed_entry",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200")
)
"""Cloud metadata services: refused even when an allowed network covers them."""

_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_SPECIAL_PURPOSE = (ipaddress.ip_network("192.0.0.0/24"),)
"""IANA's special-purpose block (dummy, anycast, NAT64 discovery ...): no platform lives there."""
_NUMERIC_LABELS = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}$")
_HOST_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_-]+)*$")

DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024


def _wrapped_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for when it is only a wrapper around one."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if any(address in net for net in _NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if int(address) < 2**32:  # IPv4-compatible ::a.b.c.d (and :: / ::1)
        return ipaddress.IPv4Address(int(address))
    return None


def is_public_address(address: IPAddress) -> bool:
    """True for a globally routable unicast address that is not a cloud metadata endpoint.

    Private, loopback, link-local, reserved, multicast, unspecified, shared (100.64/10, CGNAT),
    documentation and benchmarking ranges are not public; wrapped IPv4 addresses are unwrapped.
    """
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            address = ipaddress.IPv6Address(str(address).split("%", 1)[0])
        wrapped = _wrapped_ipv4(address)
        if wrapped is not None:
            return is_public_address(wrapped)
        if address.sixtofour is not None and not is_public_address(address.sixtofour):
            return False
        if address.teredo is not None and not all(is_public_address(a) for a in address.teredo):
            return False
        if address.is_site_local:
            return False
    if address in METADATA_ADDRESSES or any(address in net for net in _SPECIAL_PURPOSE):
        return False
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None


def _legacy_ipv4(host: str) -> bool:
    """True for hosts ``inet_aton`` would read as an IPv4 address in a non-standard spelling:
    fewer than four parts (``127.1``), decimal (``2130706433``), octal or hex parts."""
    return bool(_NUMERIC_LABELS.match(host)) and _ip_literal(host) is None


def normalise_host(host: str) -> str:
    """Lower case, without the trailing dot of a fully qualified name."""
    return host.lower().rstrip(".")


def parse_allowed_entry(entry: str) -> str | IPNetwork:
    """One ``[http] allowed_hosts`` entry: a host name, an IP address or a CIDR network."""
    text = normalise_host(entry.strip())
    if "/" in text or _ip_literal(text) is not None:
        try:
            return ipaddress.ip_network(text, strict=False)
        except ValueError as exc:
            raise ConfigError(f"[http] allowed_hosts: {entry!r} is not a valid network") from exc
    if not _HOST_NAME.match(text) or _legacy_ipv4(text):
        raise ConfigError(
            f"[http] allowed_hosts: {entry!r} is not a host name, an IP address or a CIDR "
            "network (write IPv4 addresses as four decimal numbers)"
        )
    return text


class Destination(NamedTuple):
    """Where a checked URL points: its host, port, IP literal (if any), and whether the
    operator allowed that host outright (then its addresses are not checked)."""

    host: str
    port: int
    literal: IPAddress | None
    allowed: bool


class OutboundPolicy(BaseModel):
    """Where outbound fetches may go and how much of them is read.

    The default is the production rule: https only, public addresses only, nothing allowed on
    top. ``allowed_hosts`` names hosts (exact names, trailing dot ignored) and
    ``allowed_networks`` networks that may be private and reached over plain http: the explicit
    way to reach a development platform or an LRS on the local network.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    https_only: bool = True
    allowed_hosts: frozenset[str] = frozenset()
    allowed_networks: tuple[IPNetwork, ...] = ()
    max_response_bytes: int = Field(default=DEFAULT_MAX_RESPONSE_BYTES, ge=1)
    deadline_seconds: float = Field(default=30.0, gt=0)
    max_redirects: int = Field(default=3, ge=0, le=20)

    @classmethod
    def allowing(cls, entries: Iterable[str], **fields: object) -> OutboundPolicy:
        """A policy whose allow-list holds ``entries`` (host names, addresses, CIDR networks)."""
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in entries:
            parsed = parse_allowed_entry(entry)
            if isinstance(parsed, str):
                hosts.add(parsed)
            else:
                networks.append(parsed)
        return cls.model_validate(
            {**fields, "allowed_hosts": frozenset(hosts), "allowed_networks": tuple(networks)}
        )

    def address_allowed(self, address: IPAddress) -> bool:
        """True when ``address`` is public, or in an allowed network (metadata: only when
        allowed as that single address)."""
        if is_public_address(address):
            return True
        for network in self.allowed_networks:
            if address in network and (
                address not in METADATA_ADDRESSES or network.num_addresses == 1
            ):
                return True
        return False

    def check_url(self, url: httpx.URL | str) -> Destination:
        """Refuse (:class:`OutboundRefused`) a URL no address check could make acceptable.

        Checks scheme, user information, the spelling of the host and IP literals; host names
        are resolved and checked by the fence afterwards.
        """
        shown = str(url)[:200]
        try:
            parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
        except httpx.InvalidURL:
            raise _refused(shown, "it is not a valid URL") from None
        if parsed.scheme not in ("https", "http"):
            raise _refused(shown, "only https:// URLs are fetched")
        if parsed.userinfo:
            raise _refused(shown, "URLs with a user name or password are not fetched")
        host = normalise_host(parsed.host)
        if not host:
            raise _refused(shown, "it names no host")
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        literal = _ip_literal(host)
        if literal is None and _legacy_ipv4(host):
            raise _refused(shown, "its host is an IP address in a non-standard spelling")
        if literal is None and not _HOST_NAME.match(host):
            raise _refused(shown, "its host is not a valid host name")
        allowed = host in self.allowed_hosts or (
            literal is not None
            and any(literal in network for network in self.allowed_networks)
            and self.address_allowed(literal)
        )
        if parsed.scheme == "http" and self.https_only and not allowed:
            raise _refused(shown, "only https:// URLs are fetched")
        if literal is not None and not self.address_allowed(literal):
            raise _refused(shown, NOT_PUBLIC)
        return Destination(host=host, port=port, literal=literal, allowed=allowed)


NOT_PUBLIC = "its host is not a public address (private, loopback, link-local or reserved)"


def _refused(url: str, why: str) -> OutboundRefused:
    return OutboundRefused(
        f"the outbound fetch of {url} was refused: {why}. Outbound fetches go to public https "
        "addresses only; to reach a host on a private network (a development platform, a local "
        "LRS), add it to [http] allowed_hosts"
    )


def refused(url: str, why: str = NOT_PUBLIC) -> OutboundRefused:
    """The fence's refusal for ``url`` (uniform: the same words whatever the port's state)."""
    return _refused(url[:200], why)
