"""Sweeping ended sessions: attendance for providers that send no "meeting ended" event."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from blendkit import BlendkitError, ProviderError
from blendkit.courses import CourseService, LiveSessionService
from blendkit.progression import ScoreRecorded, VideoWatched
from blendkit.sessions import FakeMeetingProvider, Learner, RecordingKind
from blendkit.store import Store
from blendkit.xapi import Outbox, StatementFactory
from tests.courses.test_course_service import NOW, START, Clock, _course


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


class FailingFake(FakeMeetingProvider):
    """A provider whose attendance API is down for one meeting."""

    broken: str | None = None

    def fetch_attendance(  # type: ignore[no-untyped-def]
        self, meeting_id: str, occurrence_id: str | None = None
    ):
        if meeting_id == self.broken:
            raise ProviderError("attendance report unavailable", code="sessions.provider")
        return super().fetch_attendance(meeting_id, occurrence_id)


def test_only_sessions_ended_beyond_the_grace_period_are_imported_once(
    service: CourseService, clock: Clock
) -> None:
    course = _course(service)
    provider = FailingFake()
    live = LiveSessionService(service, provider)
    first = live.schedule(
        course, title="Week 1", start_utc=START, time_zone="Europe/Berlin",
        duration_minutes=60, item="live-session",
    )  # fmt: skip
    later = live.schedule(
        course, title="Week 2", start_utc=START + timedelta(days=7), time_zone="Europe/Berlin",
        duration_minutes=60,
    )  # fmt: skip
    ready = START - timedelta(days=1)  # ana passed the readiness quiz the day before
    service.record(
        course,
        "ana",
        [
            VideoWatched(item="prework-video", percent=100, at=ready),
            ScoreRecorded(item="readiness-quiz", score=100, at=ready),
        ],
    )
    live.join_link(course, first.id, "ana")  # the personal link the learner clicked
    link = provider.join_link(first.provider_meeting_id, Learner(id="ana"))
    conn = provider.join(first.provider_meeting_id, at=START, link=link)
    provider.leave(first.provider_meeting_id, conn, at=START + timedelta(minutes=45))
    provider.add_recording(
        first.provider_meeting_id, RecordingKind.VIDEO, start=START, duration_seconds=3600
    )

    # Ten minutes after the end, inside the default 15-minute grace: nothing yet.
    assert live.import_ended(now=START + timedelta(minutes=70)) == []

    clock.now = START + timedelta(minutes=80)
    outcomes = live.import_ended(now=clock.now)
    assert [(record.id, type(result).__name__) for record, result in outcomes] == [
        (first.id, "AttendanceReport")
    ]
    assert service.evidence(course, "ana").attendance["live-session"].minutes == 45
    assert len(live.recordings(course, first.id)) == 1
    # Imported sessions are not swept again; the week-2 session has not ended.
    assert live.import_ended(now=START + timedelta(hours=3)) == []
    assert later.id not in {r.id for r, _ in live.import_ended(now=START + timedelta(days=1))}


def test_a_failing_session_is_reported_and_the_others_still_import(
    service: CourseService, clock: Clock
) -> None:
    course = _course(service)
    provider = FailingFake()
    live = LiveSessionService(service, provider)
    broken = live.schedule(course, title="A", start_utc=START, time_zone="UTC", duration_minutes=30)
    fine = live.schedule(course, title="B", start_utc=START, time_zone="UTC", duration_minutes=30)
    provider.broken = broken.provider_meeting_id
    swept = live.import_ended(now=START + timedelta(hours=1))
    outcomes = {record.id: result for record, result in swept}
    assert isinstance(outcomes[broken.id], ProviderError)
    assert not isinstance(outcomes[fine.id], BlendkitError)
    # The failed one stays pending and is retried by the next sweep once the provider answers.
    provider.broken = None
    assert [r.id for r, _ in live.import_ended(now=START + timedelta(hours=2))] == [broken.id]


def test_naive_time_is_refused(service: CourseService) -> None:
    live = LiveSessionService(service, FakeMeetingProvider())
    with pytest.raises(BlendkitError) as info:
        live.import_ended(now=START.replace(tzinfo=None))
    assert info.value.code == "courses.naive_datetime"


def test_cli_sweeps_reports_each_session_and_fails_when_one_cannot_be_imported(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from blendkit.cli import cli

    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("BLENDKIT_DATABASE_URL", url)
    runner = CliRunner()
    empty = runner.invoke(cli, ["sessions", "import-ended"])
    assert empty.exit_code == 0, empty.output
    assert "0 session(s) imported, 0 failed" in empty.output

    store = Store(url)
    store.migrate()
    service = CourseService(
        store, outbox=Outbox(store), statements=StatementFactory("https://tool.example.edu")
    )
    course = _course(service)
    # Scheduled through another process's in-memory provider: the CLI's provider cannot find
    # the meeting, which stands for a provider that lost it.
    LiveSessionService(service, FakeMeetingProvider()).schedule(
        course,
        title="Lost meeting",
        start_utc=datetime.now(UTC) - timedelta(hours=2),
        time_zone="UTC",
        duration_minutes=30,
    )
    swept = runner.invoke(cli, ["sessions", "import-ended"])
    assert swept.exit_code == 1, swept.output
    assert "Lost meeting" in swept.output
    assert "not imported" in swept.output
    assert "0 session(s) imported, 1 failed" in swept.output


class RenewingFake(FakeMeetingProvider):
    """A provider whose event subscriptions expire (as Meet's do)."""

    def __init__(self, *, fail: bool = False) -> None:
        super().__init__()
        self.fail = fail
        self.renewed_at: list[datetime] = []

    def renew_subscriptions(self, now: datetime) -> int:
        self.renewed_at.append(now)
        if self.fail:
            raise ProviderError("the events API is down", code="sessions.provider_unavailable")
        return 2


@pytest.mark.parametrize("fail", [False, True])
def test_cli_sweep_renews_event_subscriptions_and_imports_even_when_renewal_fails(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fail: bool
) -> None:
    from click.testing import CliRunner

    import blendkit.sessions
    from blendkit.cli import cli
    from blendkit.sessions import SubscriptionRenewer

    provider = RenewingFake(fail=fail)
    assert isinstance(provider, SubscriptionRenewer)
    assert not isinstance(FakeMeetingProvider(), SubscriptionRenewer)
    monkeypatch.setattr(blendkit.sessions, "load_meeting_provider", lambda *a, **k: provider)
    monkeypatch.setenv("BLENDKIT_DATABASE_URL", f"sqlite:///{tmp_path / 'renew.sqlite3'}")
    result = CliRunner().invoke(cli, ["sessions", "import-ended"])
    assert len(provider.renewed_at) == 1
    assert provider.renewed_at[0].tzinfo is not None
    assert "0 session(s) imported, 0 failed" in result.output
    if fail:
        assert result.exit_code == 1, result.output
        assert "fake event subscriptions not renewed" in result.output
        assert "the events API is down" in result.output
    else:
        assert result.exit_code == 0, result.output
        assert "2 fake event subscription(s) renewed" in result.output


class SubscribingFake(FakeMeetingProvider):
    """A provider that subscribes per session (as Teams does)."""

    def __init__(self, *, fail: bool = False) -> None:
        super().__init__()
        self.fail = fail
        self.asked: list[list[str]] = []

    def subscribe_missing(self, meeting_ids: Sequence[str], now: datetime) -> int:
        self.asked.append(list(meeting_ids))
        if self.fail:
            raise ProviderError("Graph refused", code="sessions.subscriptions_not_created")
        return len(meeting_ids)


@pytest.mark.parametrize("fail", [False, True])
def test_cli_sweep_subscribes_the_sessions_with_a_sitting_left(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fail: bool
) -> None:
    from click.testing import CliRunner

    import blendkit.sessions
    from blendkit.cli import cli
    from blendkit.sessions import SessionSubscriber

    provider = SubscribingFake(fail=fail)
    assert isinstance(provider, SessionSubscriber)
    assert not isinstance(FakeMeetingProvider(), SessionSubscriber)
    url = f"sqlite:///{tmp_path / 'subscribe.sqlite3'}"
    store = Store(url)
    store.migrate()
    service = CourseService(
        store, outbox=Outbox(store), statements=StatementFactory("https://tool.example.edu")
    )
    live = LiveSessionService(service, provider)
    course = _course(service)
    now = datetime.now(UTC).replace(microsecond=0)
    for title, start in (("Long over", now - timedelta(days=3)), ("Soon", now + timedelta(days=1))):
        live.schedule(course, title=title, start_utc=start, time_zone="UTC", duration_minutes=60)
    soon = live.sessions(course)[-1].provider_meeting_id
    monkeypatch.setattr(blendkit.sessions, "load_meeting_provider", lambda *a, **k: provider)
    monkeypatch.setenv("BLENDKIT_DATABASE_URL", url)

    result = CliRunner().invoke(cli, ["sessions", "import-ended"])

    assert provider.asked == [[soon]]
    if fail:
        assert result.exit_code == 1, result.output
        assert "fake event subscriptions not made: [sessions.subscriptions_not_created]" in (
            result.output
        )
        assert "1 session(s) imported, 0 failed" in result.output, "the imports still ran"
    else:
        assert result.exit_code == 0, result.output
        assert "1 missing fake event subscription(s) made" in result.output
    store.dispose()


@pytest.mark.parametrize("refused", [False, True])
def test_cli_sweep_renews_the_teams_subscriptions_graph_lists(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, refused: bool
) -> None:
    """A Teams deployment: the cron process knows no subscription, Graph's list is the record."""
    from click.testing import CliRunner

    teams = pytest.importorskip("blendkit_teams")
    import httpx

    import blendkit.sessions
    from blendkit.cli import cli
    from tests.fence import public_fence
    from tests.plugins.graph_fake import (
        CLIENT_ID,
        CLIENT_SECRET,
        ORGANIZER,
        TENANT,
        GraphFake,
        graph_error,
        spec,
        stamp,
        teams_settings,
    )

    fake = GraphFake()
    web = teams.TeamsProvider(
        teams_settings(), client=httpx.Client(transport=httpx.MockTransport(fake)),
        fence=public_fence(),
    )  # fmt: skip
    fake.notification_endpoint = web.handle_webhook
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    session = web.create_session(spec(recurrence=None, start_utc=soon))
    kept = web.subscribe(session.meeting_id)
    other = web.subscribe(session.meeting_id, artifact="transcripts")
    due = datetime.now(UTC) + timedelta(hours=3)
    for made in (kept, other):
        fake.subscriptions[made.id]["expirationDateTime"] = stamp(due)

    def graph(request: httpx.Request) -> httpx.Response:
        if refused and request.method == "PATCH" and request.url.path.endswith(other.id):
            return graph_error(403, "Forbidden", "Insufficient privileges.")
        return fake(request)

    built: list[object] = []

    def load(config: object, *args: object, **kwargs: object) -> object:
        provider = teams.TeamsProvider(
            config, client=httpx.Client(transport=httpx.MockTransport(graph)),
            fence=public_fence(), sleep=lambda _: None,
        )  # fmt: skip
        built.append(provider)
        return provider

    for key, value in {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'teams.sqlite3'}",
        "MEETING_PROVIDER": "teams",
        "TOOL_BASE_URL": "https://tool.example.edu",
        "TEAMS_TENANT_ID": TENANT,
        "TEAMS_CLIENT_ID": CLIENT_ID,
        "TEAMS_CLIENT_SECRET": CLIENT_SECRET,
        "TEAMS_ORGANIZER": ORGANIZER,
        "TEAMS_CLIENT_STATE": "client-state-9f8e7d",
    }.items():
        monkeypatch.setenv(f"BLENDKIT_{key}", value)
    monkeypatch.setattr(blendkit.sessions, "load_meeting_provider", load)

    result = CliRunner().invoke(cli, ["sessions", "import-ended"])

    assert len(built) == 1
    assert "0 session(s) imported, 0 failed" in result.output
    renewed = fake.subscriptions[kept.id]["expirationDateTime"]
    assert renewed > stamp(due + timedelta(days=1)), "renewed for about two days"
    if refused:
        assert result.exit_code == 1, result.output
        assert "teams event subscriptions not renewed" in result.output
        assert f"{other.id} (sessions.provider_auth" in result.output
        assert fake.subscriptions[other.id]["expirationDateTime"] == stamp(due)
    else:
        assert result.exit_code == 0, result.output
        assert "2 teams event subscription(s) renewed" in result.output


