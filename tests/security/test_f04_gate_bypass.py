"""Finding 4: gates bypassed. An item is never completed while it is locked for the learner
(except by an instructor override), whatever route or core call brings the evidence.

Each bypass is tried through the example tool's learner routes (Flask test client, launched as a
learner) and through the core API; the store is then asked what the learner completed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path as FilePath
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from blendkit import BlendkitError, Store
from blendkit.cli import cli
from blendkit.courses import Course, CourseService, Enrolment, LiveSessionService, Question, Quiz
from blendkit.lti import Tenant
from blendkit.progression import (
    AllOf,
    AttendanceRecorded,
    CompletionCondition,
    Item,
    Module,
    Path,
    RecordingWatched,
    ScoreRecorded,
    VideoWatched,
    WatchedCondition,
    flipped_classroom,
)
from blendkit.sessions import FakeMeetingProvider, RecordingKind
from blendkit.store._tables_courses import course_courses, course_join_links
from blendkit.xapi import Outbox, StatementFactory
from tests.app import conftest as app
from tests.app.conftest import INSTRUCTOR, Tool

tool = app.tool  # the example tool launched on a real SQLite store (a fixture)

START = datetime(2030, 3, 4, 16, 0, tzinfo=UTC)
ISSUER = "https://lms.example.edu"


def _answers(*choices: int) -> dict[str, str]:
    return {f"answer-q{i + 1}": str(c) for i, c in enumerate(choices)}


def _course_of(tool: Tool) -> tuple[CourseService, LiveSessionService, Course]:
    """The tool's services and its one course (looked up by row, whatever the course key)."""
    from blendkit_examples.flask_app.app import services

    with tool.app.app_context():
        svc = services()
        with tool.store.transaction() as s:
            course_id = s.execute(select(course_courses.c.id)).scalar_one()
        return svc.courses, svc.live, svc.courses.course_by_id(course_id)


def _learner(tool: Tool, sub: str = "ana") -> str:
    """A learner's launch, enrolled by opening the course page once."""
    launch_id = tool.launch(sub)
    assert tool.get("/course", launch_id).status_code == 200
    return launch_id


def _states(tool: Tool, sub: str) -> dict[str, str]:
    courses, _, course = _course_of(tool)
    return dict(courses.learner_path(course, sub).states())


def _schedule(tool: Tool, item: str | None = "live-session", *, recording: bool = False) -> str:
    teacher = tool.launch("teach", roles=(INSTRUCTOR,))
    data = {"title": "Week 1", "date": "2031-01-06", "time": "16:00", "time_zone": "UTC",
            "duration": "60"}  # fmt: skip
    if item:
        data["item"] = item
    created = tool.post("/teach/sessions", teacher, data)
    assert created.status_code == 302
    session_id = created.headers["Location"].split("/teach/sessions/", 1)[1].split("?", 1)[0]
    if recording:
        _, live, course = _course_of(tool)
        record = live.session(course, session_id)
        tool.provider.add_recording(
            record.provider_meeting_id, RecordingKind.VIDEO, start=record.start_utc,
            duration_seconds=3600,
        )  # fmt: skip
        live.import_recordings(course, session_id)
    return session_id


# --- through the example tool's learner routes ------------------------------------------------


def _playable_recording(tool: Tool, session_id: str) -> int:
    """The session's recording, given a file the tool's player plays (so learners may see it)."""
    from blendkit_examples.flask_app.app import services

    _, live, course = _course_of(tool)
    (row,) = live.recordings(course, session_id)
    with tool.app.app_context():
        services().recordings.set_media(course, row.id, "/media/w1.mp4", duration_seconds=3600)
    return row.id


def test_recording_progress_without_a_recording_on_a_locked_session_completes_nothing(
    tool: Tool,
) -> None:
    _schedule(tool, recording=False)
    ana = _learner(tool)
    assert _states(tool, "ana")["live-session"] == "locked"
    answer = tool.post("/item/live-session/recording/999/segments", ana, {"segments": "[[0, 5]]"})
    assert answer.status_code == 404
    states = _states(tool, "ana")
    assert states["live-session"] == "locked"
    assert states["practice"] == "locked"


