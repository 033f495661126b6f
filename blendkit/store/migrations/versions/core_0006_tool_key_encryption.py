"""Foundation: tool keys encrypted at rest, and secrets generated once for every process.

``tool_keys.encrypted`` marks a private key stored as a Fernet token (``[tool]
key_encryption_keys``); keys already stored stay plain (``false``) until ``blendkit keys
re-encrypt`` encrypts them. ``tool_secrets`` keeps random secrets shared by every worker.

Revision ID: core_0006
Revises: core_0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "core_0006"
down_revision = "core_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tool_keys") as batch:
        batch.add_column(
            sa.Column("encrypted", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "tool_secrets",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("encrypted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_tool_secrets"),
    )


def downgrade() -> None:
    op.drop_table("tool_secrets")
    with op.batch_alter_table("tool_keys") as batch:
        batch.drop_column("encrypted")
