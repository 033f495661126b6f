"""Notify: the durable notification queue, its dead letters and its totals.

One row per reminder idempotency key (course, recipient, event, event version, offset), kept in
every state until retention; partial indexes for every deliverer and status query.

Revision ID: notify_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "notify_0001"
down_revision = None
branch_labels = ("notify",)
depends_on = "courses_0007"

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_PENDING = "status = 'pending'"
_FINISHED = "status IN ('sent', 'cancelled', 'dropped')"


def _partial(name: str, columns: list[str], where: str) -> None:
    op.create_index(
        name,
        "notify_queue",
        columns,
        postgresql_where=sa.text(where),
        sqlite_where=sa.text(where),
    )


def upgrade() -> None:
    op.create_table(
        "notify_queue",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(255), nullable=False),
        sa.Column("event", sa.String(255), nullable=False),
        sa.Column("version", sa.String(255), nullable=False),
        sa.Column("offset", sa.String(32), nullable=False),
        sa.Column("key", sa.String(1100), nullable=False),
        sa.Column("template", sa.String(64), nullable=False),
        sa.Column("context", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(36), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["course_courses.id"],
            name="fk_notify_queue_course_id_course_courses",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_notify_queue"),
        sa.UniqueConstraint("key", name="uq_notify_queue_key"),
    )
    _partial("ix_notify_queue_pending", ["id"], _PENDING)
    _partial("ix_notify_queue_pending_due", ["next_attempt_at"], _PENDING)
    _partial("ix_notify_queue_pending_event", ["course_id", "event"], _PENDING)
    _partial("ix_notify_queue_claimed_by", ["claimed_by"], "claimed_by IS NOT NULL")
    _partial("ix_notify_queue_finished_at", ["finished_at"], _FINISHED)
    op.create_table(
        "notify_totals",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_notify_totals"),
    )
    op.create_table(
        "notify_dead_letters",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("queue_id", _ID, nullable=False),
        sa.Column("notifier", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["queue_id"],
            ["notify_queue.id"],
            name="fk_notify_dead_letters_queue_id_notify_queue",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_notify_dead_letters"),
        sa.UniqueConstraint("queue_id", name="uq_notify_dead_letters_queue_id"),
    )


def downgrade() -> None:
    op.drop_table("notify_dead_letters")
    op.drop_table("notify_totals")
    op.drop_table("notify_queue")
