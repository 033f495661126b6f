"""Readiness and database availability, for every web adapter (no web framework here).

:func:`check_readiness` answers a load balancer's question "may this process take traffic?":
the database answers and its schema is at exactly the revisions this code ships (no migration
pending, none newer than the code). :func:`database_unavailable` tells an outage (refused or
dropped connections, an exhausted pool: wait and retry, answer 503) from a bug (a data or
integrity error: answer 500).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import text
from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from blendkit.errors import BlendkitError, StoreError
from blendkit.store import Store, describe_database_error

__all__ = [
    "DATABASE_RETRY_AFTER_SECONDS",
    "Readiness",
    "check_readiness",
    "database_unavailable",
    "unavailable_error",
]

DATABASE_RETRY_AFTER_SECONDS = 5
"""``Retry-After`` of a 503 caused by the database: a failover or a restart takes seconds."""

ReadinessReason = Literal["database_unreachable", "migrations_pending", "schema_not_current"]

_UNAVAILABLE = (OperationalError, InterfaceError, DisconnectionError, PoolTimeoutError)


class Readiness(BaseModel):
    """The answer of :func:`check_readiness`; ``reason`` and ``detail`` are safe to show."""

    model_config = ConfigDict(frozen=True)

    ready: bool
    reason: ReadinessReason | None = None
    detail: str | None = None
    """For the log, never the page: the error's class and driver summary, or revision ids."""


def database_unavailable(exc: BaseException) -> SQLAlchemyError | None:
    """The connection-class database error behind ``exc`` (itself or a cause), or ``None``.

    Connection-class: ``OperationalError``, ``InterfaceError``, ``DisconnectionError``, a pool
    timeout, or any driver error SQLAlchemy marked as a lost connection. Data and integrity
    errors are not: retrying them cannot help.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _UNAVAILABLE):
            return current
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return current
        current = current.__cause__ or current.__context__
    return None


def unavailable_error() -> StoreError:
    """The refusal shown while the database is unavailable (503, ``store.unavailable``)."""
    return StoreError(
        "the database is not answering right now; try again in a few seconds (the server log "
        "names the error; check the database's health and connection limit)",
        code="store.unavailable",
        http_status=503,
    )


def check_readiness(store: Store) -> Readiness:
    """Whether ``store`` answers and its schema revisions equal the migration script's heads."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from alembic.util.exc import CommandError

    script = ScriptDirectory.from_config(store.alembic_config())
    try:
        with store.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = set(MigrationContext.configure(connection).get_current_heads())
    except SQLAlchemyError as exc:
        return Readiness(
            ready=False, reason="database_unreachable", detail=describe_database_error(exc)
        )
    except BlendkitError as exc:
        return Readiness(ready=False, reason="database_unreachable", detail=exc.code)
    expected = set(script.get_heads())
    if current == expected:
        return Readiness(ready=True)
    try:
        for head in current:
            script.get_revision(head)
    except CommandError:
        unknown = sorted(current - expected)
        return Readiness(
            ready=False,
            reason="schema_not_current",
            detail=f"database at revisions this code does not know: {', '.join(unknown)}",
        )
    pending = store.pending_migrations()
    if pending:
        return Readiness(
            ready=False,
            reason="migrations_pending",
            detail=f"{len(pending)} migration(s) pending; run `blendkit db upgrade`",
        )
    # Every revision the code knows is applied: the heads differ only where one branch's head
    # is a dependency of another branch (``depends_on``), which Alembic then leaves out of
    # alembic_version once the dependent revision is applied.
    return Readiness(ready=True)
