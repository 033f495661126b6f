"""What every app embedding blendkit needs around the pure cores: courses and their records.

A course is one LMS context of one deployment (:class:`blendkit.lti.Tenant`) with its path;
:class:`CourseService` stores enrolments, evidence and overrides and runs the data flow
(evidence → incremental re-evaluation → change events → xAPI statements in the outbox, same
transaction → AGS passback queued). :class:`LiveSessionService`
schedules meetings, hands out personal join links and turns attendance and recordings into
evidence; :class:`GradePassback` delivers queued scores and keeps failures for retry.
"""

from blendkit.courses._analytics import (
    AttendancePoint,
    FunnelStep,
    LearnerRisk,
    attendance_over_time,
    funnel,
    not_started,
    risks,
)
from blendkit.courses._attendance_grades import (
    ATTENDANCE_ITEM,
    AttendanceGradeLine,
    AttendanceGrades,
    AttendanceGrading,
)
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
from blendkit.courses._quiz import (
    QUIZ_INVALID,
    Question,
    Quiz,
    QuizResult,
    quiz_from_text,
    quiz_to_text,
)
from blendkit.courses._requests import prune_learner_requests
from blendkit.courses._roster import RosterReport, RosterState, RosterSync, member_role
from blendkit.courses._series import SeriesRecord, slot_first_start
from blendkit.courses._service import CourseService, StatementsFor
from blendkit.courses._session_hours import SessionHours
from blendkit.courses._tenancy import CourseAssignments, activity_key

__all__ = [  # plain sorted(), as tests/test_exported_members.py checks
    "ATTENDANCE_ITEM",
    "AttendanceGradeLine",
    "AttendanceGrades",
    "AttendanceGrading",
    "AttendancePoint",
    "AttendanceRow",
    "Course",
    "CourseAssignments",
    "CourseService",
    "Enrolment",
    "EnrolmentSource",
    "EvidenceRecord",
    "FunnelStep",
    "GradePassback",
    "GradeRecord",
    "GradeReport",
    "LearnerRisk",
    "LiveSessionRecord",
    "LiveSessionService",
    "OverrideRecord",
    "QUIZ_INVALID",
    "Question",
    "Quiz",
    "QuizResult",
    "RecordOutcome",
    "RecordingRow",
    "RosterReport",
    "RosterState",
    "RosterSync",
    "SeriesRecord",
    "SessionHours",
    "StatementsFor",
    "StoreEventLedger",
    "TimeZoneSource",
    "UnmatchedRow",
    "ZONE_PRECEDENCE",
    "activity_key",
    "attendance_over_time",
    "funnel",
    "member_role",
    "not_started",
    "prune_learner_requests",
    "quiz_from_text",
    "quiz_to_text",
    "risks",
    "slot_first_start",
]
