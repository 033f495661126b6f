"""The ``catcher`` notifier keeps messages in the tool's database (seen by every process), once
per key, and the mail catcher reads them back newest first."""

from __future__ import annotations

from pathlib import Path

from blendkit.config import Settings
from blendkit.notify import (
    Delivered,
    Message,
    MessageAttachment,
    Recipient,
    caught_messages,
    load_notifier,
)
from blendkit.store import Store


def _message(key: str, subject: str) -> Message:
    return Message(
        recipient=Recipient(address="ada@example.org", name="Ada"),
        subject=subject,
        text="Your session starts at 18:00 (Europe/Paris).",
        html="<p>Your session starts at <strong>18:00</strong>.</p><script>alert(1)</script>",
        attachments=(
            MessageAttachment(
                filename="session.ics", content_type="text/calendar", content=b"BEGIN:VCALENDAR"
            ),
        ),
        key=key,
    )


def test_messages_are_caught_once_per_key_and_listed_newest_first(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tool.sqlite3'}"
    Store(url).migrate()
    notifier = load_notifier("catcher", Settings(database={"url": url}))
    assert notifier.name == "catcher"

    assert isinstance(notifier.send(_message("k1", "First")), Delivered)
    assert isinstance(notifier.send(_message("k1", "First")), Delivered)  # a retry
    assert isinstance(notifier.send(_message("k2", "Second")), Delivered)

    # Another process (a web worker) opening the same database sees them.
    caught = caught_messages(Store(url))
    assert [m.subject for m in caught] == ["Second", "First"]
    assert caught[0].attachments == ("session.ics (text/calendar)",)
    assert caught[0].html is not None
    assert "<script>" in caught[0].html  # kept as sent
    assert caught[0].recipient_name == "Ada"
