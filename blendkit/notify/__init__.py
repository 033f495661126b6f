"""Notifications: the :class:`Notifier` protocol, its message and outcomes, the built-in
``email`` and ``webhook`` notifiers, the ``catcher`` (messages kept in the database, for the demo),
and the message templates.

Channels are plugins in the entry-point group ``blendkit.notifiers`` (the two built-in ones are
registered by blendkit itself); each brings its settings section through ``blendkit.settings``
(``[email]``, ``[webhook]``). Reminders travel through the durable :class:`NotificationQueue`
(``blendkit notify run``). The templates need the ``notify`` extra (Jinja2 and Babel), loaded
only when a message is rendered. See docs/notifications.md.
"""

from blendkit.notify._catcher import CatcherNotifier, CaughtMessage, caught_messages
from blendkit.notify._contexts import (
    AtRiskLearner,
    AtRiskNudge,
    BookingStarting,
    DeadlineApproaching,
    DigestEntry,
    InstructorDigest,
    ItemUnlocked,
    LearnerDigest,
    MessageContext,
    RecordingReady,
    SessionMoved,
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
from blendkit.notify._local_time import QuietHours
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
from blendkit.notify._planning import (
    Addressee,
    Offset,
    PlannedEvent,
    ReminderPlan,
    due_per_learner,
    parse_offsets,
)
from blendkit.notify._preferences import (
    LearnerPreferences,
    PreferenceResolver,
    PreferenceSource,
    with_unsubscribe,
)
from blendkit.notify._queue import (
    NotificationDeadLetter,
    NotificationQueue,
    NotificationReport,
    NotificationStatus,
    Planner,
)
from blendkit.notify._registry import available_notifiers, load_notifier
from blendkit.notify._render import RenderedMessage, render_message
from blendkit.notify._resolver import RecipientResolver, message_key
from blendkit.notify._unsubscribe import UnsubscribeRequest, UnsubscribeTokens
from blendkit.notify._webhook import WebhookNotifier, WebhookSettings

__all__ = [
    "Addressee",
    "AtRiskLearner",
    "AtRiskNudge",
    "BookingStarting",
    "CatcherNotifier",
    "CaughtMessage",
    "DeadlineApproaching",
    "Delivered",
    "DeliveryDecision",
    "DeliveryResolver",
    "DigestEntry",
    "Dispatch",
    "Drop",
    "EmailNotifier",
    "EmailSettings",
    "InstructorDigest",
    "ItemUnlocked",
    "LearnerDigest",
    "LearnerPreferences",
    "Message",
    "MessageAttachment",
    "MessageContext",
    "NotificationDeadLetter",
    "NotificationQueue",
    "NotificationReport",
    "NotificationSink",
    "NotificationStatus",
    "Notifier",
    "Offset",
    "PermanentFailure",
    "PlannedEvent",
    "Planner",
    "Postpone",
    "PreferenceResolver",
    "PreferenceSource",
    "QueuedReminder",
    "QuietHours",
    "Recipient",
    "RecipientResolver",
    "RecordingReady",
    "ReminderIntent",
    "ReminderPlan",
    "RenderedMessage",
    "RetryableFailure",
    "SendOutcome",
    "SessionMoved",
    "SessionStarting",
    "UnsubscribeRequest",
    "UnsubscribeTokens",
    "UpcomingSession",
    "WebhookNotifier",
    "WebhookSettings",
    "available_notifiers",
    "caught_messages",
    "due_per_learner",
    "load_notifier",
    "message_key",
    "parse_offsets",
    "render_message",
    "with_unsubscribe",
]
