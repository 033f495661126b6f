"""A Teams session's subscriptions: made when it is scheduled, made again by the sweep when
missing, and judged by the calendar of the organizer they were made under."""

from __future__ import annotations

import copy
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from blendkit_teams import TeamsProvider

from blendkit.errors import ProviderError
from blendkit.sessions import SessionSubscriber, SubscriptionRenewer
from tests.fence import public_fence
from tests.plugins.graph_fake import (
    CLIENT_STATE,
    ORGANIZER,
    GraphFake,
    graph_error,
    spec,
    stamp,
    teams_settings,
)
from tests.plugins.vendor_contract import Recorder, validate_exchanges

HOOK = "https://tool.example.edu/webhooks/teams"
NEW_ORGANIZER = "new.teacher@contoso.edu"
REFUSED = (
    "Operation: Create; Exception: [Status Code: Forbidden; Reason: The application does not "
    "have the required permissions]"
)


class Graph:
    """The Graph fake, refusing ``POST /subscriptions`` (403) while ``refuse`` is set."""

    def __init__(self) -> None:
        self.fake = GraphFake()
        self.refuse = False
        self.recorder = Recorder(self)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.refuse and request.method == "POST" and request.url.path.endswith("/subscriptions"):
            return graph_error(403, "ExtensionError", REFUSED)
        return self.fake(request)

    def provider(self, **settings: Any) -> TeamsProvider:
        made = TeamsProvider(
            fence=public_fence(),
            settings=teams_settings(**settings),
            client=self.recorder.client(),
            sleep=lambda _: None,
        )
        self.fake.notification_endpoint = made.handle_webhook
        return made

    def watched(self) -> list[tuple[str, str]]:
        """(artifact, notification URL's meeting) of every subscription Graph has."""
        return sorted(
            (
                s["resource"].rsplit("/", 1)[1],
                httpx.URL(s["notificationUrl"]).params.get("meeting", ""),
            )
            for s in self.fake.subscriptions.values()
        )


@pytest.fixture
def graph() -> Graph:
    return Graph()


def soon() -> datetime:
    return datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)


def test_scheduling_subscribes_recordings_and_transcripts_as_the_spec_says(
    graph_spec: Any, graph: Graph
) -> None:
    provider = graph.provider()
    meeting = provider.create_session(spec())
    online = provider.online_meeting_id(meeting.meeting_id)

    subscriptions = list(graph.fake.subscriptions.values())
    assert sorted(s["resource"] for s in subscriptions) == [
        f"communications/onlineMeetings/{online}/recordings",
        f"communications/onlineMeetings/{online}/transcripts",
    ]
    for made in subscriptions:
        query = httpx.URL(made["notificationUrl"]).params
        assert made["notificationUrl"].startswith(HOOK + "?")
        assert made["lifecycleNotificationUrl"] == made["notificationUrl"]
        assert made["clientState"] == CLIENT_STATE
        assert query["meeting"] == meeting.meeting_id
        assert query["organizer"] == ORGANIZER
        assert query["artifact"] == made["resource"].rsplit("/", 1)[1]
    assert sorted(meeting.extras["subscriptions"]) == sorted(graph.fake.subscriptions)  # type: ignore[arg-type]
    assert "subscription_error" not in meeting.extras
    # The event, the online meeting by its join URL, two subscriptions: each as Graph's spec says.
    assert validate_exchanges(graph_spec, graph.recorder.api_exchanges("graph.microsoft.com")) == 4


def test_scheduling_without_a_client_state_subscribes_nothing(graph: Graph) -> None:
    provider = graph.provider(client_state=None)
    meeting = provider.create_session(spec())
    assert graph.fake.subscriptions == {}
    assert "subscriptions" not in meeting.extras
    assert isinstance(provider, SessionSubscriber)
    assert provider.subscribe_missing([meeting.meeting_id], datetime.now(UTC)) == 0


