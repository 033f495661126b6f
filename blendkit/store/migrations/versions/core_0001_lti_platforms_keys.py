"""Foundation: LTI platform registrations, deployments, tool keys, login states, used nonces.

Revision ID: core_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "core_0001"
down_revision = None
branch_labels = ("core",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lti_platforms",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("issuer", sa.String(512), nullable=False),
        sa.Column("client_id", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False, server_default=""),
        sa.Column("auth_login_url", sa.String(1024), nullable=False),
        sa.Column("auth_token_url", sa.String(1024), nullable=False),
        sa.Column("jwks_url", sa.String(1024), nullable=False),
        sa.Column("auth_audience", sa.String(1024), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_lti_platforms"),
        sa.UniqueConstraint("issuer", "client_id", name="uq_lti_platforms_issuer_client"),
    )
    op.create_table(
        "lti_deployments",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("deployment_id", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_lti_deployments"),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["lti_platforms.id"],
            ondelete="CASCADE",
            name="fk_lti_deployments_platform_id_lti_platforms",
        ),
        sa.UniqueConstraint("platform_id", "deployment_id", name="uq_lti_deployments_platform_dep"),
    )
    op.create_index("ix_lti_deployments_platform_id", "lti_deployments", ["platform_id"])
    op.create_table(
        "tool_keys",
        sa.Column("kid", sa.String(64), nullable=False),
        sa.Column("private_pem", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("kid", name="pk_tool_keys"),
    )
    op.create_table(
        "lti_login_states",
        sa.Column("state", sa.String(128), nullable=False),
        sa.Column("nonce", sa.String(128), nullable=False),
        sa.Column("browser_hash", sa.String(128), nullable=False),
        sa.Column("issuer", sa.String(512), nullable=False),
        sa.Column("client_id", sa.String(255), nullable=False),
        sa.Column("target_link_uri", sa.String(2048), nullable=False),
        sa.Column("storage_target", sa.String(255), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("state", name="pk_lti_login_states"),
    )
    op.create_index("ix_lti_login_states_expires_at", "lti_login_states", ["expires_at"])
    op.create_table(
        "lti_nonces",
        sa.Column("issuer", sa.String(512), nullable=False),
        sa.Column("nonce", sa.String(255), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("issuer", "nonce", name="pk_lti_nonces"),
    )
    op.create_index("ix_lti_nonces_expires_at", "lti_nonces", ["expires_at"])


def downgrade() -> None:
    op.drop_table("lti_nonces")
    op.drop_table("lti_login_states")
    op.drop_table("tool_keys")
    op.drop_table("lti_deployments")
    op.drop_table("lti_platforms")
