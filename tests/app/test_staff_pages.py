"""Instructor, admin and webhook endpoints through the Flask test client."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta

from blendkit.sessions import Learner, RecordingKind
from tests.app.conftest import ADMIN, INSTRUCTOR, Tool


def _teacher(tool: Tool) -> str:
    return tool.launch("teach", roles=(INSTRUCTOR,), name="Dr T", zone="Europe/London")


def _session(tool: Tool, teacher: str, **fields: str) -> str:
    data = {"title": "Week 1", "date": "2031-01-06", "time": "16:00", "time_zone": "UTC",
            "duration": "60", "item": "live-session", **fields}  # fmt: skip
    created = tool.post("/teach/sessions", teacher, data)
    assert created.status_code == 302, created.get_data(as_text=True)
    return created.headers["Location"].split("/teach/sessions/", 1)[1].split("?", 1)[0]


def test_instructor_pages_refuse_learners(tool: Tool) -> None:
    ana = tool.launch()
    for path in ("/teach", "/teach/sessions", "/teach/learners", "/teach/quizzes", "/admin"):
        response = tool.get(path, ana)
        assert response.status_code == 403, path
        assert "only" in response.get_data(as_text=True)


def test_dashboard_renders_funnel_attendance_and_risk_without_javascript(tool: Tool) -> None:
    tool.launch()  # ana
    tool.get("/course", tool.launch())
    page = tool.get("/teach", _teacher(tool)).get_data(as_text=True)
    assert "Role: <strong class='role'>Instructor</strong>" in page
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page
    assert '<title id="funnel-t">Progression funnel</title>' in page
    assert '<title id="attendance-t">Attendance over time</title>' in page
    assert "<script" not in page


def test_schedule_rejections_name_the_field(tool: Tool) -> None:
    teacher = _teacher(tool)
    cases = {
        "title": ({"title": ""}, "title"),
        "zone": ({"time_zone": "Nowhere/Land"}, "time zone"),
        "time": ({"time": "25:99"}, "start time"),
        "date": ({"date": "tomorrow"}, "date"),
        "duration": ({"duration": "0"}, "duration"),
        "item": ({"item": "readiness-quiz"}, "not a live session"),
    }
    base = {"title": "Week 1", "date": "2031-01-06", "time": "16:00", "time_zone": "UTC",
            "duration": "60", "item": "live-session"}  # fmt: skip
    for case, (override, needle) in cases.items():
        response = tool.post("/teach/sessions", teacher, {**base, **override})
        assert response.status_code == 400, case
        assert needle in response.get_data(as_text=True), case


def test_planner_ranks_slots_and_schedules_one(tool: Tool) -> None:
    for sub, zone in (("a", "Europe/Berlin"), ("b", "America/New_York"), ("c", "Asia/Tokyo")):
        tool.get("/course", tool.launch(sub, zone=zone))
    teacher = _teacher(tool)
    page = tool.get(
        "/teach/sessions", teacher, plan="1", term_start="2031-01-06", term_end="2031-03-01"
    ).get_data(as_text=True)
    assert "Best weekly slots" in page
    slot = re.search(r'name="slot" value="(\d@\d\d:\d\d)"', page)
    assert slot
    scheduled = tool.post(
        "/teach/sessions", teacher,
        {"slot": slot.group(1), "duration": "60", "title": "Planned", "time_zone": "UTC"},
    )  # fmt: skip
    assert scheduled.status_code == 302
    assert "Planned" in tool.get("/teach/sessions", teacher).get_data(as_text=True)
    bad = tool.get("/teach/sessions", teacher, plan="1", term_start="soon")
    assert bad.status_code == 400


def test_attendance_import_lists_learners_and_unmatched_participants(tool: Tool) -> None:
    ana = tool.launch()
    tool.get("/course", ana)
    teacher = _teacher(tool)
    start = datetime.now(UTC) - timedelta(hours=3)
    session_id = _session(
        tool, teacher, date=start.date().isoformat(), time=start.strftime("%H:%M")
    )
    page = tool.get(f"/teach/sessions/{session_id}", teacher).get_data(as_text=True)
    meeting = re.search(r"meeting <code>(\w+)</code>", page).group(1)  # type: ignore[union-attr]
    _ready_before(tool, "ana", start - timedelta(days=1))  # passed the quiz before class
    assert tool.post(f"/item/live-session/join/{session_id}", ana).status_code == 303
    at = start.replace(second=0, microsecond=0)
    link = tool.provider.join_link(meeting, Learner(id="ana"))
    conn = tool.provider.join(meeting, at=at, link=link)
    tool.provider.leave(meeting, conn, at=at + timedelta(minutes=45))
    guest = tool.provider.join(meeting, at=at, display_name="Phone 0123")
    tool.provider.leave(meeting, guest, at=at + timedelta(minutes=10))
    tool.provider.add_recording(meeting, RecordingKind.VIDEO, start=at, duration_seconds=3600)
    imported = tool.post(f"/teach/sessions/{session_id}/import", teacher)
    assert imported.status_code == 302
    page = tool.get(f"/teach/sessions/{session_id}", teacher).get_data(as_text=True)
    assert "<td>45</td>" in page
    assert "registrant_id" in page
    assert "Phone 0123" in page
    assert "no identifier" in page
    assert "Week 1 (video)" in page
    assert "attended 45 minutes" in tool.get("/item/live-session", ana).get_data(as_text=True)
    learners = tool.get("/teach/learners", teacher).get_data(as_text=True)
    assert "75%" in learners


def _ready_before(tool: Tool, sub: str, at: datetime) -> None:
    """The learner watched the pre-work and passed the readiness quiz at ``at``."""
    from sqlalchemy import select

    from blendkit.progression import ScoreRecorded, VideoWatched
    from blendkit.store._tables_courses import course_courses
    from blendkit_examples.flask_app.app import services

    with tool.app.app_context():
        courses = services().courses
        with tool.store.transaction() as s:
            course = courses.course_by_id(s.execute(select(course_courses.c.id)).scalar_one())
        courses.record(
            course,
            sub,
            [
                VideoWatched(item="prework-video", percent=100, at=at),
                ScoreRecorded(item="readiness-quiz", score=100, at=at),
            ],
        )


def test_overrides_keep_who_when_why_and_refuse_incomplete_ones(tool: Tool) -> None:
    tool.get("/course", tool.launch())
    teacher = _teacher(tool)
    missing = {
        "reason": ({"action": "unlock", "item": "live-session", "reason": ""}, "reason"),
        "until": ({"action": "extend", "item": "readiness-quiz", "reason": "ill"}, "date"),
        "waive": ({"action": "waive", "item": "live-session", "reason": "x"}, "condition"),
        "action": ({"action": "delete", "item": "live-session", "reason": "x"}, "unlock, extend"),
        "item": ({"action": "unlock", "item": "ghost", "reason": "x"}, "ghost"),
    }
    for case, (data, needle) in missing.items():
        response = tool.post("/teach/learners/ana/overrides", teacher, data)
        assert response.status_code == 400, case
        assert needle in response.get_data(as_text=True), case
    ok = tool.post(
        "/teach/learners/ana/overrides", teacher,
        {"action": "unlock", "item": "live-session", "reason": "joined the course late"},
    )  # fmt: skip
    assert ok.status_code == 302
    page = tool.get("/teach/learners/ana", teacher).get_data(as_text=True)
    assert "by Dr T: “joined the course late”" in page
    ana_page = tool.get("/course", tool.launch()).get_data(as_text=True)
    live = ana_page.split('id="item-live-session"', 1)[1].split("</li>", 1)[0]
    assert "badge-available" in live
    extended = tool.post(
        "/teach/learners/ana/overrides", teacher,
        {"action": "extend", "item": "readiness-quiz", "reason": "ill", "until": "2031-02-01"},
    )  # fmt: skip
    assert extended.status_code == 302
    assert "until Sat 01 Feb 2031" in tool.get("/teach/learners/ana", teacher).get_data(
        as_text=True
    )


def test_quiz_results_count_attempts(tool: Tool) -> None:
    ana = tool.launch()
    tool.post("/item/prework-video/progress", ana, {"percent": "100"})
    tool.post(
        "/item/readiness-quiz/quiz", ana, {"answer-q1": "0", "answer-q2": "0", "answer-q3": "1"}
    )
    page = tool.get("/teach/quizzes", _teacher(tool)).get_data(as_text=True)
    assert "<td>1</td><td>0%</td><td>no</td>" in page
    assert "missed 1 time(s)" in page


def test_deep_linking_picker_returns_signed_items(tool: Tool) -> None:
    teacher = _teacher(tool)
    assert tool.get("/deep-link", teacher).status_code == 400
    settings = {
        "deep_link_return_url": "https://lms.example.edu/dl-return",
        "accept_types": ["ltiResourceLink"],
        "accept_presentation_document_targets": ["iframe", "window"],
        "accept_multiple": True,
    }
    dl = tool.launch("teach", roles=(INSTRUCTOR,), name="Dr T", deep_linking=settings)
    picker = tool.get("/deep-link", dl).get_data(as_text=True)
    assert 'type="checkbox"' in picker
    none = tool.post("/deep-link", dl, {})
    assert none.status_code == 400
    assert "choose at least one" in none.get_data(as_text=True)
    ghost = tool.post("/deep-link", dl, {"item": "ghost"})
    assert ghost.status_code == 400
    answer = tool.client.post(
        "/deep-link",
        data={"launch": dl, "csrf": tool.csrf(dl), "item": ["readiness-quiz", "in-class"]},
    )
    assert answer.status_code == 200
    body = answer.get_data(as_text=True)
    assert 'action="https://lms.example.edu/dl-return"' in body
    token = re.search(r'name="JWT" value="([^"]+)"', body).group(1)  # type: ignore[union-attr]
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    items = claims["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"]
    assert [i["custom"]["blendkit_item"] for i in items] == ["readiness-quiz", "live-session"]
    assert items[0]["lineItem"]["resourceId"] == "readiness-quiz"
    assert "lineItem" not in items[1]


def test_admin_pages_list_and_register_platforms(tool: Tool) -> None:
    teacher = _teacher(tool)
    assert tool.get("/admin", teacher).status_code == 403
    admin = tool.launch("boss", roles=(INSTRUCTOR, ADMIN), name="Admin")
    page = tool.get("/admin", admin).get_data(as_text=True)
    assert "http://tool.test/lti/jwks" in page
    assert "none: statements are kept in the local store" in page
    assert "BLENDKIT_ZOOM_WEBHOOK_SECRET" in page
    assert "BLENDKIT_TEAMS_CLIENT_STATE" in page
    assert re.search(r"Waiting for delivery</th><td class=\"pending\">\d+", page)
    bad = tool.post("/admin/platforms", admin, {"issuer": "https://moodle.example.edu"})
    assert bad.status_code == 400
    assert "client_id" in bad.get_data(as_text=True)
    good = {
        "name": "Moodle", "issuer": "https://moodle.example.edu", "client_id": "abc",
        "deployment_id": "1", "auth_login_url": "https://moodle.example.edu/mod/lti/auth.php",
        "auth_token_url": "https://moodle.example.edu/mod/lti/token.php",
        "jwks_url": "https://moodle.example.edu/mod/lti/certs.php",
    }  # fmt: skip
    assert tool.post("/admin/platforms", admin, good).status_code == 302
    assert "https://moodle.example.edu" in tool.get("/admin", admin).get_data(as_text=True)
    again = tool.post("/admin/platforms", admin, good)
    assert again.status_code == 400
    assert "store.already_exists" in again.get_data(as_text=True)
    removed = tool.post(
        "/admin/platforms/remove", admin,
        {"issuer": "https://moodle.example.edu", "client_id": "abc"},
    )  # fmt: skip
    assert removed.status_code == 302
    assert "moodle.example.edu" not in tool.get("/admin", admin).get_data(as_text=True)
    assert tool.post("/admin/outbox/retry", admin).status_code == 302


def test_webhook_imports_attendance_once_and_refuses_forgeries(tool: Tool) -> None:
    ana = tool.launch()
    tool.get("/course", ana)
    teacher = _teacher(tool)
    start = datetime.now(UTC) - timedelta(hours=2)
    session_id = _session(
        tool, teacher, date=start.date().isoformat(), time=start.strftime("%H:%M")
    )
    page = tool.get(f"/teach/sessions/{session_id}", teacher).get_data(as_text=True)
    meeting = re.search(r"meeting <code>(\w+)</code>", page).group(1)  # type: ignore[union-attr]
    at = start.replace(second=0, microsecond=0)
    conn = tool.provider.join(meeting, at=at, email="ana@example.edu")
    tool.provider.leave(meeting, conn, at=at + timedelta(minutes=30))
    tool.provider.end(meeting, at=at + timedelta(minutes=60))
    deliveries = tool.provider.pending_webhooks()
    forged = deliveries[-1].model_copy(update={"body": deliveries[-1].body.replace(b"fm", b"xx")})
    refused = tool.client.post("/webhooks/fake", data=forged.body, headers=forged.headers)
    assert refused.status_code == 401 or refused.status_code == 400
    assert "sessions.webhook_bad_signature" in refused.get_data(as_text=True)
    for delivery in (*deliveries, deliveries[-1]):  # the last one delivered twice
        answer = tool.client.post("/webhooks/fake", data=delivery.body, headers=delivery.headers)
        assert answer.status_code in (200, 204)
    page = tool.get(f"/teach/sessions/{session_id}", teacher).get_data(as_text=True)
    assert "<td>30</td>" in page
    assert "email" in page
    assert tool.client.post("/webhooks/other", data=b"{}").status_code == 404


def test_waiving_a_named_condition_opens_the_item(tool: Tool) -> None:
    ana = tool.launch()
    tool.post("/item/prework-video/progress", ana, {"percent": "100"})
    teacher = _teacher(tool)
    page = tool.get("/teach/learners/ana", teacher).get_data(as_text=True)
    assert "(condition <code>ready</code>)" in page, "the instructor sees which id to waive"
    waived = tool.post(
        "/teach/learners/ana/overrides", teacher,
        {"action": "waive", "item": "live-session", "condition_id": "ready",
         "reason": "passed the paper version"},
    )  # fmt: skip
    assert waived.status_code == 302
    course = tool.get("/course", ana).get_data(as_text=True)
    live = course.split('id="item-live-session"', 1)[1].split("</li>", 1)[0]
    assert "badge-available" in live


def test_a_webhook_that_fails_to_process_is_not_marked_done(tool: Tool) -> None:
    from blendkit.courses import StoreEventLedger

    tool.get("/course", tool.launch())
    teacher = _teacher(tool)
    start = datetime.now(UTC) - timedelta(hours=2)
    session_id = _session(
        tool, teacher, date=start.date().isoformat(), time=start.strftime("%H:%M")
    )
    page = tool.get(f"/teach/sessions/{session_id}", teacher).get_data(as_text=True)
    meeting = re.search(r"meeting <code>(\w+)</code>", page).group(1)  # type: ignore[union-attr]
    tool.provider.end(meeting, at=start + timedelta(minutes=60))
    (ended,) = tool.provider.pending_webhooks()
    tool.provider.cancel_session(meeting)  # attendance can no longer be fetched
    answer = tool.client.post("/webhooks/fake", data=ended.body, headers=ended.headers)
    assert answer.status_code >= 400
    event_id = json.loads(ended.body)["payload"]["event_id"]
    assert StoreEventLedger(tool.store).first_time("fake", event_id), "left for the retry"


def test_quiz_editor_saves_questions_and_names_bad_lines(tool: Tool) -> None:
    teacher = _teacher(tool)
    page = tool.get("/teach/quizzes/readiness-quiz", teacher).get_data(as_text=True)
    assert "? What does the pre-work video ask you to bring to class?" in page
    bad = tool.post(
        "/teach/quizzes/readiness-quiz", teacher,
        {"pass_mark": "60", "questions": "? Only one?\n- yes\n- no\n"},
    )  # fmt: skip
    assert bad.status_code == 400
    assert "line 1: mark exactly one choice as right" in bad.get_data(as_text=True)
    for field, value, needle in (("pass_mark", "lots", "number"), ("pass_mark", "120", "between"),
                                 ("max_attempts", "0", "max attempts")):  # fmt: skip
        form = {"pass_mark": "60", "questions": "? Q\n* a\n- b\n", field: value}
        refused = tool.post("/teach/quizzes/readiness-quiz", teacher, form)
        assert refused.status_code == 400, field
        assert needle in refused.get_data(as_text=True), field
    assert tool.get("/teach/quizzes/prework-video", teacher).status_code == 400
    saved = tool.post(
        "/teach/quizzes/readiness-quiz", teacher,
        {"pass_mark": "60", "max_attempts": "", "questions": "? Is a cell alive?\n* yes\n- no\n"},
    )  # fmt: skip
    assert saved.status_code == 302
    ana = tool.launch()
    tool.post("/item/prework-video/progress", ana, {"percent": "100"})
    quiz = tool.get("/item/readiness-quiz", ana).get_data(as_text=True)
    assert "Is a cell alive?" in quiz
    assert "Unlimited attempts." in quiz
    passed = tool.post("/item/readiness-quiz/quiz", ana, {"answer-q1": "0"}).get_data(as_text=True)
    assert "Passed" in passed


def test_course_path_from_a_template_or_a_document(tool: Tool) -> None:
    ana = tool.launch()
    assert tool.get("/teach/path", ana).status_code == 403
    teacher = _teacher(tool)
    page = tool.get("/teach/path", teacher).get_data(as_text=True)
    assert "id: flipped-classroom" in page
    assert 'value="mastery-loop"' in page
    bad_name = tool.post(
        "/teach/path/template", teacher, {"template": "nope", "date": "2031-01-06"}
    )
    assert bad_name.status_code == 400
    bad_date = tool.post(
        "/teach/path/template", teacher, {"template": "live-review-quiz", "date": "soon"}
    )
    assert bad_date.status_code == 400
    assert "date like" in bad_date.get_data(as_text=True)
    ok = tool.post(
        "/teach/path/template", teacher,
        {"template": "live-review-quiz", "date": "2031-01-06", "time": "16:00",
         "time_zone": "Europe/Berlin"},
    )  # fmt: skip
    assert ok.status_code == 302
    course = tool.get("/course", ana).get_data(as_text=True)
    assert 'id="item-recording-review"' in course
    assert "Mon 06 Jan 2031, 16:00 CET (Europe/Berlin)" in course
    assert "No questions" not in tool.get("/item/quiz", ana).get_data(as_text=True)
    broken = tool.post(
        "/teach/path/document", teacher,
        {"document": "id: p\nmodules:\n  - id: m\n    items:\n      - id: a\n"
                     "        conditions: {type: completion, item: ghost}\n"},
    )  # fmt: skip
    assert broken.status_code == 400
    assert "ghost" in broken.get_data(as_text=True)
    document = "id: tiny\nmodules:\n  - id: m\n    items:\n      - {id: read-me, title: Read me}\n"
    assert tool.post("/teach/path/document", teacher, {"document": document}).status_code == 302
    assert "Read me" in tool.get("/course", ana).get_data(as_text=True)


def test_dashboard_charts_milestones_beside_a_table_of_the_same_numbers(tool: Tool) -> None:
    ana = tool.launch()
    tool.get("/course", tool.launch("ben", name="Ben"))
    tool.post("/item/prework-video/progress", ana, {"percent": "100"})
    tool.post(
        "/item/readiness-quiz/quiz", ana, {"answer-q1": "1", "answer-q2": "1", "answer-q3": "0"}
    )
    page = tool.get("/teach", _teacher(tool)).get_data(as_text=True)
    assert '<title id="milestones-t">Milestones</title>' in page
    described = page.split('<desc id="milestones-d">', 1)[1].split("</desc>", 1)[0]
    assert "Ready for class: 1 done, 1 on track, 0 behind, 0 missed" in described
    table = page.split('id="milestones-table"', 1)[1].split("</table>", 1)[0]
    row = table.split("Ready for class</th>", 1)[1].split("</tr>", 1)[0]
    assert re.findall(r"<td>(\d+)</td>", row) == ["1", "1", "0", "0"]
    learner = tool.get("/teach/learners/ana", _teacher(tool)).get_data(as_text=True)
    mine = learner.split('id="learner-milestones"', 1)[1].split("</table>", 1)[0]
    assert "2 of 2 (100%)" in mine
    assert "Done: all 2 items completed" in mine
