"""xAPI: the durable statement outbox and its dead-letter table.

Revision ID: xapi_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "xapi_0001"
down_revision = None
branch_labels = ("xapi",)
depends_on = "core_0001"

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "xapi_outbox",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("statement_id", sa.String(36), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(36), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_xapi_outbox"),
        sa.UniqueConstraint("statement_id", name="uq_xapi_outbox_statement_id"),
    )
    op.create_index("ix_xapi_outbox_due", "xapi_outbox", ["status", "next_attempt_at"])
    op.create_table(
        "xapi_dead_letters",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("statement_id", sa.String(36), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_xapi_dead_letters"),
        sa.UniqueConstraint("statement_id", name="uq_xapi_dead_letters_statement_id"),
    )


def downgrade() -> None:
    op.drop_table("xapi_dead_letters")
    op.drop_index("ix_xapi_outbox_due", table_name="xapi_outbox")
    op.drop_table("xapi_outbox")
