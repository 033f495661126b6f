"""Provider transcripts become caption tracks when recordings are kept; failures are retried."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from blendkit.courses import CourseService, LiveSessionService, RecordingService
from blendkit.sessions import FakeMeetingProvider, MeetingProvider, RecordingKind
from blendkit.store import Store
from blendkit.xapi import Outbox, StatementFactory
from tests.courses.test_course_service import NOW, START, Clock, _course

pytest.importorskip("webvtt")


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def service(store: Store, clock: Clock) -> CourseService:
    return CourseService(
        store, outbox=Outbox(store), statements=StatementFactory("https://tool.example.edu"),
        clock=clock,
    )  # fmt: skip


TRANSCRIPT = """WEBVTT

1
00:00:00.500 --> 00:00:04.000
Dr Rivera: Welcome to week one.

2
00:00:04.000 --> 00:00:09.000
Ana Lima: Is the membrane always permeable?
"""


class PlainProvider(FakeMeetingProvider):
    """A provider that lists transcript files but cannot download them."""

    fetch_transcript = None  # type: ignore[assignment]


def _live(service: CourseService, provider: MeetingProvider | None = None):  # type: ignore[no-untyped-def]
    course = _course(service)
    live = LiveSessionService(service, provider or FakeMeetingProvider())
    session = live.schedule(
        course, title="Week 1", start_utc=START, time_zone="Europe/Berlin",
        duration_minutes=60, item="live-session",
    )  # fmt: skip
    return course, live, session


def _record(live: LiveSessionService, meeting: str, start: datetime = START) -> None:
    for kind in (RecordingKind.VIDEO, RecordingKind.TRANSCRIPT):
        live.provider.add_recording(  # type: ignore[attr-defined]
            meeting, kind, start=start, duration_seconds=3600, transcript=TRANSCRIPT
        )


def test_keeping_recordings_turns_the_provider_transcript_into_captions(
    service: CourseService, clock: Clock
) -> None:
    course, live, session = _live(service)
    _record(live, session.provider_meeting_id)
    clock.now = START + timedelta(hours=2)

    rows = live.import_recordings(course, session.id)

    assert sorted(r.kind for r in rows) == ["transcript", "video"]
    recordings = RecordingService(live)
    (info,) = recordings.captions(course, session.id)
    assert (info.language, info.label, info.source, info.cues) == ("en", "English", "fake", 2)
    cues = recordings.transcript(course, session.id, "en")
    assert [(c.speaker, c.text) for c in cues] == [
        ("Dr Rivera", "Welcome to week one."),
        ("Ana Lima", "Is the membrane always permeable?"),
    ]
    assert "<v Dr Rivera>Welcome to week one." in recordings.caption_vtt(course, session.id, "en")
    # the "only with captions" policy now lets the recording through
    (video,) = [r for r in rows if r.kind == "video"]
    recordings.set_media(course, video.id, "https://media.example.edu/w1.mp4", duration_seconds=60)
    recordings.set_policy(course, watched_percent=80, captions_required=True)
    assert recordings.hidden_reason(course, recordings.recording(course, video.id)) is None
    # nothing is fetched again once the session has captions
    assert live.import_transcripts(course, session.id) == []
    assert live.import_transcripts_due() == []


def test_webhook_delivery_imports_the_transcript_too(service: CourseService, clock: Clock) -> None:
    course, live, session = _live(service)
    provider = live.provider
    assert isinstance(provider, FakeMeetingProvider)
    _record(live, session.provider_meeting_id)
    events = [e for w in provider.pending_webhooks() for e in provider.handle_webhook(w).events]
    assert live.handle_events(events) == 2
    assert RecordingService(live).captions(course, session.id)[0].cues == 2


def test_a_failed_download_keeps_the_recording_is_reported_and_retried(
    service: CourseService, clock: Clock
) -> None:
    course, live, session = _live(service)
    provider = live.provider
    assert isinstance(provider, FakeMeetingProvider)
    _record(live, session.provider_meeting_id)
    provider.fail_downloads(1)

    rows = live.import_recordings(course, session.id)

    assert len(rows) == 2  # the recording is never lost
    recordings = RecordingService(live)
    assert recordings.captions(course, session.id) == []
    provider.fail_downloads(1)
    ((record, failed),) = live.import_transcripts_due()
    assert record.id == session.id
    assert not failed.imported
    assert failed.error_code == "sessions.provider_unavailable"
    assert "503" in (failed.reason or "")
    ((_, done),) = live.import_transcripts_due()
    assert done.imported
    assert done.cues == 2
    assert recordings.captions(course, session.id)[0].source == "fake"
    assert live.import_transcripts_due() == []


def test_captions_imported_by_hand_are_never_replaced(service: CourseService, clock: Clock) -> None:
    course, live, session = _live(service)
    recordings = RecordingService(live)
    recordings.import_captions(
        course, session.id, "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nCorrected line.\n"
    )
    _record(live, session.provider_meeting_id)
    live.import_recordings(course, session.id)
    (info,) = recordings.captions(course, session.id)
    assert (info.source, info.cues) == ("upload", 1)


def test_a_provider_without_downloads_keeps_recordings_only(
    service: CourseService, clock: Clock
) -> None:
    course, live, session = _live(service, PlainProvider())
    _record(live, session.provider_meeting_id)
    assert len(live.import_recordings(course, session.id)) == 2
    assert RecordingService(live).captions(course, session.id) == []
    assert live.import_transcripts(course, session.id) == []
    assert live.import_transcripts_due() == []


def test_a_series_sitting_takes_only_its_own_transcript(
    service: CourseService, clock: Clock
) -> None:
    course, live, session = _live(service)
    provider = live.provider
    assert isinstance(provider, FakeMeetingProvider)
    other = TRANSCRIPT.replace("Welcome to week one.", "Welcome to week two.")
    provider.add_recording(
        session.provider_meeting_id, RecordingKind.TRANSCRIPT,
        start=START + timedelta(days=7), duration_seconds=3600, transcript=other,
    )  # fmt: skip
    files = provider.list_recordings(session.provider_meeting_id)
    # kept for this sitting by an earlier import, but recorded a week later: not its captions
    live.import_recordings(course, session.id, files)
    assert RecordingService(live).captions(course, session.id) == []


def test_cli_import_ended_reports_transcripts_and_fails_until_they_are_imported(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from blendkit.cli import cli

    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("BLENDKIT_DATABASE_URL", url)
    store = Store(url)
    store.migrate()
    courses = CourseService(
        store, outbox=Outbox(store), statements=StatementFactory("https://tool.example.edu")
    )
    course = _course(courses)
    # Another process's in-memory provider kept the files; the CLI's provider has no such
    # meeting, which stands for a transcript the provider cannot deliver.
    live = LiveSessionService(courses, FakeMeetingProvider())
    start = datetime.now(UTC) - timedelta(hours=3)
    session = live.schedule(
        course, title="Week 1", start_utc=start, time_zone="UTC", duration_minutes=30
    )
    _record(live, session.provider_meeting_id, start)
    live.import_recordings(course, session.id, transcripts=False)

    swept = CliRunner().invoke(cli, ["sessions", "import-ended"])

    assert swept.exit_code == 1, swept.output
    assert "Week 1" in swept.output
    assert "1 failed" in swept.output  # its attendance, from the same lost meeting
    assert "Week 1 (" in swept.output.split("1 failed", 1)[1]
    assert "transcript (listing) not imported: [store.not_found]" in swept.output
