"""Tables of the foundation: LTI platform registrations, tool keys, login states and used nonces."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

from blendkit.store._schema import metadata

__all__ = [
    "lti_deployments",
    "lti_launches",
    "lti_login_states",
    "lti_nonces",
    "lti_platforms",
    "tool_keys",
]

lti_platforms = Table(
    "lti_platforms",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("issuer", String(512), nullable=False),
    Column("client_id", String(255), nullable=False),
    Column("name", String(255), nullable=False, server_default=""),
    Column("auth_login_url", String(1024), nullable=False),
    Column("auth_token_url", String(1024), nullable=False),
    Column("jwks_url", String(1024), nullable=False),
    Column("auth_audience", String(1024), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Trust on first use: deployments of this (signature-authenticated) platform are recorded
    # when first seen. Set for registrations whose platform assigns deployment ids later.
    Column("accept_new_deployments", Boolean, nullable=False, server_default=false()),
    # Space-separated hosts (or *.domain) the service URLs of launches must be on; empty: any
    # public https host (Canvas serves AGS/NRPS from each school's own domain).
    Column("service_hosts", Text, nullable=False, server_default=""),
    UniqueConstraint("issuer", "client_id", name="uq_lti_platforms_issuer_client"),
)

lti_deployments = Table(
    "lti_deployments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "platform_id",
        Integer,
        ForeignKey("lti_platforms.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("deployment_id", String(255), nullable=False),
    UniqueConstraint("platform_id", "deployment_id", name="uq_lti_deployments_platform_dep"),
)

tool_keys = Table(
    "tool_keys",
    metadata,
    Column("kid", String(64), primary_key=True),
    Column("private_pem", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("retired_at", DateTime(timezone=True), nullable=True),
)

lti_login_states = Table(
    "lti_login_states",
    metadata,
    Column("state", String(128), primary_key=True),
    Column("nonce", String(128), nullable=False),
    Column("browser_hash", String(128), nullable=False),
    Column("issuer", String(512), nullable=False),
    Column("client_id", String(255), nullable=False),
    Column("target_link_uri", String(2048), nullable=False),
    # Frame name from lti_storage_target when the platform offered LTI Platform Storage.
    Column("storage_target", String(255), nullable=True),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
)

lti_nonces = Table(
    "lti_nonces",
    metadata,
    Column("issuer", String(512), primary_key=True),
    Column("nonce", String(255), primary_key=True),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
)

lti_launches = Table(
    "lti_launches",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("issuer", String(512), nullable=False),
    Column("client_id", String(255), nullable=False),
    Column("deployment_id", String(255), nullable=False),
    Column("sub", String(255), nullable=False),
    Column("context_id", String(255), nullable=True),
    Column("data", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
)
