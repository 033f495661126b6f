"""Teams in the example tool: an instructor schedules a session and Graph is asked to notify the
tool of its recordings and transcripts; when Graph refuses, the session is still scheduled and
the cron sweep (``blendkit sessions import-ended``) subscribes it once Graph accepts."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from blendkit import Settings, Store
from blendkit.store._tables_courses import course_sessions
from tests.app.conftest import INSTRUCTOR, Tool, launcher
from tests.fence import public_fence
from tests.plugins import graph_fake as entra
from tests.plugins.conftest import GRAPH_SPEC, load_spec
from tests.plugins.graph_fake import GraphFake, graph_error
from tests.plugins.vendor_contract import Recorder, validate_exchanges

teams = pytest.importorskip("blendkit_teams")

BASE = "https://tool.example.edu"


@dataclass
class TeamsTool:
    tool: Tool
    fake: GraphFake
    recorder: Recorder
    database: str
    refuse: bool = False

    def graph(self, request: httpx.Request) -> httpx.Response:
        """Graph; ``POST /subscriptions`` answers 403 while ``refuse`` is set."""
        if self.refuse and request.method == "POST" and request.url.path.endswith("/subscriptions"):
            return graph_error(
                403, "Forbidden", "Insufficient privileges to complete the operation."
            )
        return self.fake(request)

    def schedule(self, start: datetime) -> str:
        """The instructor schedules a 60-minute session through the form; its event id."""
        teacher = self.tool.launch("teach", roles=(INSTRUCTOR,), name="Dr T", zone="UTC")
        form = {"title": "Week 1 seminar", "date": f"{start:%Y-%m-%d}",
                "time": f"{start:%H:%M}", "time_zone": "UTC", "duration": "60"}  # fmt: skip
        created = self.tool.post("/teach/sessions", teacher, form)
        assert created.status_code == 302, created.get_data(as_text=True)
        with self.tool.store.transaction() as s:
            (row,) = s.execute(select(course_sessions)).all()
        assert row.provider == "teams"
        return str(row.provider_meeting_id)

    def watched(self) -> list[tuple[str, str]]:
        return sorted(
            (
                s["resource"].rsplit("/", 1)[1],
                httpx.URL(s["notificationUrl"]).params.get("meeting", ""),
            )
            for s in self.fake.subscriptions.values()
        )


def settings_for(database: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database,
        "MEETING_PROVIDER": "teams",
        "TOOL_BASE_URL": BASE,
        "TOOL_SECRET_KEY": "a-long-random-tool-key-for-these-tests",
        "TEAMS_TENANT_ID": entra.TENANT,
        "TEAMS_CLIENT_ID": entra.CLIENT_ID,
        "TEAMS_CLIENT_SECRET": entra.CLIENT_SECRET,
        "TEAMS_ORGANIZER": entra.ORGANIZER,
        "TEAMS_CLIENT_STATE": entra.CLIENT_STATE,
    }


@pytest.fixture
def on_teams(tmp_path: Path) -> Iterator[TeamsTool]:
    from blendkit_examples.flask_app import create_app

    database = f"sqlite:///{tmp_path / 'tool.sqlite3'}"
    settings = Settings(
        database={"url": database},
        tool={"base_url": BASE, "secret_key": "test-secret"},
        meeting_provider="teams",
        teams={
            "tenant_id": entra.TENANT,
            "client_id": entra.CLIENT_ID,
            "client_secret": entra.CLIENT_SECRET,
            "organizer": entra.ORGANIZER,
            "client_state": entra.CLIENT_STATE,
        },
    )
    fake = GraphFake()
    made = TeamsTool(None, fake, Recorder(fake), database)  # type: ignore[arg-type]
    made.recorder.handler = made.graph
    store = Store(database)
    client = made.recorder.client()
    provider = teams.TeamsProvider(settings, client=client, fence=public_fence(), sleep=lambda _: 0)
    fake.notification_endpoint = provider.handle_webhook
    app = create_app(settings, store=store, provider=provider, migrate=True, TESTING=True)
    made.tool = Tool(app, app.test_client(), provider, store, launcher(app))
    yield made
    client.close()
    store.dispose()


def as_cron_process(on_teams: TeamsTool, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI runs as the cron process would: settings from the environment, and its own
    provider built on the same Graph."""
    import blendkit.sessions

    def load(config: Any, *args: object, **kwargs: object) -> object:
        return teams.TeamsProvider(
            config, client=on_teams.recorder.client(), fence=public_fence(), sleep=lambda _: 0
        )

    for key, value in settings_for(on_teams.database).items():
        monkeypatch.setenv(f"BLENDKIT_{key}", value)
    monkeypatch.setattr(blendkit.sessions, "load_meeting_provider", load)


