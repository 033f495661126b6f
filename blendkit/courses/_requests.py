"""The request ledger: a learner's form with an idempotency key is recorded once.

A form (a quiz, video progress, the done button, a recording watched) may carry an opaque key
rendered with the page. The first request with a key stores its outcome in ``course_requests``
in the same transaction as its evidence; a later request with the same key, learner and course
(the form sent again because the answer was lost) gets that outcome back and records nothing.
The same key with other content is refused (``courses.idempotency_key_reused``): a key names
one submission, never a slot to fill.

Callers take the learner's enrolment row lock (:func:`serialise_learner`) before
:func:`replayed`, so concurrent requests with one key run one after the other: the second sees
the first's row. The primary key (course, learner, key) backs this up.

Keys are kept for ``[courses] keep_request_days`` and then deleted by
:func:`prune_learner_requests` (oldest first, in bounded batches, through the ``recorded_at``
index): a key only has to outlive the page it was rendered with.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, select, tuple_
from sqlalchemy.orm import Session

from blendkit.errors import CourseInputInvalid, CoursesError
from blendkit.store import Store
from blendkit.store._tables_courses import course_requests

__all__ = ["KEY_PATTERN", "LearnerRequest", "prune_learner_requests", "remember", "replayed"]

KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,128}")
"""What an idempotency key looks like: 16 to 128 URL-safe characters (``secrets.token_urlsafe``)."""


@dataclass(frozen=True)
class LearnerRequest:
    """One keyed request: its key, its kind (``quiz``, ``evidence``) and a fingerprint of what
    it asked for."""

    key: str
    kind: str
    fingerprint: str

    @classmethod
    def of(cls, key: str, kind: str, content: Any) -> LearnerRequest:
        """Check the key and fingerprint ``content`` (JSON-serialisable: what was asked for,
        without the moment it was sent)."""
        if not isinstance(key, str) or KEY_PATTERN.fullmatch(key) is None:
            raise CourseInputInvalid(
                "the form's idempotency key must be 16 to 128 letters, digits, '-' or '_'; "
                "reload the page to get a fresh form",
                code="courses.bad_idempotency_key",
                http_status=400,
            )
        canonical = json.dumps([kind, content], sort_keys=True, separators=(",", ":"))
        return cls(key, kind, hashlib.sha256(canonical.encode()).hexdigest())


def replayed(
    s: Connection | Session, course_id: int, sub: str, request: LearnerRequest
) -> str | None:
    """The stored outcome of an earlier request with this key (None: first time).

    Raises ``courses.idempotency_key_reused`` (409) when the key was used for other content.
    """
    row = s.execute(
        select(
            course_requests.c.kind, course_requests.c.fingerprint, course_requests.c.outcome
        ).where(
            course_requests.c.course_id == course_id,
            course_requests.c.sub == sub,
            course_requests.c.key == request.key,
        )
    ).first()
    if row is None:
        return None
    if (row.kind, row.fingerprint) != (request.kind, request.fingerprint):
        raise CoursesError(
            "this form was already sent with other content; reload the page to get a fresh "
            "form (nothing was recorded this time)",
            code="courses.idempotency_key_reused",
            http_status=409,
        )
    return str(row.outcome)


def remember(  # noqa: PLR0917
    s: Connection | Session,
    course_id: int,
    sub: str,
    request: LearnerRequest,
    outcome: str,
    now: datetime,
) -> None:
    """Store the outcome of a first request, in the caller's transaction."""
    s.execute(
        insert(course_requests).values(
            course_id=course_id, sub=sub, key=request.key, kind=request.kind,
            fingerprint=request.fingerprint, outcome=outcome, recorded_at=now,
        )
    )  # fmt: skip


def prune_learner_requests(
    store: Store,
    older_than: timedelta,
    *,
    now: datetime | None = None,
    batch_size: int = 1000,
) -> int:
    """Delete the keys of learner requests recorded more than ``older_than`` ago, oldest first,
    ``batch_size`` rows per short transaction; returns how many were deleted. A form sent again
    with a deleted key is recorded as a new request."""
    cutoff = (now or datetime.now(UTC)) - older_than
    r = course_requests.c
    oldest = (
        select(r.course_id, r.sub, r.key)
        .where(r.recorded_at < cutoff)
        .order_by(r.recorded_at)
        .limit(batch_size)
    )
    total = 0
    while True:
        with store.transaction() as s:
            gone = s.execute(
                delete(course_requests).where(
                    tuple_(r.course_id, r.sub, r.key).in_(oldest), r.recorded_at < cutoff
                )
            )
        deleted = int(gone.rowcount or 0)
        total += deleted
        if deleted < batch_size:
            return total
