"""Listening addresses written ``host:port`` (``[::1]:9464`` for IPv6) in the settings."""

from __future__ import annotations

import ipaddress

__all__ = ["is_loopback_host", "parse_listen_address"]


def parse_listen_address(value: str) -> tuple[str, int]:
    """``(host, port)`` of ``host:port``; raises ``ValueError`` naming the expected form."""
    host, sep, port_text = value.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(
            f"{value!r} is not host:port with a port from 1 to 65535 "
            "(e.g. 127.0.0.1:9464 or [::1]:9464)"
        )
    return host, int(port_text)


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
