"""Recordings on a real store: played segments → progress → evidence and statements; captions."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from blendkit import Store
from blendkit.courses import CourseService, LiveSessionService, RecordingService
from blendkit.errors import CourseInputInvalid, CoursesError, ItemLocked, NotFound
from blendkit.progression import VideoWatched
from blendkit.sessions import FakeMeetingProvider, RecordingKind
from blendkit.store._tables_xapi import xapi_outbox
from blendkit.xapi import VIDEO
from tests.courses.test_course_service import START, Clock, _course, clock, service  # noqa: F401

ZOOM_TRANSCRIPT = b"""WEBVTT

1
00:00:00.500 --> 00:00:04.000
Dr Rivera: Welcome to week one & cells.

2
00:00:04.000 --> 00:00:09.000
Ana Lima: Is the membrane <b>always</b> permeable?
"""
TEAMS_TRANSCRIPT = """WEBVTT

0b1c/12-0
00:00:00.000 --> 00:00:03.000
<v Alex Rivera>Bienvenue.</v>
"""


@pytest.fixture
def world(service: CourseService, clock: Clock):  # type: ignore[no-untyped-def]  # noqa: F811
    course = _course(service)
    live = LiveSessionService(service, FakeMeetingProvider())
    session = live.schedule(
        course, title="Week 1", start_utc=START, time_zone="Europe/Berlin",
        duration_minutes=60, item="live-session",
    )  # fmt: skip
    live.provider.add_recording(  # type: ignore[attr-defined]
        session.provider_meeting_id, RecordingKind.VIDEO, start=START, duration_seconds=3600
    )
    clock.now = START + timedelta(hours=2)
    (row,) = live.import_recordings(course, session.id)
    recordings = RecordingService(live)
    recordings.set_media(course, row.id, "https://media.example.edu/w1.mp4", duration_seconds=100)
    for sub in ("ana", "ben"):  # the live session opens once the quiz is passed
        service.record(course, sub, VideoWatched(item="prework-video", percent=100))
        service.submit_quiz(course, sub, "readiness-quiz", {"q1": "1", "q2": "0"})
    return course, recordings, row.id, session.id


def _video_statements(store: Store) -> list[dict]:
    with store.session() as s:
        payloads = [json.loads(p) for p in s.execute(select(xapi_outbox.c.payload)).scalars()]
    return [p for p in payloads if p["object"]["definition"]["type"] == VIDEO.VIDEO_TYPE]


def test_seeking_to_the_end_is_not_watching(world, clock: Clock, service: CourseService) -> None:  # noqa: F811
    course, recordings, rid, _ = world
    recordings.open_player(course, rid, "ana")
    clock.now += timedelta(seconds=30)
    # played 0-5, jumped to 95 and played to the end: the jump is no range
    view = recordings.report(
        course, rid, "ana", [[0, 5], [95, 100]], event="seeked", position=95, position_from=5
    )
    assert view.percent == 10.0
    assert view.watched_at is None
    assert service.evidence(course, "ana").recordings["live-session"] == 10.0


def test_playing_80_percent_is_watching(
    world,
    clock: Clock,  # noqa: F811
    service: CourseService,  # noqa: F811
    store: Store,
) -> None:
    course, recordings, rid, _ = world
    recordings.open_player(course, rid, "ben")
    for n in range(4):  # four reports of 20 s each, 20 s apart: overlapping ranges count once
        clock.now += timedelta(seconds=20)
        view = recordings.report(
            course, rid, "ben", [[max(0, 20 * n - 5), 20 * n + 20]], event="played",
            position=20 * n + 20,
        )  # fmt: skip
    assert view.covered_seconds == 80
    assert view.percent == 80.0
    assert view.watched_at == clock.now
    assert service.evidence(course, "ben").recordings["live-session"] == 80.0
    statements = _video_statements(store)
    verbs = [s["verb"]["display"]["en-US"] for s in statements]
    assert verbs.count("completed") == 1
    assert verbs.count("played") == 4
    completed = next(s for s in statements if s["verb"]["display"]["en-US"] == "completed")
    assert completed["result"]["extensions"][VIDEO.PROGRESS] == 0.8
    assert completed["result"]["extensions"][VIDEO.PLAYED_SEGMENTS] == "0[.]80"
    assert completed["context"]["extensions"][VIDEO.COMPLETION_THRESHOLD] == 0.8
    # more play after that: no second "completed"
    clock.now += timedelta(seconds=20)
    recordings.report(course, rid, "ben", [[80, 100]], event="ended", position=100)
    assert [s["verb"]["display"]["en-US"] for s in _video_statements(store)].count("completed") == 1


def test_the_threshold_is_a_course_setting(world, clock: Clock) -> None:  # noqa: F811
    course, recordings, rid, _ = world
    recordings.set_policy(course, watched_percent=95, captions_required=False)
    recordings.open_player(course, rid, "ben")
    clock.now += timedelta(seconds=60)
    assert recordings.report(course, rid, "ben", [[0, 90]]).watched_at is None
    with pytest.raises(CourseInputInvalid):
        recordings.set_policy(course, watched_percent=0, captions_required=False)


def test_reports_the_server_can_prove_impossible_are_refused(world, clock: Clock) -> None:  # noqa: F811
    course, recordings, rid, _ = world
    with pytest.raises(CoursesError) as never_opened:
        recordings.report(course, rid, "ana", [[0, 100]])
    assert never_opened.value.code == "recordings.not_opened"
    recordings.open_player(course, rid, "ana")
    clock.now += timedelta(seconds=10)
    with pytest.raises(CoursesError) as too_fast:  # 100 s of play 10 s after opening
        recordings.report(course, rid, "ana", [[0, 100]])
    assert too_fast.value.code == "recordings.implausible_report"
    with pytest.raises(CourseInputInvalid):
        recordings.report(course, rid, "ana", [[0, float("nan")]])
    view = recordings.view(course, rid, "ana")
    assert view is not None
    assert view.covered_seconds == 0, "a refused report stored nothing"


def test_a_locked_item_takes_no_report(world, clock: Clock, service: CourseService) -> None:  # noqa: F811
    course, recordings, rid, _ = world
    from blendkit.courses import Enrolment

    service.enrol(course, Enrolment(sub="cai", name="Cai", email="c@x.edu", time_zone="UTC"))
    with pytest.raises(ItemLocked):
        recordings.open_player(course, rid, "cai")


def test_captions_from_provider_transcripts_and_the_publish_setting(world) -> None:
    course, recordings, rid, session_id = world
    recording = recordings.recording(course, rid)
    assert recordings.hidden_reason(course, recording) is None
    recordings.set_policy(course, watched_percent=80, captions_required=True)
    assert "only with captions" in (recordings.hidden_reason(course, recording) or "")
    assert recordings.published(course, {session_id}) == []
    with pytest.raises(NotFound):
        recordings.open_player(course, rid, "ana")
    info = recordings.import_captions(course, session_id, ZOOM_TRANSCRIPT, source="zoom")
    assert (info.language, info.cues) == ("en", 2)
    assert [r.id for r in recordings.published(course, {session_id})] == [rid]
    cues = recordings.transcript(course, session_id, "en")
    assert [(c.speaker, c.text) for c in cues] == [
        ("Dr Rivera", "Welcome to week one & cells."),
        ("Ana Lima", "Is the membrane always permeable?"),
    ]
    vtt = recordings.caption_vtt(course, session_id, "en")
    assert vtt.startswith("WEBVTT")
    assert "<v Dr Rivera>Welcome to week one &amp; cells." in vtt
    recordings.import_captions(
        course, session_id, TEAMS_TRANSCRIPT, language="fr", label="Français", source="teams"
    )
    assert [c.language for c in recordings.captions(course, session_id)] == ["en", "fr"]
    assert recordings.transcript(course, session_id, "fr")[0].speaker == "Alex Rivera"
    with pytest.raises(CourseInputInvalid) as bad:
        recordings.import_captions(course, session_id, b"not a transcript")
    assert bad.value.code == "recordings.transcript_invalid"


def test_another_course_sees_nothing(world, service: CourseService) -> None:  # noqa: F811
    course, recordings, rid, session_id = world
    recordings.import_captions(course, session_id, ZOOM_TRANSCRIPT)
    from blendkit.lti import Tenant

    other = service.ensure_course(
        Tenant(issuer="https://other.example", client_id="c", deployment_id="d"),
        "chem", title="Chemistry", path=course.path,
    )  # fmt: skip
    with pytest.raises(NotFound):
        recordings.recording(other, rid)
    with pytest.raises(NotFound):
        recordings.caption_vtt(other, session_id, "en")
    assert recordings.captions(other, session_id) == []
