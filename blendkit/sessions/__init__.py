"""Live sessions: models, the MeetingProvider protocol, attendance and scheduling.

The attendance merge and the scheduler do no I/O; providers (Zoom, Teams, the in-memory fake)
are found through the entry-point group ``blendkit.meeting_providers``.
"""

from blendkit.sessions._attendance import (
    Roster,
    build_attendance_report,
    merge_intervals,
    normalise_email,
)
from blendkit.sessions._events import (
    GenericEvent,
    MeetingEnded,
    MeetingStarted,
    ParticipantJoined,
    ParticipantLeft,
    RecordingCompleted,
    SessionEvent,
    WebhookRequest,
    WebhookResponse,
    WebhookResult,
)
from blendkit.sessions._fake import FakeMeetingProvider
from blendkit.sessions._models import (
    Attendance,
    AttendanceReport,
    Interval,
    JoinLink,
    Learner,
    LiveSession,
    MatchKey,
    Occurrence,
    ParticipantRecord,
    ProviderMeeting,
    Recording,
    RecordingKind,
    Recurrence,
    SessionSpec,
    TimeZoneName,
    UnmatchedParticipant,
    UnmatchedReason,
    UtcDateTime,
)
from blendkit.sessions._plan_models import (
    LearnerOutside,
    Recommendation,
    SchedulePlan,
    SlotProposal,
)
from blendkit.sessions._provider import (
    EventLedger,
    MeetingProvider,
    MeetingProviderFactory,
    MemoryEventLedger,
    available_meeting_providers,
    handle_webhook_once,
    load_meeting_provider,
)
from blendkit.sessions._recurrence import expand_occurrences
from blendkit.sessions._schedule import evaluate_slot, plan_slots

__all__ = [
    "Attendance",
    "AttendanceReport",
    "EventLedger",
    "FakeMeetingProvider",
    "GenericEvent",
    "Interval",
    "JoinLink",
    "Learner",
    "LearnerOutside",
    "LiveSession",
    "MatchKey",
    "MeetingEnded",
    "MeetingProvider",
    "MeetingProviderFactory",
    "MeetingStarted",
    "MemoryEventLedger",
    "Occurrence",
    "ParticipantJoined",
    "ParticipantLeft",
    "ParticipantRecord",
    "ProviderMeeting",
    "Recommendation",
    "Recording",
    "RecordingCompleted",
    "RecordingKind",
    "Recurrence",
    "Roster",
    "SchedulePlan",
    "SessionEvent",
    "SessionSpec",
    "SlotProposal",
    "TimeZoneName",
    "UnmatchedParticipant",
    "UnmatchedReason",
    "UtcDateTime",
    "WebhookRequest",
    "WebhookResponse",
    "WebhookResult",
    "available_meeting_providers",
    "build_attendance_report",
    "evaluate_slot",
    "expand_occurrences",
    "handle_webhook_once",
    "load_meeting_provider",
    "merge_intervals",
    "normalise_email",
    "plan_slots",
]
