"""Table of the ``catcher`` notifier: messages kept instead of sent (the demo's mail catcher)."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, String, Table, Text

from blendkit.store._schema import metadata

__all__ = ["notify_caught_messages"]

notify_caught_messages = Table(
    "notify_caught_messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # The message's idempotency key: a retried send is caught once.
    Column("message_key", String(200), nullable=False, unique=True),
    Column("recipient", String(320), nullable=False),
    Column("recipient_name", String(200), nullable=True),
    Column("subject", String(250), nullable=False),
    Column("text", Text, nullable=False),
    Column("html", Text, nullable=True),
    # Attachment file names and types, one "name (type)" per line (the bytes are not kept).
    Column("attachments", Text, nullable=False),
    Column("caught_at", DateTime(timezone=True), nullable=False),
)
