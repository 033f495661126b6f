"""What every app embedding blendkit needs around the pure cores: courses and their records.

A course is one LMS context of one deployment (:class:`blendkit.lti.Tenant`) with its path;
:class:`CourseService` stores enrolments, evidence and overrides and runs the data flow
(evidence → incremental re-evaluation → change events → xAPI statements in the outbox, same
transaction → AGS passback queued). :class:`LiveSessionService`
schedules meetings, hands out personal join links and turns attendance and recordings into
evidence; :class:`OfficeHoursService` publishes bookable office-hours slots and takes
bookings that never overbook; :class:`GradePassback` delivers queued scores and keeps failures
for retry.
"""

from blendkit.courses._analytics import (
    AttendancePoint,
    FunnelStep,
    LearnerRisk,
    attendance_over_time,
    funnel,
    risks,
)
from blendkit.courses._booking import OfficeHoursService
from blendkit.courses._booking_models import Booking, BookingRules, BookingSlot, SlotBooking
from blendkit.courses._grades import GradePassback, GradeReport
from blendkit.courses._ledger import StoreEventLedger
from blendkit.courses._live import LiveSessionService
from blendkit.courses._models import (
    ZONE_PRECEDENCE,
    AttendanceRow,
    Course,
    Enrolment,
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
from blendkit.courses._series import SeriesRecord, slot_first_start
from blendkit.courses._service import CourseService, StatementsFor
from blendkit.courses._session_hours import SessionHours
from blendkit.courses._tenancy import CourseAssignments, activity_key

__all__ = [  # plain sorted(), as tests/test_exported_members.py checks
    "AttendancePoint",
    "AttendanceRow",
    "Booking",
    "BookingRules",
    "BookingSlot",
    "Course",
    "CourseAssignments",
    "CourseService",
    "Enrolment",
    "EvidenceRecord",
    "FunnelStep",
    "GradePassback",
    "GradeRecord",
    "GradeReport",
    "LearnerRisk",
    "LiveSessionRecord",
    "LiveSessionService",
    "OfficeHoursService",
    "OverrideRecord",
    "QUIZ_INVALID",
    "Question",
    "Quiz",
    "QuizResult",
    "RecordOutcome",
    "RecordingRow",
    "SeriesRecord",
    "SessionHours",
    "SlotBooking",
    "StatementsFor",
    "StoreEventLedger",
    "TimeZoneSource",
    "UnmatchedRow",
    "ZONE_PRECEDENCE",
    "activity_key",
    "attendance_over_time",
    "funnel",
    "prune_learner_requests",
    "quiz_from_text",
    "quiz_to_text",
    "risks",
    "slot_first_start",
]