def start_in_two_days() -> datetime:
    return (datetime.now(UTC) + timedelta(days=2)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )


def test_scheduling_a_teams_session_subscribes_its_recordings_and_transcripts(
    on_teams: TeamsTool,
) -> None:
    meeting = on_teams.schedule(start_in_two_days())

    assert on_teams.watched() == [("recordings", meeting), ("transcripts", meeting)]
    for made in on_teams.fake.subscriptions.values():
        assert made["clientState"] == entra.CLIENT_STATE
        assert made["notificationUrl"].startswith(f"{BASE}/webhooks/teams?")
        assert httpx.URL(made["notificationUrl"]).params["organizer"] == entra.ORGANIZER
    assert len(on_teams.fake.validations) == 2, "the tool answered Graph's handshake twice"
    graph = on_teams.recorder.api_exchanges("graph.microsoft.com")
    subscribing = [e for e in graph if e.request.url.path == "/v1.0/subscriptions"]
    assert [e.request.method for e in subscribing] == ["POST", "POST"]
    assert validate_exchanges(load_spec(GRAPH_SPEC), graph) == len(graph) == 4


def test_a_refused_subscription_leaves_the_session_scheduled_for_the_sweep_to_subscribe(
    on_teams: TeamsTool, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from click.testing import CliRunner

    from blendkit.cli import cli

    on_teams.refuse = True
    with caplog.at_level(logging.WARNING, logger="blendkit_teams"):
        meeting = on_teams.schedule(start_in_two_days())
    assert meeting in on_teams.fake.events
    assert on_teams.fake.subscriptions == {}
    (warning,) = [r for r in caplog.records if r.name == "blendkit_teams"]
    assert warning.levelno == logging.WARNING
    assert "OnlineMeetingRecording.Read.All" in warning.getMessage()

    as_cron_process(on_teams, monkeypatch)

    refused = CliRunner().invoke(cli, ["sessions", "import-ended"])
    assert refused.exit_code == 1, refused.output
    assert "teams event subscriptions not made" in refused.output
    assert f"{meeting} recordings (sessions.provider_auth" in refused.output

    on_teams.refuse = False  # the permissions were granted
    swept = CliRunner().invoke(cli, ["sessions", "import-ended"])
    assert swept.exit_code == 0, swept.output
    assert "2 missing teams event subscription(s) made" in swept.output
    assert on_teams.watched() == [("recordings", meeting), ("transcripts", meeting)]

    again = CliRunner().invoke(cli, ["sessions", "import-ended"])
    assert "0 missing teams event subscription(s) made" in again.output
    assert len(on_teams.fake.subscriptions) == 2


def test_a_sweep_started_while_another_keeps_the_subscriptions_skips_them_and_imports(
    on_teams: TeamsTool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cron started on two hosts at once: the second does not make the session's missing
    subscriptions again (two sweeps would both find them missing), and still imports."""
    from click.testing import CliRunner

    from blendkit.cli import cli
    from blendkit.store import exclusively

    on_teams.refuse = True
    meeting = on_teams.schedule(start_in_two_days())
    on_teams.refuse = False
    assert on_teams.fake.subscriptions == {}

    as_cron_process(on_teams, monkeypatch)

    other_host = Store(on_teams.database)
    try:
        with exclusively(other_host, "sessions.subscriptions") as held:
            assert held
            skipped = CliRunner().invoke(cli, ["sessions", "import-ended"])
        assert skipped.exit_code == 0, skipped.output
        assert "another process is keeping them now; skipped here" in skipped.output
        assert "session(s) imported" in skipped.output
        assert on_teams.fake.subscriptions == {}
    finally:
        other_host.dispose()
    swept = CliRunner().invoke(cli, ["sessions", "import-ended"])
    assert "2 missing teams event subscription(s) made" in swept.output
    assert on_teams.watched() == [("recordings", meeting), ("transcripts", meeting)]
