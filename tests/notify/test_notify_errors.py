"""Notification errors belong to the one error tree: each rejection is a ``NotifyError`` with a
stable code and a message naming what to fix, and stays a ``ValueError`` (or ``ConfigError``)
where callers caught that before."""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from blendkit import (
    BlendkitError,
    ConfigError,
    NotificationInvalid,
    NotifierConfigError,
    NotifyError,
    Settings,
)
from blendkit.notify import (
    EmailNotifier,
    ItemUnlocked,
    NotificationQueue,
    QuietHours,
    ReminderIntent,
    UnsubscribeTokens,
    WebhookNotifier,
    parse_offsets,
)
from blendkit.notify._local_time import parse_clock
from blendkit.notify._queue_ops import context_class
from blendkit.store import Store


def _check(error: BaseException, cls: type[NotifyError], code: str, words: str) -> None:
    assert isinstance(error, cls)
    assert isinstance(error, NotifyError)
    assert isinstance(error, BlendkitError)
    assert error.code == code
    assert words in error.message


def test_the_tree_draws_the_notify_branch() -> None:
    assert issubclass(NotificationInvalid, ValueError)
    assert issubclass(NotifierConfigError, ConfigError)
    assert NotifyError.code == "notify.error"
    assert NotificationInvalid.http_status == 400


@pytest.mark.parametrize(
    ("call", "code", "words"),
    [
        (lambda: parse_offsets("48x"), "notify.offsets_invalid", "48h, 2h, 15m"),
        (lambda: parse_offsets("100d"), "notify.offsets_invalid", "90 days"),
        (lambda: parse_clock("25h"), "notify.quiet_hours_invalid", "HH:MM"),
        (lambda: QuietHours(time(22), time(22)), "notify.quiet_hours_invalid", "differ"),
        (lambda: context_class("no_such"), "notify.template_unknown", "no_such"),
    ],
)
def test_invalid_input_is_a_notification_invalid_and_a_value_error(
    call: object, code: str, words: str
) -> None:
    with pytest.raises(ValueError) as caught:
        call()  # type: ignore[operator]
    _check(caught.value, NotificationInvalid, code, words)


def test_a_reminder_with_a_naive_time_or_empty_recipient_is_refused(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'q.sqlite3'}")
    store.migrate()
    queue = NotificationQueue(store)
    unlocked = ItemUnlocked(
        recipient_name="Ana", course_title="Biology", item_title="Quiz",
        item_url="https://tool.example/courses/1/items/quiz",
    )  # fmt: skip
    naive = ReminderIntent(
        course_id=1, recipient="ana", event="e", version="1", offset="2h",
        due_at=datetime(2030, 1, 1), context=unlocked,
    )  # fmt: skip
    with pytest.raises(NotificationInvalid) as caught:
        queue.schedule([naive])
    _check(caught.value, NotificationInvalid, "notify.reminder_invalid", "aware datetime")
    empty = ReminderIntent(
        course_id=1, recipient="", event="e", version="1", offset="2h",
        due_at=datetime(2030, 1, 1, tzinfo=UTC), context=unlocked,
    )  # fmt: skip
    with pytest.raises(NotificationInvalid) as caught:
        queue.schedule([empty])
    _check(caught.value, NotificationInvalid, "notify.reminder_invalid", "recipient")
    with pytest.raises(NotifierConfigError) as config:
        queue.deliver_once()
    _check(config.value, NotifierConfigError, "notify.no_resolver", "resolver")
    with pytest.raises(NotifierConfigError) as config:
        queue.notifier("sms")
    _check(config.value, NotifierConfigError, "notify.unknown_notifier", "'sms'")
    store.dispose()


def test_notifier_settings_and_keys_that_cannot_work_are_configuration_errors() -> None:
    for build, section in ((EmailNotifier, "[email]"), (WebhookNotifier, "[webhook]")):
        with pytest.raises(ConfigError) as caught:
            build(Settings())
        _check(caught.value, NotifierConfigError, "notify.config", section)
    with pytest.raises(NotifierConfigError) as key:
        UnsubscribeTokens("")
    _check(key.value, NotifierConfigError, "notify.unsubscribe_key", "secret_key")