def test_a_refused_subscription_is_one_warning_the_session_stays_and_the_sweep_makes_it(
    graph: Graph, caplog: pytest.LogCaptureFixture
) -> None:
    provider = graph.provider()
    graph.refuse = True
    with caplog.at_level(logging.WARNING, logger="blendkit_teams"):
        meeting = provider.create_session(spec(recurrence=None, start_utc=soon()))

    assert meeting.meeting_id in graph.fake.events, "the session is scheduled"
    assert meeting.extras["subscription_error"] == "sessions.provider_auth"
    assert meeting.extras["subscriptions"] == []
    (warning,) = [r for r in caplog.records if r.levelno >= logging.WARNING]
    text = warning.getMessage()
    assert meeting.meeting_id in text
    assert "recordings and transcripts not subscribed" in text
    assert "OnlineMeetingRecording.Read.All" in text
    assert "OnlineMeetingTranscript.Read.All" in text
    assert "blendkit sessions import-ended" in text
    assert CLIENT_STATE not in text
    assert graph.fake.subscriptions == {}

    # Still refused: the sweep names the session and what to grant, and raises after trying all.
    cron = graph.provider()
    with pytest.raises(ProviderError) as caught:
        cron.subscribe_missing([meeting.meeting_id], datetime.now(UTC))
    assert caught.value.code == "sessions.subscriptions_not_created"
    assert "2 Teams subscription(s) not created, 0 created" in caught.value.message
    assert f"{meeting.meeting_id} transcripts (sessions.provider_auth" in caught.value.message

    graph.refuse = False  # the admin granted the permissions
    assert cron.subscribe_missing([meeting.meeting_id], datetime.now(UTC)) == 2
    assert graph.watched() == [
        ("recordings", meeting.meeting_id),
        ("transcripts", meeting.meeting_id),
    ]
    assert cron.subscribe_missing([meeting.meeting_id], datetime.now(UTC)) == 0, "made once"


def test_the_sweep_makes_only_the_missing_and_the_expired_subscriptions(graph: Graph) -> None:
    provider = graph.provider()
    covered = provider.create_session(spec(recurrence=None, start_utc=soon()))
    half = provider.create_session(spec(recurrence=None, start_utc=soon()))
    lapsed = provider.create_session(spec(recurrence=None, start_utc=soon()))
    now = datetime.now(UTC)
    for sub_id, made in list(graph.fake.subscriptions.items()):
        meeting = httpx.URL(made["notificationUrl"]).params["meeting"]
        if meeting == half.meeting_id and made["resource"].endswith("/transcripts"):
            del graph.fake.subscriptions[sub_id]  # removed without a lifecycle notification
        if meeting == lapsed.meeting_id:
            made["expirationDateTime"] = stamp(now - timedelta(minutes=5))  # listed, expired

    cron = graph.provider()
    assert isinstance(cron, SubscriptionRenewer)
    made = cron.subscribe_missing([covered.meeting_id, half.meeting_id, lapsed.meeting_id], now)

    assert made == 3
    expected = [
        (artifact, m.meeting_id)
        for artifact in ("recordings", "transcripts")
        for m in (covered, half, lapsed, lapsed)
    ]
    assert graph.watched() == sorted(expected)


# --- the organizer a subscription was made under -------------------------------------------------


def due_subscriptions(graph: Graph, moment: datetime) -> None:
    """Every subscription Graph has expires in an hour after ``moment`` (renewal is due)."""
    for made in graph.fake.subscriptions.values():
        made["expirationDateTime"] = stamp(moment + timedelta(hours=1))


def deletes(graph: Graph) -> list[httpx.Request]:
    return [e.request for e in graph.recorder.exchanges if e.request.method == "DELETE"]


