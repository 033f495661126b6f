"""Provider discovery through entry points, and the documented example plugin end to end."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib.metadata import EntryPoint
from pathlib import Path

import httpx
import pytest

from blendkit import plugins
from blendkit.config import Settings
from blendkit.errors import NotFound, PluginError, ProviderAuthError, WebhookRejected
from blendkit.plugins import MEETING_PROVIDERS_GROUP, SETTINGS_GROUP, PluginLoadWarning
from blendkit.sessions import (
    FakeMeetingProvider,
    GenericEvent,
    Learner,
    MeetingEnded,
    MeetingProvider,
    RecordingKind,
    SessionSpec,
    WebhookRequest,
    available_meeting_providers,
    load_meeting_provider,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


def not_a_provider(settings: Settings, *, client: httpx.Client | None = None) -> object:
    return object()


def failing_factory(settings: Settings, *, client: httpx.Client | None = None) -> object:
    raise RuntimeError("missing credentials")


@pytest.fixture
def entry_points(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """Entry points of the meeting-provider group, editable by the test (name -> value); the
    example's ``[acme]`` settings section is declared beside the installed ones."""
    table = {"fake": "blendkit.sessions:FakeMeetingProvider"}
    original = plugins._entry_points

    def fake_entry_points(group: str) -> tuple[EntryPoint, ...]:
        if group == SETTINGS_GROUP:
            acme = EntryPoint(name="acme", value="acme_meet_provider:AcmeSettings", group=group)
            return (*original(group), acme)
        if group != MEETING_PROVIDERS_GROUP:
            return original(group)
        return tuple(
            EntryPoint(name=name, value=value, group=group) for name, value in sorted(table.items())
        )

    monkeypatch.setattr(plugins, "_entry_points", fake_entry_points)
    monkeypatch.syspath_prepend(str(EXAMPLES))
    plugins.clear_plugin_cache()
    yield table
    plugins.clear_plugin_cache()


def test_default_provider_is_the_fake(entry_points: dict[str, str]) -> None:
    provider = load_meeting_provider(Settings())
    assert isinstance(provider, FakeMeetingProvider)
    assert provider.name == "fake"


def test_broken_and_non_callable_plugins_warn_and_are_skipped(entry_points: dict[str, str]) -> None:
    entry_points["broken"] = "no_such_module_for_blendkit:Provider"
    entry_points["constant"] = "blendkit.plugins:MEETING_PROVIDERS_GROUP"
    with pytest.warns(PluginLoadWarning) as caught:
        found = available_meeting_providers()
    assert set(found) == {"fake"}
    text = " ".join(str(w.message) for w in caught)
    assert "broken" in text
    assert "constant" in text