def test_recording_progress_on_a_locked_session_with_a_recording_is_refused(tool: Tool) -> None:
    rid = _playable_recording(tool, _schedule(tool, recording=True))
    ana = _learner(tool)
    assert tool.get(f"/item/live-session/recording/{rid}", ana).status_code == 403
    answer = tool.post(
        f"/item/live-session/recording/{rid}/segments", ana, {"segments": "[[0, 5]]"}
    )
    assert answer.status_code == 403
    assert answer.get_json()["error"] == "courses.item_locked"
    assert _states(tool, "ana")["live-session"] == "locked"


def test_recording_progress_under_another_item_in_the_url_is_refused(tool: Tool) -> None:
    rid = _playable_recording(tool, _schedule(tool, recording=True))
    ana = _learner(tool)
    answer = tool.post(
        f"/item/prework-video/recording/{rid}/segments", ana, {"segments": "[[0, 5]]"}
    )
    assert answer.status_code == 404
    assert _states(tool, "ana")["live-session"] == "locked"


def test_join_checks_the_lock_of_the_sessions_own_item_not_the_url(tool: Tool) -> None:
    session_id = _schedule(tool)
    ana = _learner(tool)
    # prework-video is open for ana; the session belongs to the locked live-session
    answer = tool.post(f"/item/prework-video/join/{session_id}", ana)
    assert answer.status_code in (403, 404)
    with tool.store.transaction() as s:
        assert s.execute(select(course_join_links.c.sub)).scalars().all() == []


def test_join_of_an_unknown_session_is_404(tool: Tool) -> None:
    ana = _learner(tool)
    tool.post("/item/prework-video/progress", ana, {"percent": "100"})
    tool.post("/item/readiness-quiz/quiz", ana, _answers(1, 1, 0))
    assert tool.post("/item/live-session/join/nope", ana).status_code == 404


def _gated_video_course(tool: Tool) -> None:
    courses, _, course = _course_of(tool)
    path = Path(
        id="gated-video",
        modules=(
            Module(
                id="m",
                items=(
                    Item(id="intro", kind="reading"),
                    Item(id="deep-dive", kind="video", conditions=CompletionCondition(item="intro"),
                         complete_when=WatchedCondition(item="deep-dive", percent=90)),
                    Item(id="wrap-up", kind="reading",
                         conditions=CompletionCondition(item="deep-dive")),
                ),
            ),
        ),
    )  # fmt: skip
    courses.set_path(course, path)


def player_report(tool: Tool, launch_id: str, item: str, *, length: float) -> Any:
    """What the video page's script posts when the whole video of ``length`` s was played."""
    return tool.client.post(
        f"/item/{item}/progress",
        json={"percent": 100, "position": length, "length": length},
        headers={"X-Blendkit-Launch": launch_id, "X-CSRF-Token": tool.csrf(launch_id)},
    )


def test_video_progress_on_a_locked_video_is_refused(tool: Tool) -> None:
    ana = _learner(tool)
    _gated_video_course(tool)
    assert _states(tool, "ana")["deep-dive"] == "locked"
    form = tool.post("/item/deep-dive/progress", ana, {"percent": "100"})
    assert form.status_code == 403
    assert "courses.item_locked" in form.get_data(as_text=True)
    assert player_report(tool, ana, "deep-dive", length=40).status_code == 403
    states = _states(tool, "ana")
    assert states["deep-dive"] == "locked"
    assert states["wrap-up"] == "locked"
    # once open, the same request completes it
    assert tool.post("/item/intro/done", ana).status_code == 302
    assert tool.post("/item/deep-dive/progress", ana, {"percent": "100"}).status_code == 302
    assert _states(tool, "ana")["deep-dive"] == "completed"