def test_a_changed_organizer_does_not_delete_the_old_organizers_subscriptions(
    graph: Graph,
) -> None:
    before = graph.provider()
    weekly = before.create_session(spec(start_utc=soon()))
    now = datetime.now(UTC)
    due_subscriptions(graph, now)

    after = graph.provider(organizer=NEW_ORGANIZER)  # Graph answers 404 for the old events here
    assert after.renew_subscriptions(now) == 2

    assert deletes(graph) == []
    assert graph.watched() == [
        ("recordings", weekly.meeting_id),
        ("transcripts", weekly.meeting_id),
    ]
    asked = [
        e.request.url.path
        for e in graph.recorder.exchanges
        if e.request.method == "GET" and "/events/" in e.request.url.path
    ]
    assert asked == [f"/v1.0/users/{ORGANIZER}/events/{weekly.meeting_id}"], "asked once"


def test_a_404_from_the_subscriptions_own_organizer_deletes_it(graph: Graph) -> None:
    provider = graph.provider()
    one_off = provider.create_session(spec(recurrence=None, start_utc=soon()))
    del graph.fake.events[one_off.meeting_id]  # deleted in Outlook
    now = datetime.now(UTC)
    due_subscriptions(graph, now)

    assert graph.provider(organizer=NEW_ORGANIZER).renew_subscriptions(now) == 0

    assert graph.fake.subscriptions == {}
    assert len(deletes(graph)) == 2


def test_a_subscription_without_its_organizer_is_left_to_expire_on_a_404(graph: Graph) -> None:
    """Made before the organizer was recorded: a 404 may only mean another organizer now."""
    provider = graph.provider()
    one_off = provider.create_session(spec(recurrence=None, start_utc=soon()))
    now = datetime.now(UTC)
    for made in graph.fake.subscriptions.values():
        url = httpx.URL(made["notificationUrl"])
        made["notificationUrl"] = str(url.copy_remove_param("organizer"))
    due_subscriptions(graph, now)
    kept = copy.deepcopy(graph.fake.subscriptions)

    changed = graph.provider(organizer=NEW_ORGANIZER)
    assert changed.renew_subscriptions(now) == 0
    assert deletes(graph) == []
    assert graph.fake.subscriptions == kept, "neither renewed nor deleted"
    # Under the organizer it was made under, the same subscription is still renewed.
    assert graph.provider().renew_subscriptions(now) == 2
    assert one_off.meeting_id in graph.fake.events


def test_cancelling_a_session_deletes_its_subscriptions_made_by_any_process(
    graph: Graph,
) -> None:
    """A cancelled session's subscriptions go at once (listed from Graph: another process's
    too), not at the next renewal; another session's stay."""
    scheduler = graph.provider()
    kept = scheduler.create_session(spec(title="Kept"))
    cancelled = scheduler.create_session(spec(title="Cancelled"))
    assert len(graph.watched()) == 4
    graph.provider().cancel_session(cancelled.meeting_id)  # another process: nothing in memory
    assert graph.watched() == [
        ("recordings", kept.meeting_id),
        ("transcripts", kept.meeting_id),
    ]


def test_subscriptions_graph_refuses_to_delete_are_a_warning_and_the_cancel_stands(
    graph: Graph, caplog: pytest.LogCaptureFixture
) -> None:
    provider = graph.provider()
    meeting = provider.create_session(spec())
    original = graph.fake

    def refusing(request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE" and "/subscriptions/" in request.url.path:
            return graph_error(503, "ServiceUnavailable", "try later")
        return original(request)

    graph.fake = refusing  # type: ignore[assignment]
    with caplog.at_level(logging.WARNING, logger="blendkit_teams"):
        provider.cancel_session(meeting.meeting_id)
    graph.fake = original
    assert meeting.meeting_id not in original.events  # the event is gone all the same
    warned = [r.getMessage() for r in caplog.records if "cancelled session" in r.getMessage()]
    assert len(warned) == 1
    assert "renewal deletes them" in warned[0]
    assert CLIENT_STATE not in warned[0]
