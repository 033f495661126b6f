"""xAPI: partial indexes for every deliverer query, and a maintained delivered count.

The full ``(status, next_attempt_at)`` index is replaced by partial indexes over pending rows
(claims, pending count, next retry), claimed rows by claim token (lease renewal) and delivered
rows by ``delivered_at`` (retention);
``xapi_outbox_totals`` starts with the delivered rows already in the table.

Revision ID: xapi_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "xapi_0002"
down_revision = "xapi_0001"
branch_labels = None
depends_on = None

_PENDING = "status = 'pending'"
_DELIVERED = "status = 'delivered'"


def _partial(name: str, column: str, where: str) -> None:
    op.create_index(
        name,
        "xapi_outbox",
        [column],
        postgresql_where=sa.text(where),
        sqlite_where=sa.text(where),
    )


def upgrade() -> None:
    _partial("ix_xapi_outbox_pending", "id", _PENDING)
    _partial("ix_xapi_outbox_pending_due", "next_attempt_at", _PENDING)
    _partial("ix_xapi_outbox_claimed_by", "claimed_by", "claimed_by IS NOT NULL")
    _partial("ix_xapi_outbox_delivered_at", "delivered_at", _DELIVERED)
    op.drop_index("ix_xapi_outbox_due", table_name="xapi_outbox")
    op.create_table(
        "xapi_outbox_totals",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_xapi_outbox_totals"),
    )
    op.execute(
        "INSERT INTO xapi_outbox_totals (name, value) "
        "SELECT 'delivered', count(*) FROM xapi_outbox WHERE status = 'delivered'"
    )


def downgrade() -> None:
    op.drop_table("xapi_outbox_totals")
    op.create_index("ix_xapi_outbox_due", "xapi_outbox", ["status", "next_attempt_at"])
    op.drop_index("ix_xapi_outbox_delivered_at", table_name="xapi_outbox")
    op.drop_index("ix_xapi_outbox_claimed_by", table_name="xapi_outbox")
    op.drop_index("ix_xapi_outbox_pending_due", table_name="xapi_outbox")
    op.drop_index("ix_xapi_outbox_pending", table_name="xapi_outbox")
