"""A Teams lifecycle notification through the example tool: ``missed`` makes the tool import
the session's recordings it never heard of, the way Graph's guide asks for a resynchronisation."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from blendkit import load_settings
from blendkit.lti import Tenant
from blendkit.progression import flipped_classroom
from tests.fence import public_fence
from tests.plugins.graph_fake import (
    CLIENT_ID,
    CLIENT_SECRET,
    CLIENT_STATE,
    ORGANIZER,
    TENANT,
    GraphFake,
    stamp,
)

BASE = "https://tool.example.edu"


def test_a_missed_lifecycle_notification_imports_the_sessions_recordings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    teams = pytest.importorskip("blendkit_teams")
    from blendkit_examples.flask_app import create_app
    from blendkit_examples.flask_app.app import services

    for key in [k for k in os.environ if k.startswith("BLENDKIT_")]:
        monkeypatch.delenv(key)
    for key, value in {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'teams.sqlite3'}",
        "TOOL_BASE_URL": BASE,
        "TOOL_SECRET_KEY": "a-long-random-tool-key-for-these-tests",
        "TOOL_ENVIRONMENT": "development",
        "MEETING_PROVIDER": "teams",
        "TEAMS_TENANT_ID": TENANT,
        "TEAMS_CLIENT_ID": CLIENT_ID,
        "TEAMS_CLIENT_SECRET": CLIENT_SECRET,
        "TEAMS_ORGANIZER": ORGANIZER,
        "TEAMS_CLIENT_STATE": CLIENT_STATE,
    }.items():
        monkeypatch.setenv(f"BLENDKIT_{key}", value)
    settings = load_settings()
    graph = GraphFake()
    provider = teams.TeamsProvider(
        settings,
        client=httpx.Client(transport=httpx.MockTransport(graph)),
        fence=public_fence(),
        sleep=lambda _: None,
    )
    app = create_app(settings, provider=provider, migrate=True, TESTING=True)
    client = app.test_client()
    graph.notification_endpoint = provider.handle_webhook
    start = (datetime.now(UTC) - timedelta(hours=3)).replace(second=0, microsecond=0)
    with app.app_context():
        svc = services()
        tenant = Tenant(issuer="https://lms.example.edu", client_id="c1", deployment_id="d1")
        course = svc.courses.ensure_course(
            tenant, "bio-101", title="Biology", path=flipped_classroom(start)
        )
        record = svc.live.schedule(
            course, title="Lab", start_utc=start, time_zone="UTC", duration_minutes=60
        )
        made = provider.subscribe(record.provider_meeting_id)
    online = made.online_meeting_id
    graph.recordings[online] = [
        {"id": "VjIjIzUzNzg", "meetingId": online, "createdDateTime": stamp(start)}
    ]
    body = {
        "value": [
            {
                "subscriptionId": made.id,
                "subscriptionExpirationDateTime": stamp(made.expires_at),
                "tenantId": TENANT,
                "clientState": CLIENT_STATE,
                "lifecycleEvent": "missed",
            }
        ]
    }
    path = httpx.URL(made.notification_url).raw_path.decode("ascii")

    answer = client.post(path, json=body)

    assert answer.status_code == 202, answer.get_data(as_text=True)
    with app.app_context():
        svc = services()
        kept = svc.live.recordings(svc.courses.course_by_id(course.id), record.id)
    assert [r.provider_id for r in kept] == ["VjIjIzUzNzg"]
    again = client.post(path, json=body)  # a redelivery: acknowledged, nothing new
    assert again.status_code == 202