def test_mark_done_on_a_locked_item_is_refused(tool: Tool) -> None:
    ana = _learner(tool)
    answer = tool.post("/item/practice/done", ana)
    assert answer.status_code == 403
    assert "courses.item_locked" in answer.get_data(as_text=True)
    assert _states(tool, "ana")["practice"] == "locked"


# --- through the core API ---------------------------------------------------------------------


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


QUIZ = Quiz(
    title="Readiness",
    pass_mark=60,
    questions=(
        Question(id="q1", prompt="2+2?", choices=("3", "4"), correct=1),
        Question(id="q2", prompt="Cells?", choices=("yes", "no"), correct=0),
    ),
)


@pytest.fixture
def clock() -> Clock:
    return Clock(START - timedelta(days=3))


@pytest.fixture
def core(store: Store, clock: Clock) -> tuple[CourseService, LiveSessionService, Course]:
    courses = CourseService(
        store, outbox=Outbox(store), statements=StatementFactory("https://tool.example.edu"),
        clock=clock,
    )  # fmt: skip
    course = courses.ensure_course(
        Tenant(issuer=ISSUER, client_id="c1", deployment_id="d1"),
        "bio-101",
        title="Biology",
        path=flipped_classroom(START),
    )
    courses.set_quiz(course, "readiness-quiz", QUIZ)
    for sub in ("ana", "ben"):
        courses.enrol(course, Enrolment(sub=sub, name=sub.title(), email=f"{sub}@x.edu"))
    return courses, LiveSessionService(courses, FakeMeetingProvider()), course


def test_core_refuses_learner_evidence_on_a_locked_item(
    core: tuple[CourseService, LiveSessionService, Course],
) -> None:
    courses, _, course = core
    for piece in (
        RecordingWatched(item="live-session", percent=100, at=START),
        VideoWatched(item="readiness-quiz", percent=100, at=START),
        ScoreRecorded(item="readiness-quiz", score=100, at=START),
    ):
        with pytest.raises(BlendkitError) as refused:
            courses.record(course, "ana", piece)
        assert refused.value.code == "courses.item_locked"
        assert refused.value.http_status == 403
    assert courses.records(course, sub="ana") == []
    assert courses.learner_path(course, "ana").state("live-session") == "locked"


def test_core_recording_progress_needs_an_existing_recording_and_an_open_item(
    core: tuple[CourseService, LiveSessionService, Course], clock: Clock
) -> None:
    courses, live, course = core
    session = live.schedule(
        course, title="Week 1", start_utc=START, time_zone="UTC", duration_minutes=60,
        item="live-session",
    )  # fmt: skip
    with pytest.raises(BlendkitError) as none:
        live.recording_watched(course, session.id, "ana", 100)
    assert none.value.code == "courses.no_recording"
    live.import_recordings(
        course, session.id,
        [live.provider.add_recording(  # type: ignore[attr-defined]
            session.provider_meeting_id, RecordingKind.VIDEO, start=START, duration_seconds=3600)],
    )  # fmt: skip
    with pytest.raises(BlendkitError) as locked:
        live.recording_watched(course, session.id, "ana", 100)
    assert locked.value.code == "courses.item_locked"
    with pytest.raises(BlendkitError) as join:
        live.join_link(course, session.id, "ana")
    assert join.value.code == "courses.item_locked"
    courses.record(course, "ana", VideoWatched(item="prework-video", percent=100, at=clock.now))
    courses.submit_quiz(course, "ana", "readiness-quiz", {"q1": "1", "q2": "0"})
    live.recording_watched(course, session.id, "ana", 100)
    assert courses.learner_path(course, "ana").state("live-session") == "completed"
    assert live.join_link(course, session.id, "ana").startswith("https://")


