"""What every app embedding blendkit needs around the pure cores: courses and their records.

A course is one LMS context of one deployment (:class:`blendkit.lti.Tenant`) with its path;
:class:`CourseService` stores enrolments, evidence and overrides and runs the data flow
(evidence → incremental re-evaluation → change events → xAPI statements in the outbox, same
transaction → AGS passback queued). :class:`LiveSessionService`
schedules meetings, hands out personal join links and turns attendance and recordings into
evidence; :class:`RecordingService` measures how much of a recording each learner played and
keeps its captions; :class:`OfficeHoursService` publishes bookable office-hours slots and
takes bookings that never overbook; :class:`GradePassback` delivers queued scores and keeps
failures for retry.
"""

from blendkit.courses._analytics import (
    AttendancePoint,
    FunnelStep,
    LearnerRisk,
    attendance_over_time,
    course_milestones,
    funnel,
    learner_milestones,
    not_started,
    risks,
)
from blendkit.courses._attendance_grades import (
    ATTENDANCE_ITEM,
    AttendanceGradeLine,
    AttendanceGrades,
    AttendanceGrading,
)
from blendkit.courses._booking import OfficeHoursService
from blendkit.courses._booking_models import Booking, BookingRules, BookingSlot, SlotBooking
from blendkit.courses._captions import CaptionTrack, Cue, captions_from_transcript
from blendkit.courses._grades import GradePassback, GradeReport
from blendkit.courses._ledger import StoreEventLedger
from blendkit.courses._live import LiveSessionService
from blendkit.courses._models import (
    ZONE_PRECEDENCE,
    AttendanceRow,
    Course,
    Enrolment,
    EnrolmentSource,
    EvidenceRecord,
    GradeRecord,
    LiveSessionRecord,
    OverrideRecord,
    RecordingRow,
    RecordOutcome,
    TimeZoneSource,
    UnmatchedRow,
)
from blendkit.courses._poll_models import (
    BoardQuestion,
    ParticipationReport,
    Poll,
    PollKind,
    PollResults,
)
from blendkit.courses._polls import AnswerOutcome, LivePolls
from blendkit.courses._qa import QuestionBoard
from blendkit.courses._quiz import (
    QUIZ_INVALID,
    Question,
    Quiz,
    QuizResult,
    quiz_from_text,
    quiz_to_text,
)
from blendkit.courses._recording_library import CaptionInfo, RecordingLibrary, RecordingPolicy
from blendkit.courses._recordings import PlayerEvent, RecordingService, RecordingView
from blendkit.courses._reminder_delivery import (
    ReminderDelivery,
    SessionInvitations,
    reminder_delivery,
    tool_secret,
)
from blendkit.courses._reminder_links import ReminderLinks
from blendkit.courses._reminder_store import ReminderSettings, tenant_key
from blendkit.courses._reminders import ReminderPlanner
from blendkit.courses._requests import prune_learner_requests
from blendkit.courses._roster import RosterReport, RosterState, RosterSync, member_role
from blendkit.courses._segments import (
    check_segments,
    check_video_report,
    covered_seconds,
    union_segments,
)
from blendkit.courses._series import SeriesRecord, slot_first_start
from blendkit.courses._service import CourseService, StatementsFor
from blendkit.courses._session_hours import SessionHours
from blendkit.courses._tenancy import CourseAssignments, activity_key
from blendkit.courses._transcript_imports import TranscriptImport

__all__ = [  # plain sorted(), as tests/test_exported_members.py checks
    "ATTENDANCE_ITEM",
    "AnswerOutcome",
    "AttendanceGradeLine",
    "AttendanceGrades",
    "AttendanceGrading",
    "AttendancePoint",
    "AttendanceRow",
    "BoardQuestion",
    "Booking",
    "BookingRules",
    "BookingSlot",
    "CaptionInfo",
    "CaptionTrack",
    "Course",
    "CourseAssignments",
    "CourseService",
    "Cue",
    "Enrolment",
    "EnrolmentSource",
    "EvidenceRecord",
    "FunnelStep",
    "GradePassback",
    "GradeRecord",
    "GradeReport",
    "LearnerRisk",
    "LivePolls",
    "LiveSessionRecord",
    "LiveSessionService",
    "OfficeHoursService",
    "OverrideRecord",
    "ParticipationReport",
    "PlayerEvent",
    "Poll",
    "PollKind",
    "PollResults",
    "QUIZ_INVALID",
    "Question",
    "QuestionBoard",
    "Quiz",
    "QuizResult",
    "RecordOutcome",
    "RecordingLibrary",
    "RecordingPolicy",
    "RecordingRow",
    "RecordingService",
    "RecordingView",
    "ReminderDelivery",
    "ReminderLinks",
    "ReminderPlanner",
    "ReminderSettings",
    "RosterReport",
    "RosterState",
    "RosterSync",
    "SeriesRecord",
    "SessionHours",
    "SessionInvitations",
    "SlotBooking",
    "StatementsFor",
    "StoreEventLedger",
    "TimeZoneSource",
    "TranscriptImport",
    "UnmatchedRow",
    "ZONE_PRECEDENCE",
    "activity_key",
    "attendance_over_time",
    "captions_from_transcript",
    "check_segments",
    "check_video_report",
    "course_milestones",
    "covered_seconds",
    "funnel",
    "learner_milestones",
    "member_role",
    "not_started",
    "prune_learner_requests",
    "quiz_from_text",
    "quiz_to_text",
    "reminder_delivery",
    "risks",
    "slot_first_start",
    "tenant_key",
    "tool_secret",
    "union_segments",
]
