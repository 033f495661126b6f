"""The instructor's course-design advice page: the course's real cohort zones, polls and
recordings feed the recommendations and the pitfalls."""

from __future__ import annotations

import html
from datetime import UTC, datetime

from blendkit.sessions import RecordingKind
from tests.app.conftest import INSTRUCTOR, Tool

DOCUMENT = """\
id: leadership
course_start: "2031-01-06T09:00:00Z"
modules:
  - id: m
    items:
      - {id: vision, title: Leading with a vision, nature: conceptual}
      - {id: drill, title: Feedback drill, nature: practice, expected_minutes: 8}
      - {id: lecture, title: Big lecture, kind: live_session, duration_minutes: 180}
"""


def _page(tool: Tool, launch_id: str) -> str:
    answer = tool.get("/teach/advice", launch_id)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    return html.unescape(answer.get_data(as_text=True))


def test_advice_page_reads_cohort_polls_and_recordings(tool: Tool) -> None:
    ana = tool.launch()  # Europe/Berlin
    assert tool.get("/teach/advice", ana).status_code == 403
    for sub, zone in (("kenji", "Asia/Tokyo"), ("maya", "America/New_York")):
        tool.get("/course", tool.launch(sub, name=sub, zone=zone))  # enrols them
    teacher = tool.launch("teach", roles=(INSTRUCTOR,), name="Dr T", zone="Europe/London")
    assert tool.post("/teach/path/document", teacher, {"document": DOCUMENT}).status_code == 302

    page = _page(tool, teacher)
    assert "3 learners in 3 time zones" in page
    assert "globally distributed" in page
    assert "Hold office hours at:" in page
    assert "global.office_hours" in page  # the conceptual item
    assert "skill.micro" in page  # the short practice item
    assert "live.global" in page  # the lecture: record it
    assert "Big lecture runs 180 minutes with no poll or question planned" in page
    assert "How to fix it: Plan about 18 polls or questions" in page

    created = tool.post("/teach/sessions", teacher, {
        "title": "Lecture sitting", "date": "2031-01-07", "time": "14:00", "time_zone": "UTC",
        "duration": "180", "item": "lecture"})  # fmt: skip
    session_id = created.headers["Location"].split("/teach/sessions/", 1)[1].split("?", 1)[0]
    page = _page(tool, teacher)
    assert "Session: Lecture sitting" in page
    assert "Lecture sitting runs 180 minutes with no poll" in page

    poll = {"kind": "single", "question": "Which style?", "options": "Coach\nDirector"}
    assert tool.post(f"/teach/sessions/{session_id}/polls", teacher, poll).status_code == 302
    page = _page(tool, teacher)
    assert "Lecture sitting runs 180 minutes" not in page
    assert "No pitfall found" in page

    detail = tool.get(f"/teach/sessions/{session_id}", teacher).get_data(as_text=True)
    meeting = detail.split("meeting <code>", 1)[1].split("<", 1)[0]
    start = datetime(2031, 1, 7, 14, 0, tzinfo=UTC)
    tool.provider.add_recording(meeting, RecordingKind.VIDEO, start=start, duration_seconds=3000)
    tool.post(f"/teach/sessions/{session_id}/import", teacher)
    page = _page(tool, teacher)
    assert "Recording uncaptioned" in page
    assert "Import the meeting's transcript as captions" in page


def test_advice_page_for_a_calm_course_has_no_pitfalls(tool: Tool) -> None:
    tool.launch()
    teacher = tool.launch("teach", roles=(INSTRUCTOR,), name="Dr T", zone="Europe/Berlin")
    calm = DOCUMENT.replace("duration_minutes: 180", "duration_minutes: 50")
    assert tool.post("/teach/path/document", teacher, {"document": calm}).status_code == 302
    page = _page(tool, teacher)
    assert "No pitfall found" in page
    assert "conceptual.sync" in page
    assert "live.sync" in page
    assert "The rules" in page


def test_course_page_names_micro_learning_and_its_length(tool: Tool) -> None:
    ana = tool.launch()
    teacher = tool.launch("teach", roles=(INSTRUCTOR,), name="Dr T", zone="Europe/Berlin")
    document = "id: p\nmodules:\n  - id: m\n    items:\n" \
        "      - {id: tip, title: One tip, kind: micro, expected_minutes: 5}\n"  # fmt: skip
    assert tool.post("/teach/path/document", teacher, {"document": document}).status_code == 302
    page = html.unescape(tool.get("/course", ana).get_data(as_text=True))
    assert "micro-learning · about 5 min" in page
    item = tool.get("/item/tip", ana).get_data(as_text=True)
    assert "Mark as done" in item
    assert tool.post("/item/tip/done", ana).status_code == 302