def test_attendance_while_locked_is_kept_but_never_completes_the_item(
    core: tuple[CourseService, LiveSessionService, Course], clock: Clock
) -> None:
    """A Zoom import for someone who joined without passing the quiz: stored, shown to the
    instructor as held, never completing the session — not even once the gate opens."""
    courses, live, course = core
    provider = live.provider
    assert isinstance(provider, FakeMeetingProvider)
    session = live.schedule(
        course, title="Week 1", start_utc=START, time_zone="UTC", duration_minutes=60,
        item="live-session",
    )  # fmt: skip
    # joined without the personal link (which a locked learner never gets): matched by e-mail
    conn = provider.join(
        session.provider_meeting_id, at=START, display_name="Ana", email="ana@x.edu"
    )
    provider.leave(session.provider_meeting_id, conn, at=START + timedelta(minutes=60))
    clock.now = START + timedelta(hours=2)
    live.import_attendance(course, session.id)
    attended = [r.sub for r in live.attendance(course) if r.minutes > 0]
    assert attended == ["ana"], "nothing accepted is lost"
    assert [r.kind for r in courses.records(course, sub="ana")] == ["attendance"]
    assert courses.learner_path(course, "ana").state("live-session") == "locked"
    held = courses.held_evidence(course, sub="ana")
    assert [(h.kind, h.item) for h in held] == [("attendance", "live-session")]
    # the gate opens later: the attendance captured while locked still does not count
    clock.now += timedelta(hours=1)
    courses.record(course, "ana", VideoWatched(item="prework-video", percent=100, at=clock.now))
    courses.submit_quiz(course, "ana", "readiness-quiz", {"q1": "1", "q2": "0"})
    assert courses.learner_path(course, "ana").state("live-session") == "available"
    assert "live-session" not in courses.evidence(course, "ana").attendance
    # importing the same attendance again changes nothing; the recording is the way to catch up
    live.import_attendance(course, session.id)
    assert courses.learner_path(course, "ana").state("live-session") == "available"


def test_an_instructor_unlock_lets_evidence_count(
    core: tuple[CourseService, LiveSessionService, Course], clock: Clock
) -> None:
    courses, _, course = core
    courses.add_override(course, "ben", "live-session", "unlock", by="prof", reason="paper quiz")
    clock.now += timedelta(minutes=1)
    courses.record(course, "ben", AttendanceRecorded(item="live-session", minutes=80, percent=90,
                                                     at=clock.now))  # fmt: skip
    assert courses.learner_path(course, "ben").state("live-session") == "completed"


