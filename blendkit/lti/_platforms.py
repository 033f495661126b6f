"""The platform registry: the protocol of where registrations (issuer + client_id) live, an
in-memory registry and a caching wrapper (the database one is in ``_platform_store``).

One issuer can hold several registrations (one per client_id, e.g. one Canvas instance with a
developer key per sub-account). Every registration is its own record: nothing is shared between
them at class level, so tenants never leak into each other.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Protocol, runtime_checkable

from blendkit.errors import AlreadyExists
from blendkit.lti._platform_record import (
    Platform,
    _exists,
    _not_found,
    _stamped,
    check_endpoint_url,
    service_host_patterns,
)
from blendkit.lti._platform_store import StorePlatformRegistry

__all__ = [
    "CachedPlatformRegistry",
    "InMemoryPlatformRegistry",
    "Platform",
    "PlatformRegistry",
    "StorePlatformRegistry",
    "check_endpoint_url",
]


@runtime_checkable
class PlatformRegistry(Protocol):
    """Where registrations live; the launch validator reads it on every launch."""

    def add(self, platform: Platform) -> Platform:
        """Register and return the stored record (``registered_at`` set); raises AlreadyExists
        for a known issuer + client_id."""
        ...

    def get(self, issuer: str, client_id: str) -> Platform:
        """The registration, or NotFound."""
        ...

    def for_issuer(self, issuer: str) -> list[Platform]:
        """Every registration of ``issuer`` (empty when unknown)."""
        ...

    def list(self) -> list[Platform]:
        """Every registration, sorted by issuer then client_id."""
        ...

    def remove(self, issuer: str, client_id: str) -> None:
        """Forget a registration and its deployments, or NotFound."""
        ...

    def add_deployment(self, issuer: str, client_id: str, deployment_id: str) -> Platform:
        """Allow one more deployment id; raises AlreadyExists when already allowed."""
        ...

    def set_service_hosts(
        self, issuer: str, client_id: str, service_hosts: Iterable[str]
    ) -> Platform:
        """Pin the registration's service URLs to ``service_hosts`` (empty: any public host)."""
        ...


class InMemoryPlatformRegistry:
    """A registry in a dict, for tests and embedding; each instance has its own records."""

    def __init__(self, platforms: list[Platform] | None = None) -> None:
        self._records: dict[tuple[str, str], Platform] = {}
        self._lock = threading.Lock()
        for platform in platforms or []:
            self.add(platform)

    def add(self, platform: Platform) -> Platform:
        platform = _stamped(platform)
        with self._lock:
            key = (platform.issuer, platform.client_id)
            if key in self._records:
                raise _exists(platform)
            self._records[key] = platform
        return platform

    def get(self, issuer: str, client_id: str) -> Platform:
        try:
            return self._records[(issuer, client_id)]
        except KeyError:
            raise _not_found(issuer, client_id) from None

    def for_issuer(self, issuer: str) -> list[Platform]:
        return sorted(
            (p for (iss, _), p in self._records.items() if iss == issuer),
            key=lambda p: p.client_id,
        )

    def list(self) -> list[Platform]:
        return sorted(self._records.values(), key=lambda p: (p.issuer, p.client_id))

    def remove(self, issuer: str, client_id: str) -> None:
        with self._lock:
            if self._records.pop((issuer, client_id), None) is None:
                raise _not_found(issuer, client_id)

    def add_deployment(self, issuer: str, client_id: str, deployment_id: str) -> Platform:
        with self._lock:
            platform = self.get(issuer, client_id)
            if deployment_id in platform.deployment_ids:
                raise AlreadyExists(
                    f"deployment {deployment_id!r} is already allowed for {platform.label}"
                )
            updated = platform.model_copy(
                update={"deployment_ids": (*platform.deployment_ids, deployment_id)}
            )
            self._records[(issuer, client_id)] = updated
        return updated

    def set_service_hosts(
        self, issuer: str, client_id: str, service_hosts: Iterable[str]
    ) -> Platform:
        with self._lock:
            platform = self.get(issuer, client_id)
            updated = platform.model_copy(
                update={"service_hosts": service_host_patterns(service_hosts)}
            )
            self._records[(issuer, client_id)] = updated
        return updated


class CachedPlatformRegistry:
    """Keeps ``for_issuer`` and ``get`` answers of another registry for ``ttl_seconds``.

    Every launch reads the registry twice (login and launch); on a busy tool that is a third of
    the launch's database time. Changes made through this object take effect at once; changes
    made elsewhere (another process, ``blendkit platform remove``) within ``ttl_seconds``.
    """

    def __init__(
        self,
        inner: PlatformRegistry,
        *,
        ttl_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.inner = inner
        self.ttl_seconds = ttl_seconds
        self.clock = clock
        self._by_issuer: dict[str, tuple[float, list[Platform]]] = {}
        self._lock = threading.Lock()

    def _forget(self, issuer: str) -> None:
        with self._lock:
            self._by_issuer.pop(issuer, None)

    def for_issuer(self, issuer: str) -> list[Platform]:
        now = self.clock()
        with self._lock:
            cached = self._by_issuer.get(issuer)
        if cached is not None and now - cached[0] < self.ttl_seconds:
            return list(cached[1])
        found = self.inner.for_issuer(issuer)
        with self._lock:
            if len(self._by_issuer) > 10_000:  # many tenants: keep memory bounded
                self._by_issuer.clear()
            self._by_issuer[issuer] = (now, found)
        return list(found)

    def get(self, issuer: str, client_id: str) -> Platform:
        for platform in self.for_issuer(issuer):
            if platform.client_id == client_id:
                return platform
        return self.inner.get(issuer, client_id)  # NotFound, named by the store

    def list(self) -> list[Platform]:
        return self.inner.list()

    def add(self, platform: Platform) -> Platform:
        try:
            return self.inner.add(platform)
        finally:
            self._forget(platform.issuer)

    def remove(self, issuer: str, client_id: str) -> None:
        try:
            self.inner.remove(issuer, client_id)
        finally:
            self._forget(issuer)

    def add_deployment(self, issuer: str, client_id: str, deployment_id: str) -> Platform:
        try:
            return self.inner.add_deployment(issuer, client_id, deployment_id)
        finally:
            self._forget(issuer)

    def set_service_hosts(
        self, issuer: str, client_id: str, service_hosts: Iterable[str]
    ) -> Platform:
        try:
            return self.inner.set_service_hosts(issuer, client_id, service_hosts)
        finally:
            self._forget(issuer)
