"""The recording player of the example tool: pages, reports, caption files and the instructor's
forms, through the Flask test client on a real SQLite store."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

from sqlalchemy import select

from blendkit.sessions import RecordingKind
from blendkit.store._tables_courses import course_recordings
from tests.app.conftest import INSTRUCTOR, Tool

TRANSCRIPT = b"""WEBVTT

1
00:00:00.000 --> 00:00:05.000
Dr Rivera: Cells have membranes.

2
00:00:05.000 --> 00:00:10.000
Ana Lima: And a nucleus?
"""


def _answers(*choices: int) -> dict[str, str]:
    return {f"answer-q{i + 1}": str(c) for i, c in enumerate(choices)}


def _recorded_session(tool: Tool, teacher: str, *, item: str | None = "live-session") -> tuple:
    data = {"title": "Week 1", "date": "2030-05-06", "time": "14:00", "time_zone": "UTC",
            "duration": "60"}  # fmt: skip
    if item:
        data["item"] = item
    created = tool.post("/teach/sessions", teacher, data)
    session_id = created.headers["Location"].split("/teach/sessions/", 1)[1].split("?", 1)[0]
    page = tool.get(f"/teach/sessions/{session_id}", teacher).get_data(as_text=True)
    meeting = page.split("meeting <code>", 1)[1].split("<", 1)[0]
    start = datetime(2030, 5, 6, 14, 0, tzinfo=UTC)
    tool.provider.add_recording(meeting, RecordingKind.VIDEO, start=start, duration_seconds=3000)
    tool.post(f"/teach/sessions/{session_id}/import", teacher)
    with tool.store.transaction() as s:
        recording_id = s.execute(
            select(course_recordings.c.id).where(course_recordings.c.session_id == session_id)
        ).scalar_one()
    return session_id, recording_id


def _open_live_session(tool: Tool, launch_id: str) -> None:
    tool.post("/item/prework-video/progress", launch_id, {"percent": "100"})
    tool.post("/item/readiness-quiz/quiz", launch_id, _answers(1, 1, 0))


def test_instructor_sees_why_a_recording_is_hidden_and_publishes_it(tool: Tool) -> None:
    teacher = tool.launch("teach", roles=(INSTRUCTOR,))
    session_id, rid = _recorded_session(tool, teacher)
    ana = tool.launch()
    _open_live_session(tool, ana)
    page = tool.get(f"/teach/sessions/{session_id}", teacher).get_data(as_text=True)
    assert "hidden from learners</strong> because it has no file the tool" in page
    assert "Watch Week 1" not in tool.get("/item/live-session", ana).get_data(as_text=True)
    tool.post(
        f"/teach/recordings/{rid}/media", teacher,
        {"media_url": "https://media.example.edu/w1.mp4", "minutes": "50"},
    )  # fmt: skip
    policy = {"watched_percent": "75", "captions_required": "on", "session_id": session_id}
    tool.post("/teach/recordings/policy", teacher, policy)
    page = tool.get(f"/teach/sessions/{session_id}", teacher).get_data(as_text=True)
    assert "because the course publishes recordings only with captions" in page
    assert tool.get(f"/item/live-session/recording/{rid}", ana).status_code == 404
    uploaded = tool.post(
        f"/teach/sessions/{session_id}/captions", teacher,
        {"transcript": (io.BytesIO(TRANSCRIPT), "zoom_transcript.vtt"), "language": "en",
         "label": "English", "source": "zoom"},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert uploaded.status_code == 302, uploaded.get_data(as_text=True)[:300]
    assert "English (en): 2 cues, from zoom" in tool.get(
        f"/teach/sessions/{session_id}", teacher
    ).get_data(as_text=True)
    item = tool.get("/item/live-session", ana).get_data(as_text=True)
    assert "Watch Week 1" in item
    assert "it counts as watched from 75%" in item
    player = tool.get(f"/item/live-session/recording/{rid}", ana).get_data(as_text=True)
    assert 'src="https://media.example.edu/w1.mp4"' in player
    assert '<track kind="captions"' in player
    assert 'srclang="en" label="English" default' in player
    assert "<strong>Dr Rivera:</strong>" in player
    # the server-rendered search (the page without its script)
    found = tool.get(f"/item/live-session/recording/{rid}", ana, q="nucleus").get_data(as_text=True)
    assert "1 of 2 lines match “nucleus”" in found
    assert "Cells have membranes" not in found
    vtt = tool.get(f"/item/live-session/recording/{rid}/captions/en.vtt", ana)
    assert vtt.status_code == 200
    assert vtt.content_type.startswith("text/vtt")
    assert vtt.get_data(as_text=True).startswith("WEBVTT")


def test_reports_are_checked_and_answer_json(tool: Tool) -> None:
    teacher = tool.launch("teach", roles=(INSTRUCTOR,))
    _, rid = _recorded_session(tool, teacher)
    tool.post(f"/teach/recordings/{rid}/media", teacher,
              {"media_url": "https://media.example.edu/w1.mp4", "minutes": "50"})  # fmt: skip
    ana = tool.launch()
    _open_live_session(tool, ana)
    url = f"/item/live-session/recording/{rid}/segments"
    # never opened the player: a single post of the whole recording counts for nothing
    forged = tool.post(url, ana, {"segments": json.dumps([[0, 3000]]), "event": "ended"})
    assert forged.status_code == 409
    assert forged.get_json()["error"] == "recordings.not_opened"
    assert tool.get(f"/item/live-session/recording/{rid}", ana).status_code == 200
    too_fast = tool.post(url, ana, {"segments": json.dumps([[0, 3000]])})
    assert too_fast.status_code == 409
    assert too_fast.get_json()["error"] == "recordings.implausible_report"
    bad = tool.post(url, ana, {"segments": "[[5, 1]]"})
    assert bad.status_code == 400
    assert "ends (1 s) before it starts (5 s)" in bad.get_json()["message"]
    fine = tool.post(url, ana, {"segments": "[[0, 2]]", "event": "paused", "position": "2"})
    assert fine.get_json() == {"percent": 0.1, "watched": False, "threshold": 80.0}


def test_locked_learners_and_other_courses_get_nothing(tool: Tool) -> None:
    teacher = tool.launch("teach", roles=(INSTRUCTOR,))
    session_id, rid = _recorded_session(tool, teacher)
    tool.post(f"/teach/recordings/{rid}/media", teacher,
              {"media_url": "https://media.example.edu/w1.mp4", "minutes": "50"})  # fmt: skip
    tool.post(
        f"/teach/sessions/{session_id}/captions", teacher,
        {"transcript": (io.BytesIO(TRANSCRIPT), "t.vtt")}, content_type="multipart/form-data",
    )  # fmt: skip
    locked = tool.launch("ben", name="Ben")
    assert tool.get(f"/item/live-session/recording/{rid}", locked).status_code == 403
    assert (
        tool.get(f"/item/live-session/recording/{rid}/captions/en.vtt", locked).status_code == 404
    )
    other = tool.launch("cara", context="chem-202")
    for path in (f"/item/live-session/recording/{rid}",
                 f"/item/live-session/recording/{rid}/captions/en.vtt"):  # fmt: skip
        assert tool.get(path, other).status_code == 404


def test_the_provider_transcript_becomes_the_player_captions_on_import(tool: Tool) -> None:
    teacher = tool.launch("teach", roles=(INSTRUCTOR,))
    data = {"title": "Week 2", "date": "2030-05-13", "time": "14:00", "time_zone": "UTC",
            "duration": "60", "item": "live-session"}  # fmt: skip
    created = tool.post("/teach/sessions", teacher, data)
    session_id = created.headers["Location"].split("/teach/sessions/", 1)[1].split("?", 1)[0]
    page = tool.get(f"/teach/sessions/{session_id}", teacher).get_data(as_text=True)
    meeting = page.split("meeting <code>", 1)[1].split("<", 1)[0]
    start = datetime(2030, 5, 13, 14, 0, tzinfo=UTC)
    for kind in (RecordingKind.VIDEO, RecordingKind.TRANSCRIPT):
        tool.provider.add_recording(
            meeting, kind, start=start, duration_seconds=3000, transcript=TRANSCRIPT.decode()
        )
    policy = {"watched_percent": "80", "captions_required": "on", "session_id": session_id}
    tool.post("/teach/recordings/policy", teacher, policy)
    tool.post(f"/teach/sessions/{session_id}/import", teacher)
    with tool.store.transaction() as s:
        rid = s.execute(
            select(course_recordings.c.id).where(
                course_recordings.c.session_id == session_id, course_recordings.c.kind == "video"
            )
        ).scalar_one()
    assert "English (en): 2 cues, from fake" in tool.get(
        f"/teach/sessions/{session_id}", teacher
    ).get_data(as_text=True)
    tool.post(f"/teach/recordings/{rid}/media", teacher,
              {"media_url": "https://media.example.edu/w2.mp4", "minutes": "50"})  # fmt: skip
    ana = tool.launch()
    _open_live_session(tool, ana)
    player = tool.get(f"/item/live-session/recording/{rid}", ana).get_data(as_text=True)
    assert '<track kind="captions"' in player
    assert "<strong>Ana Lima:</strong>" in player
    found = tool.get(f"/item/live-session/recording/{rid}", ana, q="membranes").get_data(
        as_text=True
    )
    assert "1 of 2 lines match “membranes”" in found
    vtt = tool.get(f"/item/live-session/recording/{rid}/captions/en.vtt", ana).get_data(
        as_text=True
    )
    assert "<v Dr Rivera>Cells have membranes." in vtt