def test_path_check_does_not_count_evidence_on_a_locked_item(tmp_path: FilePath) -> None:
    """score 55 (below the 60% gate) + recording 85%: the live session stays locked."""
    runner = CliRunner()
    made = runner.invoke(
        cli, ["path", "template", "flipped-classroom", "--start", "2026-01-05T09:00:00Z"]
    )
    assert made.exit_code == 0, made.output
    course = tmp_path / "course.yaml"
    course.write_text(made.output)
    evidence = tmp_path / "ev.json"
    evidence.write_text(
        json.dumps({
            "learner": "ann",
            "videos": {"prework-video": 95},
            "scores": {"readiness-quiz": [{"score": 55, "at": "2026-01-04T10:00:00Z"}]},
            "recordings": {"live-session": 85},
        })
    )  # fmt: skip
    result = runner.invoke(
        cli, ["path", "check", str(course), "--evidence", str(evidence),
              "--at", "2026-01-06T12:00:00Z", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    states = {i["id"]: i["state"] for i in json.loads(result.output)["items"]}
    assert states["live-session"] == "locked"
    assert states["practice"] == "locked"


def test_engine_never_completes_a_locked_item_from_another_items_evidence() -> None:
    """A criterion reading another item: met while the item is locked, it waits for the gate."""
    from blendkit.progression import Evidence, IncrementalEvaluator, ScoreCondition, evaluate

    path = Path(
        id="p",
        modules=(
            Module(
                id="m",
                items=(
                    Item(id="a", kind="quiz"),
                    Item(id="gate", kind="reading"),
                    Item(id="b", kind="reading", conditions=CompletionCondition(item="gate"),
                         complete_when=AllOf(all=(ScoreCondition(item="a", min=50),))),
                ),
            ),
        ),
    )  # fmt: skip
    ev = Evidence().apply(ScoreRecorded(item="a", score=90, at=START))
    assert evaluate(path, ev, START).state("b") == "locked"
    inc = IncrementalEvaluator(path, Evidence(), START)
    events = inc.apply(ScoreRecorded(item="a", score=90, at=START))
    assert ("b", "completed") not in [(e.item, e.state) for e in events]


def test_attendance_while_locked_is_shown_to_the_instructor_as_held(tool: Tool) -> None:
    teacher = tool.launch("teach", roles=(INSTRUCTOR,))
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=3)
    created = tool.post(
        "/teach/sessions", teacher,
        {"title": "Week 1", "date": start.date().isoformat(), "time": start.strftime("%H:%M"),
         "time_zone": "UTC", "duration": "60", "item": "live-session"},
    )  # fmt: skip
    session_id = created.headers["Location"].split("/teach/sessions/", 1)[1].split("?", 1)[0]
    _learner(tool, "ben")
    _, live, course = _course_of(tool)
    meeting = live.session(course, session_id).provider_meeting_id
    conn = tool.provider.join(meeting, at=start, display_name="Ben", email="ben@example.edu")
    tool.provider.leave(meeting, conn, at=start + timedelta(minutes=55))
    assert tool.post(f"/teach/sessions/{session_id}/import", teacher).status_code == 302
    assert _states(tool, "ben")["live-session"] == "locked"
    page = tool.get("/teach/learners/ben", teacher).get_data(as_text=True)
    held = page.split("Recorded while locked", 1)[1].split("</section>", 1)[0]
    assert "attendance on <em>live-session</em>" in held


def test_path_check_replays_a_history_and_lists_what_was_held(tmp_path: FilePath) -> None:
    """The same evidence as the app stores it, with moments: the recording watched while the
    session was locked is held and listed; the one watched after passing completes it."""
    runner = CliRunner()
    made = runner.invoke(
        cli, ["path", "template", "flipped-classroom", "--start", "2026-01-05T09:00:00Z"]
    )
    course = tmp_path / "course.yaml"
    course.write_text(made.output)

    def entry(moment: str, **piece: object) -> dict[str, object]:
        return {"at": moment, "piece": piece}

    history = [
        entry("2026-01-03T10:00:00Z", kind="video", item="prework-video", percent=100),
        entry("2026-01-03T11:00:00Z", kind="score", item="readiness-quiz", score=55,
              at="2026-01-03T11:00:00Z"),
        entry("2026-01-03T12:00:00Z", kind="recording", item="live-session", percent=85),
        entry("2026-01-04T09:00:00Z", kind="score", item="readiness-quiz", score=70,
              at="2026-01-04T09:00:00Z"),
    ]  # fmt: skip
    evidence = tmp_path / "ev.json"
    evidence.write_text(json.dumps({"learner": "ann", "history": history}))
    args = ["path", "check", str(course), "--evidence", str(evidence), "--at",
            "2026-01-06T12:00:00Z"]  # fmt: skip
    result = runner.invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    states = {i["id"]: i["state"] for i in out["items"]}
    assert states["live-session"] == "available", "open now, the held recording does not count"
    assert out["held"] == [
        {"at": "2026-01-03T12:00:00+00:00", "kind": "recording", "item": "live-session"}
    ]
    table = runner.invoke(cli, args)
    assert "held (its item was locked then; never counts): recording on live-session" in (
        table.output
    )
    history.append(entry("2026-01-05T10:00:00Z", kind="recording", item="live-session",
                         percent=85))  # fmt: skip
    evidence.write_text(json.dumps({"learner": "ann", "history": history}))
    again = json.loads(runner.invoke(cli, [*args, "--json"]).output)
    assert {i["id"]: i["state"] for i in again["items"]}["live-session"] == "completed"