def test_unknown_disabled_and_failing_providers_raise_plugin_error(
    entry_points: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(PluginError, match="available: fake"):
        load_meeting_provider(Settings(), "zoomish")
    entry_points["hollow"] = f"{__name__}:not_a_provider"
    entry_points["failing"] = f"{__name__}:failing_factory"
    plugins.clear_plugin_cache()
    with pytest.raises(PluginError, match="lacks methods"):
        load_meeting_provider(Settings(), "hollow")
    with pytest.raises(PluginError, match="could not be created"):
        load_meeting_provider(Settings(), "failing")
    monkeypatch.setenv("BLENDKIT_DISABLE_PLUGINS", "fake")
    plugins.clear_plugin_cache()
    with pytest.raises(PluginError, match="no meeting provider named 'fake'"):
        load_meeting_provider(Settings())


# --- the example plugin from docs/examples, against a scripted Acme Meet API --------------------

SECRET = "acme-secret"


def acme_api(request: httpx.Request) -> httpx.Response:
    """The made-up vendor API: just enough of it to drive every protocol method."""
    if request.headers.get("authorization") != "Bearer good-token":
        return httpx.Response(401)
    path, method = request.url.path.removeprefix("/v1"), request.method
    if (method, path) == ("POST", "/meetings"):
        body = json.loads(request.content)
        return httpx.Response(
            201,
            json={
                "id": 42,
                "duration": body["duration"],
                "join_url": "https://acme.example/j/42",
                "start_url": "https://acme.example/s/42",
                "occurrences": [{"id": "42-1", "start": body["start"]}],
            },
        )
    if (method, path) == ("POST", "/meetings/42/registrants"):
        return httpx.Response(
            201, json={"registrant_id": "r-ada", "join_url": "https://acme.example/j/42?r=ada"}
        )
    if (method, path) == ("GET", "/meetings/42/participants"):
        if request.url.params.get("page_token") == "p2":
            page = {"participants": [{"joined": "2026-03-17T16:30:00+00:00", "name": "Guest"}]}
        else:
            page = {
                "participants": [
                    {
                        "joined": "2026-03-17T16:00:00+00:00",
                        "left": "2026-03-17T16:20:00+00:00",
                        "registrant_id": "r-ada",
                        "name": "Ada",
                    }
                ],
                "next_page_token": "p2",
            }
        return httpx.Response(200, json=page)
    if (method, path) == ("GET", "/meetings/42/recordings"):
        return httpx.Response(200, json={"files": [{"id": "f1", "type": "mp4", "seconds": 3600}]})
    if (method, path) == ("GET", "/meetings/42"):
        return httpx.Response(
            200,
            json={
                "id": 42,
                "duration": 60,
                "join_url": "https://acme.example/j/42",
                "occurrences": [{"id": "42-1", "start": "2026-03-17T16:00:00+00:00"}],
            },
        )
    if (method, path) == ("PATCH", "/meetings/42/occurrences/42-1"):
        return httpx.Response(204)
    if method == "DELETE" and path == "/meetings/42":
        return httpx.Response(204)
    return httpx.Response(404)


def acme(token: str = "good-token") -> MeetingProvider:
    client = httpx.Client(transport=httpx.MockTransport(acme_api))
    return load_meeting_provider(Settings(), "acme", client=client)


def test_example_plugin_drives_every_protocol_method(
    entry_points: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    entry_points["acme"] = "acme_meet_provider:AcmeMeetProvider"
    monkeypatch.setenv("BLENDKIT_ACME_API_TOKEN", "good-token")
    monkeypatch.setenv("BLENDKIT_ACME_WEBHOOK_SECRET", SECRET)
    provider = acme()
    assert isinstance(provider, MeetingProvider)
    spec = SessionSpec(
        title="Seminar",
        start_utc=datetime(2026, 3, 17, 16, 0, tzinfo=UTC),
        time_zone="Europe/Berlin",
        duration_minutes=60,
    )
    meeting = provider.create_session(spec)
    assert (meeting.meeting_id, len(meeting.occurrences)) == ("42", 1)
    link = provider.join_link("42", Learner(id="ada", name="Ada", email="ada@example.org"))
    assert link.registrant_id == "r-ada"
    records = provider.fetch_attendance("42")
    assert [r.display_name for r in records] == ["Ada", "Guest"]  # both pages read
    (recording,) = provider.list_recordings("42")
    assert recording.kind is RecordingKind.VIDEO
    moved_to = datetime(2026, 3, 18, 16, 0, tzinfo=UTC)
    assert provider.move_occurrence("42", "42-1", moved_to, 45) == "42-1"
    assert provider.move_occurrence("42", "2026-03-17T16:00:00+00:00", moved_to, 45) == "42-1"
    with pytest.raises(NotFound):
        provider.move_occurrence("42", "2026-03-24T16:00:00+00:00", moved_to, 45)
    provider.cancel_session("42")

    body = json.dumps({"id": "evt-1", "type": "meeting.ended", "meeting_id": "42"}).encode()
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    result = provider.handle_webhook(
        WebhookRequest(headers={"X-Acme-Signature": signature}, body=body)
    )
    assert [type(e) for e in result.events] == [MeetingEnded]
    other = json.dumps({"id": "evt-2", "type": "chat.message"}).encode()
    signature = hmac.new(SECRET.encode(), other, hashlib.sha256).hexdigest()
    (event,) = provider.handle_webhook(
        WebhookRequest(headers={"x-acme-signature": signature}, body=other)
    ).events
    assert isinstance(event, GenericEvent)
    assert event.name == "chat.message"
    with pytest.raises(WebhookRejected):
        provider.handle_webhook(WebhookRequest(headers={"x-acme-signature": "00"}, body=body))


def test_example_plugin_maps_auth_failures(
    entry_points: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    entry_points["acme"] = "acme_meet_provider:AcmeMeetProvider"
    monkeypatch.setenv("BLENDKIT_ACME_API_TOKEN", "expired")
    with pytest.raises(ProviderAuthError, match=r"\[acme\] api_token"):
        acme().list_recordings("42")
