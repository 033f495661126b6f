"""Live sessions: models, the MeetingProvider protocol, attendance and scheduling.

The attendance merge and the scheduler do no I/O; providers (Zoom, Teams, the in-memory fake)
are found through the entry-point group ``blendkit.meeting_providers``.
"""

from blendkit._renamed import renamed_names as _renamed_names
from blendkit.sessions._answers import provider_answers
from blendkit.sessions._attendance import (
    LearnerRoster,
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
from blendkit.sessions._evidence import (
    VIRTUAL_CLASSROOM_ACTIVITY_TYPE,
    VIRTUAL_CLASSROOM_EXTENSIONS,
    VIRTUAL_CLASSROOM_PROFILE,
    VIRTUAL_CLASSROOM_VERBS,
    AttendanceEvidence,
    AttendanceScore,
    GradingPolicy,
    SeriesAttendance,
    VirtualClassroomEvent,
    attendance_evidence,
    iso_seconds,
    score_attendance,
    series_attendance,
    virtual_classroom_events,
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
from blendkit.sessions._participation import (
    ParticipationSource,
    ProviderPollAnswer,
    ProviderQuestion,
)
from blendkit.sessions._plan_models import (
    WEEKDAY_NAMES,
    Availability,
    LearnerOutside,
    Recommendation,
    SchedulePlan,
    SlotProposal,
    ZoneCoverage,
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
from blendkit.sessions._records import SessionRecords, import_attendance
from blendkit.sessions._recurrence import (
    expand_occurrences,
    find_occurrence,
    occurrence_ref,
    original_start,
)
from blendkit.sessions._renewal import SessionSubscriber, SubscriptionRenewer
from blendkit.sessions._schedule import plan_slots
from blendkit.sessions._slot_check import evaluate_slot
from blendkit.sessions._transcripts import Transcript, TranscriptCue, TranscriptSource

__all__ = [  # plain sorted(), as tests/test_exported_members.py checks
    "Attendance",
    "AttendanceEvidence",
    "AttendanceReport",
    "AttendanceScore",
    "Availability",
    "EventLedger",
    "FakeMeetingProvider",
    "GenericEvent",
    "GradingPolicy",
    "Interval",
    "JoinLink",
    "Learner",
    "LearnerOutside",
    "LearnerRoster",
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
    "ParticipationSource",
    "ProviderMeeting",
    "ProviderPollAnswer",
    "ProviderQuestion",
    "Recommendation",
    "Recording",
    "RecordingCompleted",
    "RecordingKind",
    "Recurrence",
    "SchedulePlan",
    "SeriesAttendance",
    "SessionEvent",
    "SessionRecords",
    "SessionSpec",
    "SessionSubscriber",
    "SlotProposal",
    "SubscriptionRenewer",
    "TimeZoneName",
    "Transcript",
    "TranscriptCue",
    "TranscriptSource",
    "UnmatchedParticipant",
    "UnmatchedReason",
    "UtcDateTime",
    "VIRTUAL_CLASSROOM_ACTIVITY_TYPE",
    "VIRTUAL_CLASSROOM_EXTENSIONS",
    "VIRTUAL_CLASSROOM_PROFILE",
    "VIRTUAL_CLASSROOM_VERBS",
    "VirtualClassroomEvent",
    "WEEKDAY_NAMES",
    "WebhookRequest",
    "WebhookResponse",
    "WebhookResult",
    "ZoneCoverage",
    "attendance_evidence",
    "available_meeting_providers",
    "build_attendance_report",
    "evaluate_slot",
    "expand_occurrences",
    "find_occurrence",
    "handle_webhook_once",
    "import_attendance",
    "iso_seconds",
    "load_meeting_provider",
    "merge_intervals",
    "normalise_email",
    "occurrence_ref",
    "original_start",
    "plan_slots",
    "provider_answers",
    "score_attendance",
    "series_attendance",
    "virtual_classroom_events",
]

# Old names (Roster, iso_duration) resolve with a DeprecationWarning: docs/reference/api-naming.md
__getattr__ = _renamed_names(
    __name__,
    {
        "Roster": "LearnerRoster",
        "iso_duration": "iso_seconds",
    },
)
