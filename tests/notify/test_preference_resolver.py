"""Learner preferences applied when reminders fall due: quiet hours postpone and then send,
digests merge, unsubscribes drop, the chosen channel carries the message with its one-click
unsubscribe link."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from email import message_from_bytes

import pytest

from blendkit.config import Settings
from blendkit.notify import (
    DeliveryDecision,
    Dispatch,
    Drop,
    EmailNotifier,
    ItemUnlocked,
    LearnerPreferences,
    Message,
    Postpone,
    PreferenceResolver,
    QueuedReminder,
    QuietHours,
    Recipient,
    ReminderIntent,
    render_message,
)

TOKYO_NIGHT = datetime(2027, 3, 10, 14, 0, tzinfo=UTC)  # 23:00 in Tokyo


class CourseChannel:
    """The queue's resolver as the lead wires it: render each row, send through ``email``."""

    def resolve(self, due: Sequence[QueuedReminder]) -> Sequence[DeliveryDecision]:
        return [
            Dispatch(
                (row.id,),
                "email",
                render_message(row.intent.context).to_message(
                    Recipient(address=f"{row.intent.recipient}@learners.example"),
                    row.intent.key,
                ),
            )
            for row in due
        ]


@dataclass
class Prefs:
    chosen: dict[tuple[int, str], LearnerPreferences] = field(default_factory=dict)

    def preferences(self, course_id: int, sub: str) -> LearnerPreferences:
        return self.chosen.get((course_id, sub), LearnerPreferences())


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _rows(count: int, sub: str = "ana") -> list[QueuedReminder]:
    rows = []
    for n in range(count):
        context = ItemUnlocked(
            recipient_name="Ana", course_title="BIO101", item_title=f"Item {n}",
            item_url=f"https://tool.example/items/{n}",
        )  # fmt: skip
        intent = ReminderIntent(4, sub, f"unlock:i{n}", "open", "0", TOKYO_NIGHT, context)
        rows.append(QueuedReminder(id=100 + n, intent=intent, attempts=0))
    return rows


def _resolver(prefs: Prefs, clock: Clock, **options: object) -> PreferenceResolver:
    return PreferenceResolver(
        CourseChannel(),
        prefs,
        available=["email", "webhook"],
        clock=clock,
        **options,  # type: ignore[arg-type]
    )


def test_a_reminder_waits_through_quiet_hours_and_is_sent_after() -> None:
    prefs = Prefs({(4, "ana"): LearnerPreferences(
        time_zone="Asia/Tokyo", quiet=QuietHours(time(22, 0), time(7, 0)))})  # fmt: skip
    clock = Clock(TOKYO_NIGHT)
    resolver = _resolver(prefs, clock)
    rows = _rows(1)

    (held,) = resolver.resolve(rows)
    assert isinstance(held, Postpone)
    assert held.ids == (100,)
    assert held.until == datetime(2027, 3, 10, 22, 0, tzinfo=UTC)  # 07:00 in Tokyo
    assert "quiet hours" in held.reason

    clock.now = held.until  # the queue brings it back then
    (sent,) = resolver.resolve(rows)
    assert isinstance(sent, Dispatch)
    assert sent.ids == (100,)
    assert sent.notifier == "email"


def test_digest_learners_get_one_message_at_their_hour() -> None:
    prefs = Prefs({(4, "ana"): LearnerPreferences(time_zone="Asia/Tokyo", digest=True,
                                                  digest_hour=8)})  # fmt: skip
    clock = Clock(TOKYO_NIGHT)
    resolver = _resolver(prefs, clock)
    rows = _rows(3)

    (held,) = resolver.resolve(rows)
    assert isinstance(held, Postpone)
    assert held.until == datetime(2027, 3, 10, 23, 0, tzinfo=UTC)  # 08:00 in Tokyo

    clock.now = held.until + timedelta(minutes=5)
    (digest,) = resolver.resolve(rows)
    assert isinstance(digest, Dispatch)
    assert digest.ids == (100, 101, 102)
    assert digest.message.subject == "BIO101: 3 updates"
    assert digest.message.text.count("Hello Ana,") == 1
    for n in range(3):
        assert f"Item {n}" in digest.message.text
    assert digest.message.html is not None
    assert "Item 2" in digest.message.html
    assert resolver.resolve(rows)[0].message.key == digest.message.key  # type: ignore[union-attr]


def test_an_unsubscribed_learner_gets_nothing_and_the_reason_says_when() -> None:
    when = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)
    prefs = Prefs({(4, "ana"): LearnerPreferences(unsubscribed={"*": when})})
    (dropped,) = _resolver(prefs, Clock(TOKYO_NIGHT)).resolve(_rows(2))
    assert isinstance(dropped, Drop)
    assert dropped.ids == (100, 101)
    assert dropped.reason == "unsubscribed by the learner on 2027-03-02"


def test_the_learners_channel_carries_it_and_unsubscribing_from_it_drops_it() -> None:
    prefs = Prefs({(4, "ana"): LearnerPreferences(channel="webhook"),
                   (4, "ben"): LearnerPreferences(channel="carrier-pigeon"),
                   (4, "cy"): LearnerPreferences(
                       channel="webhook",
                       unsubscribed={"webhook": datetime(2027, 3, 1, tzinfo=UTC)})})  # fmt: skip
    resolver = _resolver(prefs, Clock(TOKYO_NIGHT))
    assert resolver.resolve(_rows(1, "ana"))[0].notifier == "webhook"  # type: ignore[union-attr]
    # A channel the tool does not have falls back to the course's.
    assert resolver.resolve(_rows(1, "ben"))[0].notifier == "email"  # type: ignore[union-attr]
    (dropped,) = resolver.resolve(_rows(1, "cy"))
    assert isinstance(dropped, Drop)
    assert "from webhook on 2027-03-01" in dropped.reason


def test_messages_carry_a_one_click_unsubscribe_link_and_headers() -> None:
    links: list[tuple[int, str, str]] = []

    def link(course_id: int, sub: str, channel: str) -> str:
        links.append((course_id, sub, channel))
        return f"https://tool.example/unsubscribe/tok-{sub}-{channel}"

    resolver = _resolver(Prefs(), Clock(TOKYO_NIGHT), unsubscribe_link=link)
    (sent,) = resolver.resolve(_rows(1))
    assert isinstance(sent, Dispatch)
    assert links == [(4, "ana", "email")]
    url = "https://tool.example/unsubscribe/tok-ana-email"
    assert dict(sent.message.headers) == {
        "List-Unsubscribe": f"<{url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    assert sent.message.text.rstrip().endswith(f"Unsubscribe: {url}")
    assert sent.message.html is not None
    assert f'href="{url}"' in sent.message.html

    settings = Settings(email={"host": "smtp.example.org", "from_address": "c@example.org"})
    mail = message_from_bytes(EmailNotifier(settings).build(sent.message).as_bytes())
    assert mail["List-Unsubscribe"] == f"<{url}>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


@pytest.mark.parametrize("name", ["Subject", "From", "Bcc", "List-Unsub\nscribe", "X-"])
def test_messages_refuse_headers_other_than_list_and_x(name: str) -> None:
    with pytest.raises(ValueError, match="headers"):
        Message(
            recipient=Recipient(address="a@x.example"), subject="S", text="T", key="k",
            headers=((name, "v"),),
        )  # fmt: skip
