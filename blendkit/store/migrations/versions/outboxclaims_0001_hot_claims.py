"""xAPI outbox: claims without an index on the claim token (HOT updates on PostgreSQL).

A deliverer renews and marks its claimed rows by the ids its claim returned (primary key), so
``ix_xapi_outbox_claimed_by`` is dropped. A claim then writes only unindexed columns, and on
PostgreSQL, with room left on each page (``fillfactor`` 50; it applies to pages written from
now on), it is a HOT update: the new row version stays on its page and no index changes.

Revision ID: outboxclaims_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "outboxclaims_0001"
down_revision = None
branch_labels = ("outboxclaims",)
depends_on = "xapi_0002"


def upgrade() -> None:
    op.drop_index("ix_xapi_outbox_claimed_by", table_name="xapi_outbox")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE xapi_outbox SET (fillfactor = 50)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE xapi_outbox RESET (fillfactor)")
    op.create_index(
        "ix_xapi_outbox_claimed_by",
        "xapi_outbox",
        ["claimed_by"],
        postgresql_where=sa.text("claimed_by IS NOT NULL"),
        sqlite_where=sa.text("claimed_by IS NOT NULL"),
    )
