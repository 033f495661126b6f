"""The platform registry: which LTI platforms (issuer + client_id) may launch this tool.

One issuer can hold several registrations (one per client_id, e.g. one Canvas instance with a
developer key per sub-account). Every registration is its own record: nothing is shared between
them at class level, so tenants never leak into each other.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, field_validator
from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.exc import IntegrityError

from blendkit.errors import AlreadyExists, NotFound, RegistrationError
from blendkit.store import Store
from blendkit.store._tables_core import lti_deployments, lti_platforms

__all__ = [
    "CachedPlatformRegistry",
    "InMemoryPlatformRegistry",
    "Platform",
    "PlatformRegistry",
    "StorePlatformRegistry",
    "check_endpoint_url",
]

_LOOPBACK = {"localhost", "127.0.0.1", "::1"}
_SERVICE_HOST = re.compile(r"^(\*\.)?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_-]+)+$")


def service_host_patterns(values: Iterable[str]) -> tuple[str, ...]:
    """Normalised ``service_hosts`` entries: host names or ``*.domain`` wildcards."""
    hosts: list[str] = []
    for value in values:
        host = value.strip().lower().rstrip(".")
        if not _SERVICE_HOST.match(host):
            raise ValueError(
                f"service host {value!r} must be a host name such as lms.example.edu or a "
                "wildcard such as *.instructure.com"
            )
        hosts.append(host)
    return tuple(dict.fromkeys(hosts))


def check_endpoint_url(value: str, what: str) -> str:
    """Accept an absolute https URL, or http on a loopback host (local demos and tests)."""
    parts = urlsplit(value)
    host = (parts.hostname or "").lower()
    if parts.scheme == "https" and host:
        return value
    if parts.scheme == "http" and host in _LOOPBACK:
        return value
    raise RegistrationError(
        f"{what} {value!r} must be an absolute https:// URL (http:// is allowed only for "
        "localhost and 127.0.0.1); copy it from the platform's tool registration page"
    )


class Platform(BaseModel):
    """One registration of the tool on a platform."""

    model_config = ConfigDict(frozen=True)

    issuer: str
    client_id: str
    deployment_ids: tuple[str, ...] = ()
    auth_login_url: str
    auth_token_url: str
    jwks_url: str
    auth_audience: str | None = None
    name: str = ""
    accept_new_deployments: bool = False
    """Record an unknown deployment id on its first (signature-checked) launch instead of
    refusing it: for platforms such as Canvas that create deployments after registration."""
    registered_at: datetime | None = None
    """When the registration was stored (set by the registry)."""
    invite_id: int | None = None
    """The registration invite a dynamic registration used (None for one added by hand)."""
    invited_by: str | None = None
    """Who minted that invite."""
    invited_at: datetime | None = None
    """When that invite was minted."""
    service_hosts: tuple[str, ...] = ()
    """Hosts the service URLs of launches (AGS, NRPS, deep-linking return) must be on; empty
    allows any public https host (Canvas serves them from each school's own domain)."""

    @field_validator("service_hosts", mode="before")
    @classmethod
    def _service_hosts(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.split()
        if isinstance(value, list | tuple):
            return service_host_patterns(str(v) for v in value)
        return value

    @field_validator("issuer", "client_id")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("auth_login_url", "auth_token_url", "jwks_url")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        try:
            return check_endpoint_url(value, "URL")
        except RegistrationError as exc:
            raise ValueError(exc.message) from exc

    @field_validator("deployment_ids")
    @classmethod
    def _deployments(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not item.strip() for item in value):
            raise ValueError("deployment ids must not be empty")
        return tuple(dict.fromkeys(value))

    @property
    def label(self) -> str:
        """How messages name this registration."""
        return f"issuer {self.issuer!r} client_id {self.client_id!r}"


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


def _not_found(issuer: str, client_id: str) -> NotFound:
    return NotFound(
        f"no platform registered for issuer {issuer!r} and client_id {client_id!r}; "
        "`blendkit platform list` shows the registrations"
    )


def _exists(platform: Platform) -> AlreadyExists:
    return AlreadyExists(
        f"a platform with {platform.label} is already registered; remove it first "
        "(`blendkit platform remove`) or add deployments with `blendkit platform add-deployment`"
    )


def _stamped(platform: Platform) -> Platform:
    if platform.registered_at is not None:
        return platform
    return platform.model_copy(update={"registered_at": datetime.now(UTC)})


def _utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every stored one is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


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


class StorePlatformRegistry:
    """Registrations in the ``lti_platforms`` and ``lti_deployments`` tables."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def _load(self, *conditions: ColumnElement[bool]) -> list[Platform]:
        p, d = lti_platforms.c, lti_deployments.c
        query = (
            select(
                p.id,
                p.issuer,
                p.client_id,
                p.name,
                p.auth_login_url,
                p.auth_token_url,
                p.jwks_url,
                p.auth_audience,
                p.accept_new_deployments,
                p.created_at,
                p.invite_id,
                p.invited_by,
                p.invited_at,
                p.service_hosts,
                d.deployment_id,
            )
            .select_from(lti_platforms.outerjoin(lti_deployments))
            .where(*conditions)
            .order_by(p.issuer, p.client_id, d.id)
        )
        with self._store.transaction() as session:
            rows = session.execute(query).all()
        grouped: dict[int, tuple[dict[str, object], list[str]]] = {}
        for row in rows:
            entry = grouped.setdefault(
                row.id,
                (
                    {
                        "issuer": row.issuer,
                        "client_id": row.client_id,
                        "name": row.name,
                        "auth_login_url": row.auth_login_url,
                        "auth_token_url": row.auth_token_url,
                        "jwks_url": row.jwks_url,
                        "auth_audience": row.auth_audience,
                        "accept_new_deployments": bool(row.accept_new_deployments),
                        "registered_at": _utc(row.created_at),
                        "invite_id": row.invite_id,
                        "invited_by": row.invited_by,
                        "invited_at": _utc(row.invited_at),
                        "service_hosts": row.service_hosts or "",
                    },
                    [],
                ),
            )
            if row.deployment_id is not None:
                entry[1].append(row.deployment_id)
        return [
            Platform.model_validate({**fields, "deployment_ids": tuple(deps)})
            for fields, deps in grouped.values()
        ]

    def add(self, platform: Platform) -> Platform:
        platform = _stamped(platform)
        try:
            with self._store.transaction(savepoint=True) as session:
                platform_id = session.execute(
                    lti_platforms.insert()
                    .values(
                        issuer=platform.issuer,
                        client_id=platform.client_id,
                        name=platform.name,
                        auth_login_url=platform.auth_login_url,
                        auth_token_url=platform.auth_token_url,
                        jwks_url=platform.jwks_url,
                        auth_audience=platform.auth_audience,
                        accept_new_deployments=platform.accept_new_deployments,
                        service_hosts=" ".join(platform.service_hosts),
                        created_at=platform.registered_at,
                        invite_id=platform.invite_id,
                        invited_by=platform.invited_by,
                        invited_at=platform.invited_at,
                    )
                    .returning(lti_platforms.c.id)
                ).scalar_one()
                for deployment_id in platform.deployment_ids:
                    session.execute(
                        lti_deployments.insert().values(
                            platform_id=platform_id, deployment_id=deployment_id
                        )
                    )
        except IntegrityError:
            raise _exists(platform) from None
        return platform

    def get(self, issuer: str, client_id: str) -> Platform:
        found = self._load(lti_platforms.c.issuer == issuer, lti_platforms.c.client_id == client_id)
        if not found:
            raise _not_found(issuer, client_id)
        return found[0]

    def for_issuer(self, issuer: str) -> list[Platform]:
        return self._load(lti_platforms.c.issuer == issuer)

    def list(self) -> list[Platform]:
        return self._load()

    def remove(self, issuer: str, client_id: str) -> None:
        with self._store.transaction() as session:
            platform_id = session.execute(
                select(lti_platforms.c.id).where(
                    lti_platforms.c.issuer == issuer, lti_platforms.c.client_id == client_id
                )
            ).scalar_one_or_none()
            if platform_id is None:
                raise _not_found(issuer, client_id)
            # Explicit: SQLite enforces ON DELETE CASCADE only with foreign keys switched on.
            session.execute(
                delete(lti_deployments).where(lti_deployments.c.platform_id == platform_id)
            )
            session.execute(delete(lti_platforms).where(lti_platforms.c.id == platform_id))

    def add_deployment(self, issuer: str, client_id: str, deployment_id: str) -> Platform:
        if not deployment_id.strip():
            raise RegistrationError("the deployment id must not be empty")
        try:
            with self._store.transaction(savepoint=True) as session:
                platform_id = session.execute(
                    select(lti_platforms.c.id).where(
                        lti_platforms.c.issuer == issuer, lti_platforms.c.client_id == client_id
                    )
                ).scalar_one_or_none()
                if platform_id is None:
                    raise _not_found(issuer, client_id)
                session.execute(
                    lti_deployments.insert().values(
                        platform_id=platform_id, deployment_id=deployment_id
                    )
                )
        except IntegrityError:
            raise AlreadyExists(
                f"deployment {deployment_id!r} is already allowed for issuer {issuer!r} "
                f"client_id {client_id!r}"
            ) from None
        return self.get(issuer, client_id)

    def set_service_hosts(
        self, issuer: str, client_id: str, service_hosts: Iterable[str]
    ) -> Platform:
        hosts = service_host_patterns(service_hosts)
        with self._store.transaction() as session:
            updated = session.execute(
                update(lti_platforms)
                .where(lti_platforms.c.issuer == issuer, lti_platforms.c.client_id == client_id)
                .values(service_hosts=" ".join(hosts))
            )
            if not updated.rowcount:
                raise _not_found(issuer, client_id)
        return self.get(issuer, client_id)


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
