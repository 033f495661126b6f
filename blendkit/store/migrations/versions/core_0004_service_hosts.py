"""Foundation: per-registration pin of the hosts its launches' service URLs may name.

Existing registrations get the empty list: any public https host, as before (the outbound fence
still refuses private addresses and plain http).

Revision ID: core_0004
Revises: core_0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "core_0004"
down_revision = "core_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lti_platforms") as batch:
        batch.add_column(sa.Column("service_hosts", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("lti_platforms") as batch:
        batch.drop_column("service_hosts")
