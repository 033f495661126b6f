"""A platform registration (issuer + client_id; one issuer may hold several, each its own record),
its endpoint-URL and service-host checks, and the errors registries raise about it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, field_validator

from blendkit.errors import AlreadyExists, NotFound, RegistrationError

__all__ = ["Platform", "check_endpoint_url", "service_host_patterns"]

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
