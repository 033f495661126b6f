"""The ``catcher`` notifier: keeps each message in the database instead of sending it.

For the demo and for trying reminders out before an SMTP server is configured: the messages land
in ``notify_caught_messages`` of the tool's own database, where a page lists them
(:func:`caught_messages`). The database, not the process's memory, because the deliverer
(``blendkit notify run``) is one process and each web worker another: all of them see the same
rows. Catching is idempotent on the message's key, like a real channel's deduplication.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from blendkit.notify._message import Delivered, Message, SendOutcome

if TYPE_CHECKING:
    from blendkit.config import Settings
    from blendkit.store import Store

__all__ = ["CatcherNotifier", "CaughtMessage", "caught_messages"]


class CaughtMessage(BaseModel):
    """A message the catcher kept (attachments by name and type only)."""

    model_config = ConfigDict(frozen=True)

    id: int
    key: str
    recipient: str
    recipient_name: str | None
    subject: str
    text: str
    html: str | None
    attachments: tuple[str, ...]
    caught_at: datetime


class CatcherNotifier:
    """A notifier whose every send is kept in the store and reported delivered."""

    name = "catcher"

    def __init__(self, settings: Settings, *, store: Store | None = None) -> None:
        from blendkit.store import Store

        self.store = store or Store.from_settings(settings)

    def send(self, message: Message) -> SendOutcome:
        from blendkit.store._tables_catcher import notify_caught_messages

        insert = self.store.insert_ignoring_conflicts(notify_caught_messages, "message_key")
        with self.store.transaction() as s:
            s.execute(
                insert.values(
                    message_key=message.key, recipient=message.recipient.address,
                    recipient_name=message.recipient.name, subject=message.subject,
                    text=message.text, html=message.html,
                    attachments="\n".join(
                        f"{a.filename} ({a.content_type})" for a in message.attachments
                    ),
                    caught_at=datetime.now(UTC),
                )
            )  # fmt: skip
        return Delivered()


def caught_messages(store: Store, *, limit: int = 100) -> list[CaughtMessage]:
    """The latest caught messages, newest first."""
    from blendkit.courses._models import aware
    from blendkit.store._tables_catcher import notify_caught_messages as table

    with store.transaction() as s:
        rows = s.execute(select(table).order_by(table.c.id.desc()).limit(limit)).all()
    return [
        CaughtMessage(
            id=r.id, key=r.message_key, recipient=r.recipient, recipient_name=r.recipient_name,
            subject=r.subject, text=r.text, html=r.html,
            attachments=tuple(filter(None, r.attachments.split("\n"))),
            caught_at=aware(r.caught_at),
        )
        for r in rows
    ]  # fmt: skip
