"""StorePlatformRegistry: the platform registrations in the ``lti_platforms`` and
``lti_deployments`` tables."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, Connection, delete, select, update
from sqlalchemy.exc import IntegrityError

from blendkit.errors import AlreadyExists, RegistrationError
from blendkit.lti._platform_record import (
    Platform,
    _exists,
    _not_found,
    _stamped,
    service_host_patterns,
)
from blendkit.store import Store
from blendkit.store._tables_core import lti_deployments, lti_platforms

__all__ = ["StorePlatformRegistry"]


def _utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every stored one is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


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
            platform_id = _platform_id(session, issuer, client_id)
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
                platform_id = _platform_id(session, issuer, client_id)
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


def _platform_id(session: Connection, issuer: str, client_id: str) -> int:
    """The row id of the registration ``(issuer, client_id)``; NotFound when there is none."""
    platform_id = session.execute(
        select(lti_platforms.c.id).where(
            lti_platforms.c.issuer == issuer, lti_platforms.c.client_id == client_id
        )
    ).scalar_one_or_none()
    if platform_id is None:
        raise _not_found(issuer, client_id)
    return int(platform_id)
