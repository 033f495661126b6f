"""Notifications: the :class:`Notifier` protocol, its message and outcomes, the built-in
``email`` and ``webhook`` notifiers, the ``catcher`` (messages kept in the database, for the demo),
and the message templates.

Channels are plugins in the entry-point group ``blendkit.notifiers`` (the two built-in ones are
registered by blendkit itself); each brings its settings section through ``blendkit.settings``
(``[email]``, ``[webhook]``). The templates need the ``notify`` extra (Jinja2 and Babel), loaded
only when a message is rendered. See docs/notifications.md.
"""

from blendkit.notify._catcher import CatcherNotifier, CaughtMessage, caught_messages
from blendkit.notify._contexts import (
    AtRiskLearner,
    AtRiskNudge,
    DeadlineApproaching,
    InstructorDigest,
    ItemUnlocked,
    MessageContext,
    RecordingReady,
    SessionStarting,
    UpcomingSession,
)
from blendkit.notify._email import EmailNotifier, EmailSettings
from blendkit.notify._intent import (
    DeliveryDecision,
    DeliveryResolver,
    Dispatch,
    Drop,
    NotificationSink,
    Postpone,
    QueuedReminder,
    ReminderIntent,
)
from blendkit.notify._message import (
    Delivered,
    Message,
    MessageAttachment,
    Notifier,
    PermanentFailure,
    Recipient,
    RetryableFailure,
    SendOutcome,
)
from blendkit.notify._registry import available_notifiers, load_notifier
from blendkit.notify._render import RenderedMessage, render_message
from blendkit.notify._webhook import WebhookNotifier, WebhookSettings

__all__ = [
    "AtRiskLearner",
    "AtRiskNudge",
    "CatcherNotifier",
    "CaughtMessage",
    "DeadlineApproaching",
    "Delivered",
    "DeliveryDecision",
    "DeliveryResolver",
    "Dispatch",
    "Drop",
    "EmailNotifier",
    "EmailSettings",
    "InstructorDigest",
    "ItemUnlocked",
    "Message",
    "MessageAttachment",
    "MessageContext",
    "NotificationSink",
    "Notifier",
    "PermanentFailure",
    "Postpone",
    "QueuedReminder",
    "Recipient",
    "RecordingReady",
    "ReminderIntent",
    "RenderedMessage",
    "RetryableFailure",
    "SendOutcome",
    "SessionStarting",
    "UpcomingSession",
    "WebhookNotifier",
    "WebhookSettings",
    "available_notifiers",
    "caught_messages",
    "load_notifier",
    "render_message",
]
