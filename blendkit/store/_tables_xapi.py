"""Tables of the xAPI outbox: statements waiting for (or done with) delivery, and dead letters.

A statement is stored once (unique ``statement_id``); a deliverer claims a batch by writing its
claim token and lease into the rows, so several processes can drain one outbox safely.

The indexes are partial: pending rows (claims, the pending count, the next retry time) and
delivered rows by delivery time (retention) each have their own small index, so the deliverer's
queries cost the same with an empty table as with millions of delivered rows. No index covers
the claim columns (``claimed_by``, ``claimed_until``): a deliverer finds its claimed rows by the
ids the claim returned, and on PostgreSQL a claim, which writes only those two columns, is then
a HOT update — the new row version stays on its page (each page is filled to half by inserts,
``fillfactor`` 50) and no index gets a new entry.
``xapi_outbox_totals`` keeps the delivered count (updated with every mark and prune), so
``status()`` never counts delivered rows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
)

from blendkit.store._schema import metadata, partial_index

__all__ = ["IS_DELIVERED", "IS_PENDING", "xapi_dead_letters", "xapi_outbox", "xapi_outbox_totals"]

IS_PENDING = "status = 'pending'"
"""The partial indexes' condition, written literally in queries too (SQLite uses a partial
index only when the query repeats its condition, not with a bound parameter)."""
IS_DELIVERED = "status = 'delivered'"

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
    partial_index("ix_xapi_outbox_pending", "id", where=IS_PENDING),
    partial_index("ix_xapi_outbox_pending_due", "next_attempt_at", where=IS_PENDING),
    partial_index("ix_xapi_outbox_delivered_at", "delivered_at", where=IS_DELIVERED),
)


# Room on each page for HOT claims (migration outboxclaims_0001 sets it on migrated databases;
# this does the same for a schema made from the metadata): a DDL event rather than the table's
# ``postgresql_with``, which SQLAlchemy accepts from 2.1 on only.
@event.listens_for(xapi_outbox, "after_create")
def _leave_room_on_each_page(_table: Table, connection: Connection, **_: Any) -> None:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("ALTER TABLE xapi_outbox SET (fillfactor = 50)")


xapi_outbox_totals = Table(
    "xapi_outbox_totals",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", BigInteger, nullable=False),
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
