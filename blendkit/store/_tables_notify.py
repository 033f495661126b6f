"""Tables of the notification queue: reminders waiting for (or done with) delivery, their dead
letters, and the maintained totals.

A reminder is stored once per idempotency key (course, recipient, event, event version,
offset), in whatever state it reaches: ``pending`` → ``sent`` | ``cancelled`` | ``dropped`` |
``dead``. Keeping finished rows (until retention) is what makes scheduling idempotent. Every
deliverer and ``status()`` query reads through a partial index: pending rows by id and by due
time (claims, counts, next retry), pending rows by event (cancelling a moved session's
reminders), claimed rows by claim token (lease renewal) and finished rows by when they finished
(retention).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from blendkit.store._queue_sql import IS_PENDING
from blendkit.store._schema import metadata, partial_index

__all__ = ["IS_FINISHED", "notify_dead_letters", "notify_queue", "notify_totals"]

IS_FINISHED = "status IN ('sent', 'cancelled', 'dropped')"
"""Rows retention may delete (written literally in queries, like ``IS_PENDING``)."""

_ID = BigInteger().with_variant(Integer, "sqlite")

notify_queue = Table(
    "notify_queue",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column(
        "course_id",
        Integer,
        ForeignKey("course_courses.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("recipient", String(255), nullable=False),
    Column("event", String(255), nullable=False),
    Column("version", String(255), nullable=False),
    Column("offset", String(32), nullable=False),
    Column("key", String(1100), nullable=False),
    Column("template", String(64), nullable=False),
    Column("context", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("claimed_by", String(36), nullable=True),
    Column("claimed_until", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("last_error", Text, nullable=True),
    UniqueConstraint("key", name="uq_notify_queue_key"),
    partial_index("ix_notify_queue_pending", "id", where=IS_PENDING),
    partial_index("ix_notify_queue_pending_due", "next_attempt_at", where=IS_PENDING),
    partial_index("ix_notify_queue_pending_event", "course_id", "event", where=IS_PENDING),
    partial_index("ix_notify_queue_claimed_by", "claimed_by", where="claimed_by IS NOT NULL"),
    partial_index("ix_notify_queue_finished_at", "finished_at", where=IS_FINISHED),
)

notify_totals = Table(
    "notify_totals",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

notify_dead_letters = Table(
    "notify_dead_letters",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column(
        "queue_id",
        _ID,
        ForeignKey("notify_queue.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("notifier", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("failed_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("queue_id", name="uq_notify_dead_letters_queue_id"),
)
