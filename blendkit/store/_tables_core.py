"""Tables of the foundation: LTI platform registrations, tool keys, login states, used nonces
and the circuit breakers every process shares."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
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
    "http_breakers",
    "lti_deployments",
    "lti_launches",
    "lti_login_states",
    "lti_nonces",
    "lti_platforms",
    "lti_registration_invites",
    "tool_keys",
    "tool_secrets",
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
    # Provenance of a dynamic registration: the invite it used and who minted that invite
    # (created_at is when the registration happened). NULL for registrations added by hand.
    Column("invite_id", Integer, nullable=True),
    Column("invited_by", String(255), nullable=True),
    Column("invited_at", DateTime(timezone=True), nullable=True),
    # Space-separated hosts (or *.domain) the service URLs of launches must be on; empty: any
    # public https host (Canvas serves AGS/NRPS from each school's own domain).
    Column("service_hosts", Text, nullable=False, server_default=""),
    UniqueConstraint("issuer", "client_id", name="uq_lti_platforms_issuer_client"),
)

# One-time, expiring links that let one platform register itself. Only a SHA-256 of the
# token is kept: the database never holds a usable invite.
lti_registration_invites = Table(
    "lti_registration_invites",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(255), nullable=False),
    Column("note", String(512), nullable=False, server_default=""),
    Column("host", String(255), nullable=True),
    Column("used_at", DateTime(timezone=True), nullable=True),
    Column("used_issuer", String(512), nullable=True),
    Column("used_client_id", String(255), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("token_hash", name="uq_lti_registration_invites_token"),
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
    # PKCS#8 PEM, Fernet-encrypted with [tool] key_encryption_keys when ``encrypted``.
    Column("private_pem", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("retired_at", DateTime(timezone=True), nullable=True),
    Column("encrypted", Boolean, nullable=False, server_default=false()),
)

# Random secrets generated once per install and shared by every process (the CSRF signing key
# when [tool] secret_key is empty, the fake meeting provider's webhook secret).
tool_secrets = Table(
    "tool_secrets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("encrypted", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
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


# Circuit breakers shared by every process on this database (StoredCircuitBreaker): one row per
# endpoint; times are seconds since the epoch (the processes' clocks, kept by NTP).
http_breakers = Table(
    "http_breakers",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("state", String(16), nullable=False),  # closed, open, half-open
    Column("failures", Integer, nullable=False),  # consecutive failures while closed
    Column("opens", Integer, nullable=False),  # consecutive openings: the backoff exponent
    Column("trips", BigInteger, nullable=False),  # times it opened from closed
    Column("opened_at", Float, nullable=True),
    Column("open_until", Float, nullable=True),
    Column("probe_by", String(64), nullable=True),  # the process sending the one probe
    Column("probe_until", Float, nullable=True),  # its lease: another may probe after it
)
