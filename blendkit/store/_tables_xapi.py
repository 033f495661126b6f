"""Tables of the xAPI outbox: statements waiting for (or done with) delivery, and dead letters.

A statement is stored once (unique ``statement_id``); a deliverer claims a batch by writing its
claim token and lease into the rows, so several processes can drain one outbox safely.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from blendkit.store._schema import metadata

__all__ = ["xapi_dead_letters", "xapi_outbox"]

xapi_outbox = Table(
    "xapi_outbox",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("statement_id", String(36), nullable=False),
    Column("payload", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("claimed_by", String(36), nullable=True),
    Column("claimed_until", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("delivered_at", DateTime(timezone=True), nullable=True),
    Column("last_error", Text, nullable=True),
    UniqueConstraint("statement_id", name="uq_xapi_outbox_statement_id"),
    Index("ix_xapi_outbox_due", "status", "next_attempt_at"),
)

xapi_dead_letters = Table(
    "xapi_dead_letters",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("statement_id", String(36), nullable=False),
    Column("payload", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("attempts", Integer, nullable=False),
    Column("failed_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("statement_id", name="uq_xapi_dead_letters_statement_id"),
)
