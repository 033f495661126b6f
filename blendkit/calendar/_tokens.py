"""Secret feed tokens: random, shown once, stored as SHA-256, revocable and re-issuable.

A calendar app polls the feed URL without logging in, so the token in it is the only key: it is
32 random bytes (URL-safe), only its hash is kept, a new one revokes the previous one of the same
owner, and an unknown or revoked token resolves to nothing (the caller answers 404 without
saying which). Each token records who took it (``issued_by``): the course feed opens only while
that person is still active staff of the course.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, Update, insert, select, update

from blendkit.store._tables_calendar import calendar_feed_tokens

if TYPE_CHECKING:
    from collections.abc import Callable

    from blendkit.store import Store

__all__ = ["FeedKind", "FeedOwner", "FeedTokens", "token_digest"]

FeedKind = Literal["learner", "course"]
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def token_digest(token: str) -> str:
    """The stored form of a token (SHA-256, hex)."""
    return hashlib.sha256(token.encode()).hexdigest()


class FeedOwner(BaseModel):
    """Whose feed a token opens: a learner's (``sub``) or the course's (``sub`` empty).

    ``issued_by`` is who took the token (the learner themselves, or the instructor who took the
    course feed's); it is not part of the owner's identity: a new token of the same owner taken
    by another instructor revokes the previous one."""

    model_config = ConfigDict(frozen=True)

    course_id: int
    kind: FeedKind
    sub: str = ""
    issued_by: str = ""


class FeedTokens:
    """Issue, resolve and revoke feed tokens in one store."""

    def __init__(self, store: Store, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.clock = clock

    def issue(self, owner: FeedOwner) -> str:
        """A new token for ``owner`` (any previous one stops working), recorded as taken by
        ``owner.issued_by`` (a learner's own ``sub`` when empty). Show it once."""
        issued_by = owner.issued_by or owner.sub
        if not issued_by:
            raise TypeError("a course feed token records the instructor who takes it (issued_by)")
        token = secrets.token_urlsafe(32)
        now = self.clock()
        with self.store.transaction() as s:
            s.execute(self._revoke(owner, now))
            s.execute(
                insert(calendar_feed_tokens).values(
                    course_id=owner.course_id, sub=owner.sub, kind=owner.kind,
                    token_hash=token_digest(token), created_at=now, revoked_at=None,
                    issued_by=issued_by,
                )
            )  # fmt: skip
        return token

    def revoke(self, owner: FeedOwner) -> bool:
        """Revoke ``owner``'s token; whether one was live."""
        with self.store.transaction() as s:
            return bool(s.execute(self._revoke(owner, self.clock())).rowcount)

    def active(self, owner: FeedOwner) -> bool:
        """Whether ``owner`` has a live token (the token itself cannot be shown again)."""
        with self.store.transaction() as s:
            found = s.execute(
                select(calendar_feed_tokens.c.id).where(*self._owned(owner)).limit(1)
            ).first()
        return found is not None

    def resolve(self, token: str) -> FeedOwner | None:
        """The owner of a live token; None for a malformed, unknown or revoked one."""
        if not 20 <= len(token) <= 128 or not set(token) <= _TOKEN_CHARS:
            return None
        table = calendar_feed_tokens.c
        with self.store.transaction() as s:
            row = s.execute(
                select(table.course_id, table.kind, table.sub, table.issued_by).where(
                    table.token_hash == token_digest(token), table.revoked_at.is_(None)
                )
            ).first()
        if row is None:
            return None
        return FeedOwner(
            course_id=row.course_id, kind=row.kind, sub=row.sub, issued_by=row.issued_by or ""
        )

    @staticmethod
    def _owned(owner: FeedOwner) -> tuple[ColumnElement[bool], ...]:
        table = calendar_feed_tokens.c
        return (
            table.course_id == owner.course_id,
            table.sub == owner.sub,
            table.kind == owner.kind,
            table.revoked_at.is_(None),
        )

    def _revoke(self, owner: FeedOwner, now: datetime) -> Update:
        return update(calendar_feed_tokens).where(*self._owned(owner)).values(revoked_at=now)
