"""Foundation: circuit breakers shared by every process on the database, so the deliverers of
one endpoint send one probe at a time between them.

Revision ID: core_0007
Revises: core_0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "core_0007"
down_revision = "core_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "http_breakers",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("opens", sa.Integer(), nullable=False),
        sa.Column("trips", sa.BigInteger(), nullable=False),
        sa.Column("opened_at", sa.Float(), nullable=True),
        sa.Column("open_until", sa.Float(), nullable=True),
        sa.Column("probe_by", sa.String(length=64), nullable=True),
        sa.Column("probe_until", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_http_breakers")),
    )


def downgrade() -> None:
    op.drop_table("http_breakers")
