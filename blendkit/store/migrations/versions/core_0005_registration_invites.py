"""Foundation: one-time registration invites, and who invited each dynamic registration.

Revision ID: core_0005
Revises: core_0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "core_0005"
down_revision = "core_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lti_registration_invites",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("note", sa.String(512), nullable=False, server_default=""),
        sa.Column("host", sa.String(255), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_issuer", sa.String(512), nullable=True),
        sa.Column("used_client_id", sa.String(255), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("token_hash", name="uq_lti_registration_invites_token"),
    )
    with op.batch_alter_table("lti_platforms") as batch:
        batch.add_column(sa.Column("invite_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("invited_by", sa.String(255), nullable=True))
        batch.add_column(sa.Column("invited_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lti_platforms") as batch:
        batch.drop_column("invited_at")
        batch.drop_column("invited_by")
        batch.drop_column("invite_id")
    op.drop_table("lti_registration_invites")
