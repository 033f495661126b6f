"""The ``catcher`` notifier's table: messages kept for the demo's mail catcher page.

Revision ID: calendar_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "calendar_0002"
down_revision = "calendar_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notify_caught_messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("message_key", sa.String(200), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("recipient_name", sa.String(200), nullable=True),
        sa.Column("subject", sa.String(250), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=True),
        sa.Column("attachments", sa.Text(), nullable=False),
        sa.Column("caught_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_caught_messages")),
        sa.UniqueConstraint("message_key", name=op.f("uq_notify_caught_messages_message_key")),
    )


def downgrade() -> None:
    op.drop_table("notify_caught_messages")
