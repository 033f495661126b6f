"""Finding 7: the fake provider's webhook secret was a constant and ``/webhooks/fake`` always
routed, and meeting ids were sequential: anyone could post a signed "recording ready" event for
``fm000001`` and put their own link on learner pages.

Now the fake provider's secret is random, stored once per install (every worker shares it), its
meeting ids are unguessable, and only the configured providers' webhooks are routed.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from flask import Flask

from blendkit import Settings, WebhookRejected
from blendkit.sessions import FakeMeetingProvider, RecordingKind, SessionSpec

OLD_CONSTANT = "fake-webhook-secret"


def _spec() -> SessionSpec:
    start = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    return SessionSpec(title="Seminar", start_utc=start, duration_minutes=60, time_zone="UTC")


def _app(tmp_path: Path, **settings: object) -> Flask:
    from blendkit_examples.flask_app import create_app

    values: dict[str, object] = {
        "database": {"url": f"sqlite:///{tmp_path / 'tool.sqlite3'}"},
        "tool": {
            "base_url": "http://tool.test",
            "key_encryption_keys": [KEY],
            "secret_key": "s" * 32,
        },
        **settings,
    }
    return create_app(Settings(**values), migrate=True, TESTING=True)  # type: ignore[arg-type]


KEY = Fernet.generate_key().decode()


def test_no_two_fake_providers_share_a_secret() -> None:
    one, two = FakeMeetingProvider(), FakeMeetingProvider()
    meeting = one.create_session(_spec()).meeting_id
    one.add_recording(meeting, RecordingKind.VIDEO, start=_spec().start_utc, duration_seconds=60)
    (delivery,) = one.pending_webhooks()
    forged = FakeMeetingProvider(webhook_secret=OLD_CONSTANT).signed_request(
        json.loads(delivery.body), at=delivery.received_at
    )
    assert one.handle_webhook(delivery).events, "the provider that signed accepts it"
    for provider, request in ((two, delivery), (one, forged)):
        with pytest.raises(WebhookRejected) as caught:
            provider.handle_webhook(request)
        assert caught.value.code == "sessions.webhook_bad_signature"


def test_meeting_ids_cannot_be_guessed() -> None:
    provider = FakeMeetingProvider()
    ids = [provider.create_session(_spec()).meeting_id for _ in range(20)]
    assert len(set(ids)) == 20
    for meeting_id in ids:
        assert not re.fullmatch(r"fm0*\d{1,6}", meeting_id), meeting_id
        assert len(meeting_id) >= 18, "at least 64 random bits"
    other = FakeMeetingProvider().create_session(_spec()).meeting_id
    assert other not in ids


def test_the_configured_fake_provider_signs_with_one_secret_for_every_worker(
    tmp_path: Path,
) -> None:
    first, second = _app(tmp_path), _app(tmp_path)  # two workers on one database
    validation = {"event": "endpoint.url_validation", "payload": {"plainToken": "abc"}}
    provider = first.extensions["blendkit_example"].provider
    assert isinstance(provider, FakeMeetingProvider)
    signed = provider.signed_request(validation, at=datetime.now(UTC))
    answers = [
        app.test_client().post("/webhooks/fake", data=signed.body, headers=signed.headers)
        for app in (first, second)
    ]
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].get_json() == answers[1].get_json()
    forged = FakeMeetingProvider(webhook_secret=OLD_CONSTANT).signed_request(
        validation, at=datetime.now(UTC)
    )
    refused = first.test_client().post("/webhooks/fake", data=forged.body, headers=forged.headers)
    assert refused.status_code == 401
    assert "sessions.webhook_bad_signature" in refused.get_data(as_text=True)


def test_only_configured_providers_have_a_webhook(tmp_path: Path) -> None:
    zoom = {
        "account_id": "acct",
        "client_id": "cid",
        "client_secret": "csecret",
        "webhook_secret": "whsec",
    }
    app = _app(tmp_path, meeting_provider="zoom", zoom=zoom)
    client = app.test_client()
    forged = FakeMeetingProvider(webhook_secret=OLD_CONSTANT).signed_request(
        {"event": "endpoint.url_validation", "payload": {"plainToken": "abc"}},
        at=datetime.now(UTC) - timedelta(seconds=1),
    )
    assert (
        client.post("/webhooks/fake", data=forged.body, headers=forged.headers).status_code == 404
    )
    assert client.post("/webhooks/teams", data=b"{}").status_code == 404
    assert client.post("/webhooks/meet", data=b"{}").status_code == 404  # no push audience set
    assert client.post("/webhooks/zoom", data=b"{}").status_code == 401, "routed, then verified"


def test_fake_webhook_is_not_routed_beside_a_real_provider_even_in_development(
    tmp_path: Path,
) -> None:
    teams = {
        "tenant_id": "t",
        "client_id": "c",
        "client_secret": "s",
        "organizer": "host@example.edu",
        "client_state": "state-secret",
    }
    app = _app(
        tmp_path,
        meeting_provider="teams",
        teams=teams,
        tool={
            "environment": "development",
            "base_url": "http://tool.test",
            "secret_key": "s" * 32,
        },
    )
    client = app.test_client()
    assert client.post("/webhooks/fake", data=b"{}").status_code == 404
    assert client.post("/webhooks/zoom", data=b"{}").status_code == 404
    assert client.post("/webhooks/teams", data=b"{}").status_code != 404
