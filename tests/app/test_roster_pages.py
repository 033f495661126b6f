"""The roster and attendance-grades pages through the Flask test client: instructors only, the
scores shown before they go, approval queueing them into the grade queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from blendkit.courses import Course, Enrolment
from blendkit.lti import Tenant
from blendkit.sessions import ParticipantRecord
from blendkit.store._tables_courses import course_enrolments, course_grades
from blendkit_examples.flask_app.app import services
from tests.app.conftest import INSTRUCTOR, ISSUER, Tool

TENANT = Tenant(issuer=ISSUER, client_id="client-1", deployment_id="dep-1")


def _teacher_and_course(tool: Tool, **ags: str) -> tuple[str, Course]:
    """An instructor's launch and the course it created (with AGS endpoints ``ags``)."""
    teacher = tool.launch("teach", roles=(INSTRUCTOR,), name="Dr T")
    tool.get("/course", teacher)
    with tool.app.app_context():
        courses = services().courses
        path = courses.course(TENANT, "bio-101").path
        return teacher, courses.ensure_course(
            TENANT, "bio-101", title="Biology 101", path=path, ags=ags or None
        )


def test_instructor_only_and_the_roster_page_lists_who_has_not_started(tool: Tool) -> None:
    ana = tool.launch()
    tool.get("/course", ana)
    for path in ("/teach/roster", "/teach/attendance-grades"):
        assert tool.get(path, ana).status_code == 403, path
    teacher, course = _teacher_and_course(tool)
    with tool.app.app_context():
        svc = services()
        # What a roster read leaves for someone who has not launched yet.
        with svc.store.transaction() as s:
            s.execute(
                course_enrolments.insert().values(
                    course_id=course.id, sub="bo", name="Bo Li", email="bo@example.edu",
                    time_zone="UTC", time_zone_source="course",
                    enrolled_at=datetime.now(UTC), groups="[]", roles='["learner"]',
                    source="roster", launched_at=None, active=True, roster_status="Active",
                )
            )  # fmt: skip
    page = tool.get("/teach/roster", teacher).get_data(as_text=True)
    assert "Bo Li" in page
    assert "not started" in page
    assert "Read the roster again" not in page, "no NRPS claim in this launch: no button"
    refused = tool.post("/teach/roster/sync", teacher)
    assert refused.status_code == 400
    assert "Names and Role" in refused.get_data(as_text=True)
    dashboard = tool.get("/teach", teacher).get_data(as_text=True)
    assert "not started" in dashboard
    learners = tool.get("/teach/learners", teacher).get_data(as_text=True)
    assert "not started" in learners


def test_attendance_scores_are_shown_then_queued_on_approval(tool: Tool) -> None:
    teacher, course = _teacher_and_course(tool, lineitems=f"{ISSUER}/lineitems")
    with tool.app.app_context():
        svc = services()
        svc.courses.enrol(course, Enrolment(sub="ana", name="Ana", email="ana@example.edu"))
        start = datetime.now(UTC) - timedelta(hours=2)
        session = svc.live.schedule(
            course, title="Seminar", start_utc=start, time_zone="UTC", duration_minutes=60
        )
    off = tool.get("/teach/attendance-grades", teacher).get_data(as_text=True)
    assert "Attendance is not graded in this course." in off
    saved = tool.post(
        "/teach/attendance-grades/policy",
        teacher,
        {"enabled": "on", "scope": "aggregate", "policy": "full_credit_on_join",
         "full_credit_percent": "100", "review_first": "on"},
    )  # fmt: skip
    assert saved.status_code == 302
    bad = tool.post("/teach/attendance-grades/policy", teacher, {"full_credit_percent": "0"})
    assert bad.status_code == 400
    with tool.app.app_context():
        record = ParticipantRecord(
            join_time=start, leave_time=start + timedelta(minutes=20), email="ana@example.edu"
        )
        services().live.import_attendance(course, session.id, [record])
        assert services().attendance_grades.grading(course).review_first
    page = tool.get("/teach/attendance-grades", teacher).get_data(as_text=True)
    assert "Ana" in page
    assert "100 of 100" in page
    assert "not sent" in page
    with tool.app.app_context(), services().store.transaction() as s:
        assert s.execute(course_grades.select()).all() == [], "nothing goes before approval"
    approved = tool.post("/teach/attendance-grades/approve", teacher)
    assert approved.status_code == 302
    assert "queued=1" in approved.headers["Location"]
    with tool.app.app_context(), services().store.transaction() as s:
        (row,) = s.execute(course_grades.select()).all()
    assert (row.sub, row.item, row.score_given, row.status) == (
        "ana", "live-attendance", 100.0, "pending",
    )  # fmt: skip
    after = tool.get("/teach/attendance-grades", teacher).get_data(as_text=True)
    assert "queued" in after
    assert "Send 1 score" not in after
