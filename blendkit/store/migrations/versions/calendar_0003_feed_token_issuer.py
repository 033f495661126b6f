"""Calendar feed tokens record who took them (``issued_by``).

Revision ID: calendar_0003

A learner's token was always taken by the learner: their ``sub`` is filled in. Who took a course
feed's token was never recorded, so it cannot be tied to an instructor who is still on the
roster: those tokens are revoked, and an instructor takes a new link from the Upcoming page.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "calendar_0003"
down_revision = "calendar_0002"
branch_labels = None
depends_on = None

_tokens = sa.table(
    "calendar_feed_tokens",
    sa.column("kind", sa.String()),
    sa.column("sub", sa.String()),
    sa.column("issued_by", sa.String()),
    sa.column("revoked_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    op.add_column("calendar_feed_tokens", sa.Column("issued_by", sa.String(255), nullable=True))
    op.execute(_tokens.update().where(_tokens.c.kind == "learner").values(issued_by=_tokens.c.sub))
    op.execute(
        _tokens.update()
        .where(_tokens.c.kind == "course", _tokens.c.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )


def downgrade() -> None:
    with op.batch_alter_table("calendar_feed_tokens") as batch:
        batch.drop_column("issued_by")
