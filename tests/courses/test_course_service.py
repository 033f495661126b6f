"""The course data flow on a real store: evidence → re-evaluation → events → outbox → grades."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from blendkit import BlendkitError, Store
from blendkit.courses import CourseService, Enrolment, LiveSessionService, Question, Quiz
from blendkit.errors import CourseInputInvalid, CoursesError, ItemLocked, NotFound
from blendkit.lti import Tenant
from blendkit.progression import VideoWatched, flipped_classroom
from blendkit.sessions import FakeMeetingProvider, Learner, RecordingKind
from blendkit.store._tables_courses import course_grades
from blendkit.store._tables_xapi import xapi_outbox
from blendkit.xapi import Outbox, StatementFactory

START = datetime(2030, 3, 4, 16, 0, tzinfo=UTC)
NOW = START - timedelta(days=3)
ISSUER = "https://lms.example.edu"
TENANT = Tenant(issuer=ISSUER, client_id="c1", deployment_id="d1")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


QUIZ = Quiz(
    title="Readiness",
    pass_mark=60,
    max_attempts=3,
    questions=(
        Question(id="q1", prompt="2+2?", choices=("3", "4"), correct=1),
        Question(id="q2", prompt="Cells?", choices=("yes", "no"), correct=0),
    ),
)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def service(store: Store, clock: Clock) -> CourseService:
    return CourseService(
        store,
        outbox=Outbox(store),
        statements=StatementFactory("https://tool.example.edu"),
        clock=clock,
    )


def _course(service: CourseService, *, ags: dict | None = None):  # type: ignore[no-untyped-def]
    course = service.ensure_course(
        TENANT, "bio-101", title="Biology", path=flipped_classroom(START), ags=ags
    )
    service.set_quiz(course, "readiness-quiz", QUIZ)
    for sub, zone in (("ana", "Europe/Berlin"), ("ben", "America/New_York")):
        service.enrol(
            course, Enrolment(sub=sub, name=sub.title(), email=f"{sub}@x.edu", time_zone=zone)
        )
    return course


def _statements(store: Store) -> list[dict]:
    with store.session() as s:
        return [json.loads(p) for p in s.execute(select(xapi_outbox.c.payload)).scalars()]


def test_course_is_created_once_and_refreshed_from_launches(service: CourseService) -> None:
    first = _course(service)
    again = service.ensure_course(
        TENANT, "bio-101", title="Biology 2", path=lambda: pytest.fail("path rebuilt")
    )
    assert again.id == first.id
    assert again.title == "Biology 2"
    assert [p.sub for p in service.enrolments(again)] == ["ana", "ben"]


def test_video_then_quiz_fail_then_pass_unlocks_the_live_session(
    service: CourseService, store: Store
) -> None:
    course = _course(service)
    path = service.learner_path(course, "ana")
    assert path.state("readiness-quiz") == "locked"
    assert path.items[1].reasons, "a locked item says why"

    outcome = service.record(course, "ana", VideoWatched(item="prework-video", percent=95))
    assert "readiness-quiz" in outcome.unlocked()

    result, _failed = service.submit_quiz(course, "ana", "readiness-quiz", {"q1": "0", "q2": "1"})
    assert (result.score, result.passed) == (0, False)
    assert service.learner_path(course, "ana").state("live-session") == "locked"

    result, passed = service.submit_quiz(course, "ana", "readiness-quiz", {"q1": "1", "q2": "0"})
    assert result.passed
    assert "live-session" in passed.unlocked()
    assert service.learner_path(course, "ana").state("live-session") != "locked"
    # ben is untouched by ana's evidence
    assert service.learner_path(course, "ben").state("readiness-quiz") == "locked"

    verbs = [re.split(r"[/:]", s["verb"]["id"])[-1] for s in _statements(store)]
    assert verbs.count("failed") == 1
    assert verbs.count("passed") == 1
    assert "unlocked" in verbs
    assert "completed" in verbs
    details = service.records(course, sub="ana", kind="score")
    assert [d.details["answers"] for d in details if d.details] == [
        {"q1": 0, "q2": 1},
        {"q1": 1, "q2": 0},
    ]


def test_quiz_refusals_name_their_reason(service: CourseService) -> None:
    course = _course(service)
    with pytest.raises(ItemLocked) as locked:
        service.submit_quiz(course, "ben", "readiness-quiz", {"q1": "1", "q2": "0"})
    assert locked.value.code == "courses.item_locked"
    assert locked.value.http_status == 403
    service.record(course, "ben", VideoWatched(item="prework-video", percent=100))
    for answers, needle in (
        ({"q1": "1"}, "unanswered"),
        ({"q1": "9", "q2": "0"}, "choice 9"),
        ({"q1": "x", "q2": "0"}, "not a choice"),
        ({"q1": "1", "q2": "0", "zz": "1"}, "zz"),
    ):
        with pytest.raises(CourseInputInvalid, match=needle) as bad:
            service.submit_quiz(course, "ben", "readiness-quiz", answers)
        assert bad.value.code == "courses.quiz_invalid"
    for _ in range(3):
        service.submit_quiz(course, "ben", "readiness-quiz", {"q1": "0", "q2": "1"})
    with pytest.raises(CoursesError) as used:
        service.submit_quiz(course, "ben", "readiness-quiz", {"q1": "1", "q2": "0"})
    assert used.value.code == "courses.no_attempts_left"
    assert not isinstance(used.value, CourseInputInvalid | ItemLocked)


def test_course_refusals_are_courses_errors_and_missing_records_stay_not_found(
    service: CourseService,
) -> None:
    course = _course(service)
    refusals = {
        "courses.invalid": lambda: service.add_override(
            course, "ben", "live-session", "unlock", by="teacher", reason=""
        ),
        "courses.unknown_item": lambda: service.add_override(
            course, "ben", "no-such-item", "unlock", by="teacher", reason="r"
        ),
        "courses.bad_time_zone": lambda: service.set_time_zone(course, "ben", "Mars/Olympus"),
    }
    for code, refuse in refusals.items():
        with pytest.raises(CoursesError) as caught:
            refuse()
        assert isinstance(caught.value, CourseInputInvalid), code
        assert (caught.value.code, caught.value.http_status) == (code, 400)
    with pytest.raises(NotFound) as missing:
        service.submit_quiz(course, "nobody", "readiness-quiz", {"q1": "1", "q2": "0"})
    assert not isinstance(missing.value, CoursesError)


def test_override_unlock_is_recorded_with_who_and_why(service: CourseService, store: Store) -> None:
    course = _course(service)
    record, outcome = service.add_override(
        course, "ben", "live-session", "unlock", by="teacher", reason="joined late"
    )
    assert (record.by, record.reason) == ("teacher", "joined late")
    assert "live-session" in outcome.unlocked()
    assert outcome.statement_ids
    assert service.learner_path(course, "ben").state("live-session") == "available"
    with pytest.raises(BlendkitError, match="reason"):
        service.add_override(course, "ben", "practice", "unlock", by="t", reason="  ")
    with pytest.raises(BlendkitError, match="no item"):
        service.add_override(course, "ben", "nope", "unlock", by="t", reason="x")


def test_extension_moves_the_deadline(service: CourseService, clock: Clock) -> None:
    course = _course(service)
    service.record(course, "ana", VideoWatched(item="prework-video", percent=100))
    clock.now = START + timedelta(days=1)
    assert service.learner_path(course, "ana").state("readiness-quiz") == "overdue"
    service.add_override(
        course, "ana", "readiness-quiz", "extend", by="t", reason="ill",
        until=START + timedelta(days=5),
    )  # fmt: skip
    assert service.learner_path(course, "ana").state("readiness-quiz") != "overdue"


def test_scores_are_queued_for_passback_in_the_same_transaction(
    service: CourseService, store: Store
) -> None:
    course = _course(service, ags={"lineitems": "https://lms/li", "scope": ["s"]})
    service.record(course, "ana", VideoWatched(item="prework-video", percent=100))
    service.submit_quiz(course, "ana", "readiness-quiz", {"q1": "1", "q2": "1"})
    service.submit_quiz(course, "ana", "readiness-quiz", {"q1": "0", "q2": "1"})
    with store.session() as s:
        rows = s.execute(select(course_grades.c.score_given, course_grades.c.status)).all()
    # the best score so far is what the gradebook gets
    assert [(r.score_given, r.status) for r in rows] == [(50.0, "pending"), (50.0, "pending")]


def test_attendance_from_the_provider_becomes_evidence(
    service: CourseService, clock: Clock
) -> None:
    course = _course(service)
    for sub in ("ana", "ben"):  # the live session opens once the quiz is passed
        service.record(course, sub, VideoWatched(item="prework-video", percent=100))
        service.submit_quiz(course, sub, "readiness-quiz", {"q1": "1", "q2": "0"})
    provider = FakeMeetingProvider()
    live = LiveSessionService(service, provider)
    session = live.schedule(
        course, title="Week 1", start_utc=START, time_zone="Europe/Berlin",
        duration_minutes=60, item="live-session",
    )  # fmt: skip
    url = live.join_link(course, session.id, "ana")
    assert url == live.join_link(course, session.id, "ana"), "one personal link per learner"
    assert url != live.join_link(course, session.id, "ben")
    # the same registrant the service registered: the provider's link for ana
    link = provider.join_link(session.provider_meeting_id, Learner(id="ana"))
    assert link.url == url
    conn = provider.join(session.provider_meeting_id, at=START, link=link)
    provider.leave(session.provider_meeting_id, conn, at=START + timedelta(minutes=50))
    stranger = provider.join(session.provider_meeting_id, at=START, display_name="Guest")
    provider.leave(session.provider_meeting_id, stranger, at=START + timedelta(minutes=5))
    provider.add_recording(
        session.provider_meeting_id, RecordingKind.VIDEO, start=START, duration_seconds=3600
    )
    clock.now = START + timedelta(hours=2)
    report = live.import_attendance(course, session.id)
    ana = report.for_learner("ana")
    assert ana is not None
    assert round(ana.minutes_present) == 50
    assert [u.display_name for u in live.unmatched(course)] == ["Guest"]
    assert service.evidence(course, "ana").attendance["live-session"].minutes == 50
    assert live.import_recordings(course, session.id)[0].play_url
    assert len(live.import_recordings(course, session.id)) == 1, "kept once"
    # learner who missed it catches up with the recording
    key = "recording-form-0001"
    first = live.recording_watched(course, session.id, "ben", 85, idempotency_key=key)
    assert service.evidence(course, "ben").recordings["live-session"] == 85
    kept = len(service.records(course, sub="ben"))
    # the same form again (its answer was lost): the first outcome, nothing stored
    assert live.recording_watched(course, session.id, "ben", 85, idempotency_key=key) == first
    assert len(service.records(course, sub="ben")) == kept


def test_staff_in_the_meeting_are_neither_attendees_nor_unmatched(
    service: CourseService, store: Store, clock: Clock
) -> None:
    """The instructor who hosts is matched (not a stranger) but earns no learner evidence."""
    from blendkit.sessions import ParticipantRecord

    course = _course(service)
    service.enrol(
        course,
        Enrolment(sub="teacher", name="Teacher", email="teacher@x.edu", roles=("instructor",)),
    )
    for sub in ("ana", "teacher"):
        service.record(course, sub, VideoWatched(item="prework-video", percent=100))
        service.submit_quiz(course, sub, "readiness-quiz", {"q1": "1", "q2": "0"})
    live = LiveSessionService(service, FakeMeetingProvider())
    session = live.schedule(
        course, title="Week 1", start_utc=START, time_zone="UTC", duration_minutes=60,
        item="live-session",
    )  # fmt: skip
    before = len(_statements(store))
    report = live.import_attendance(
        course,
        session.id,
        [
            ParticipantRecord(join_time=START, leave_time=START + timedelta(minutes=60),
                              email="teacher@x.edu", display_name="Teacher"),
            ParticipantRecord(join_time=START, leave_time=START + timedelta(minutes=40),
                              email="ana@x.edu", display_name="Ana"),
        ],
    )  # fmt: skip
    assert {a.learner_id for a in report.attendance} == {"ana", "ben"}
    assert {r.sub for r in live.attendance(course)} == {"ana", "ben"}
    assert live.unmatched(course) == []
    assert "live-session" not in service.evidence(course, "teacher").attendance
    assert service.evidence(course, "ana").attendance["live-session"].minutes == 40
    attended = [s for s in _statements(store)[before:] if "terminated" in json.dumps(s["verb"])]
    assert [s["actor"]["account"]["name"] for s in attended] == ["ana"]


@pytest.mark.parametrize("one_call", [False, True], ids=["two-calls", "one-call"])
@pytest.mark.parametrize("in_unit", [False, True], ids=["own-transactions", "unit-of-work"])
def test_concurrent_first_launches_create_one_course_and_one_enrolment(
    service: CourseService, store: Store, in_unit: bool, one_call: bool
) -> None:
    """ensure_course + enrol, or ensure_course_and_enrol, from 16 first launches at once."""
    from concurrent.futures import ThreadPoolExecutor

    zoe = Enrolment(sub="zoe", name="Zoe")

    def steps() -> tuple[int, str]:
        if one_call:
            course, person = service.ensure_course_and_enrol(
                TENANT, "chem-201", zoe, title="Chemistry", path=lambda: flipped_classroom(START)
            )
        else:
            course = service.ensure_course(
                TENANT, "chem-201", title="Chemistry", path=lambda: flipped_classroom(START)
            )
            person = service.enrol(course, zoe)
        service.set_quiz(course, "readiness-quiz", QUIZ)
        return course.id, person.sub

    def first_launch(_: int) -> tuple[int, str]:
        if not in_unit:
            return steps()
        with store.unit_of_work():  # as the Flask adapter runs a launch
            return steps()

    with ThreadPoolExecutor(8) as pool:
        outcomes = set(pool.map(first_launch, range(16)))
    assert len(outcomes) == 1
    ((course_id, _),) = outcomes
    assert [p.sub for p in service.enrolments(service.course_by_id(course_id))] == ["zoe"]


def test_evidence_and_its_statements_commit_together_or_not_at_all(
    service: CourseService, store: Store
) -> None:
    course = _course(service)
    before = len(_statements(store))

    def broken(actor, key):  # type: ignore[no-untyped-def]
        raise RuntimeError("statement builder failed")

    with pytest.raises(RuntimeError):
        service.record(
            course, "ana", VideoWatched(item="prework-video", percent=100), statements=broken
        )
    assert service.records(course, sub="ana") == []
    assert len(_statements(store)) == before
    assert service.learner_path(course, "ana").state("readiness-quiz") == "locked"


def test_reaching_a_milestone_queues_one_statement_saying_if_it_was_on_time(
    service: CourseService, store: Store
) -> None:
    course = _course(service)
    service.record(course, "ana", VideoWatched(item="prework-video", percent=95))
    service.submit_quiz(course, "ana", "readiness-quiz", {"q1": "0", "q2": "1"})
    assert not [s for s in _statements(store) if "/milestone/" in s["object"]["id"]]
    service.submit_quiz(course, "ana", "readiness-quiz", {"q1": "1", "q2": "0"})
    reached = [s for s in _statements(store) if "/milestone/" in s["object"]["id"]]
    assert len(reached) == 1
    assert reached[0]["object"]["id"].endswith("/milestone/ready-for-class")
    assert reached[0]["result"] == {"completion": True, "success": True}