def test_the_sessions_with_a_sitting_left_are_listed_once_each_in_start_order(
    service: CourseService,
) -> None:
    """What the sweep passes to a SessionSubscriber: sessions (not sittings) of this provider
    with a sitting ending after the cut-off; ended and cancelled sittings do not count."""
    course = _course(service)
    live = LiveSessionService(service, FakeMeetingProvider())
    since = START + timedelta(days=1)

    def one(title: str, start: datetime, minutes: int = 60) -> str:
        record = live.schedule(
            course, title=title, start_utc=start, time_zone="UTC", duration_minutes=minutes
        )
        return record.provider_meeting_id

    one("Ended the day before", START)
    one("Ended an hour before", since - timedelta(hours=2))
    day_long = one("Still running", since - timedelta(hours=23), minutes=24 * 60)
    later = one("Later", since + timedelta(days=3))
    series = live.schedule_series(
        course, title="Weekly", start_utc=START, time_zone="UTC", duration_minutes=60, count=3
    )
    dropped = live.schedule_series(
        course, title="Dropped", start_utc=START, time_zone="UTC", duration_minutes=60, count=3
    )
    live.cancel_series(course, dropped.id)
    weekly = series.occurrences[0].provider_meeting_id

    assert live.meetings_with_sittings_after(since) == [day_long, later, weekly]
    assert live.meetings_with_sittings_after(START + timedelta(days=30)) == []
    with pytest.raises(BlendkitError) as naive:
        live.meetings_with_sittings_after(since.replace(tzinfo=None))
    assert naive.value.code == "courses.naive_datetime"
