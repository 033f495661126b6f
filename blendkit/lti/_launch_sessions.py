"""Validated launches kept server-side under an opaque id.

Inside an LMS iframe, browsers increasingly block third-party cookies, so a tool cannot rely on
its own session cookie after the launch. The adapter stores the validated :class:`Launch` here
and carries only a random ``launch_id`` (256 bits) on the tool's own links and forms; pages load
the launch back with :meth:`LaunchSessions.get`. Ids expire (one hour by default, ``[lti]
launch_session_seconds`` in the Flask adapter): an id that leaked (a screenshot, a shared link)
stops working soon, and the learner relaunches from the course.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import CursorResult, bindparam, delete, select

from blendkit.errors import LaunchRejected
from blendkit.lti._launch import Launch
from blendkit.store import Store
from blendkit.store._tables_core import lti_launches

__all__ = ["LaunchSessions"]

_PURGE_EVERY = 200


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


# Built once: every launch saves one and every page loads one.
_SAVE = lti_launches.insert()
_GET = select(lti_launches.c.data, lti_launches.c.expires_at).where(
    lti_launches.c.id == bindparam("id")
)


class LaunchSessions:
    """Save a launch, get an id; load it back by id until it expires."""

    def __init__(
        self,
        store: Store,
        *,
        ttl_seconds: int = 3600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.ttl_seconds = ttl_seconds
        self.clock = clock
        self._saves = 0

    def save(self, launch: Launch) -> str:
        """Store ``launch`` and return its new id."""
        launch_id = secrets.token_urlsafe(32)
        now = self.clock()
        with self.store.autocommit() as session:
            session.execute(
                _SAVE,
                {
                    "id": launch_id,
                    "issuer": launch.issuer,
                    "client_id": launch.client_id,
                    "deployment_id": launch.deployment_id,
                    "sub": launch.user.sub,
                    "context_id": launch.context.id if launch.context else None,
                    "data": launch.model_dump_json(),
                    "created_at": _at(now),
                    "expires_at": _at(now + self.ttl_seconds),
                },
            )
        self._saves += 1
        if self._saves % _PURGE_EVERY == 0:
            self.purge_expired()
        return launch_id

    def get(self, launch_id: str) -> Launch:
        """The launch saved under ``launch_id``; ``LaunchRejected`` when unknown or expired."""
        if not launch_id or len(launch_id) > 64:
            raise self._expired()
        with self.store.autocommit() as session:
            row = session.execute(_GET, {"id": launch_id}).first()
        if row is None:
            raise self._expired()
        expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
        if expires.timestamp() <= self.clock():
            raise self._expired()
        return Launch.model_validate_json(row.data)

    def purge_expired(self) -> int:
        """Delete expired launches; returns how many were removed."""
        with self.store.autocommit() as session:
            result = session.execute(
                delete(lti_launches).where(lti_launches.c.expires_at <= _at(self.clock()))
            )
        assert isinstance(result, CursorResult)
        return int(result.rowcount or 0)

    @staticmethod
    def _expired() -> LaunchRejected:
        return LaunchRejected(
            "this page's launch is unknown or has expired; open the tool again from your course",
            code="lti.launch_session_expired",
            http_status=401,
        )
