"""Teams subscriptions kept alive from Graph's own list, and Graph's lifecycle notifications.

Every process renews what any other created: the provider lists ``GET /subscriptions`` (all
pages), keeps those that notify this tool's Teams webhook about an online meeting's recordings
or transcripts, and renews the due ones while their session has a sitting left.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from blendkit_teams import Renewal, RenewalFailure, TeamsProvider

from blendkit.errors import ProviderError, WebhookRejected
from blendkit.sessions import (
    GenericEvent,
    MemoryEventLedger,
    ProviderMeeting,
    RecordingCompleted,
    RecordingKind,
    SubscriptionRenewer,
    handle_webhook_once,
)
from tests.fence import public_fence
from tests.plugins.graph_fake import (
    CLIENT_STATE,
    START,
    TENANT,
    GraphFake,
    graph_error,
    notification,
    posted,
    spec,
    stamp,
    teams_settings,
)
from tests.plugins.vendor_contract import Exchange, Recorder, validate_exchanges

HOOK = "https://tool.example.edu/webhooks/teams"
T0 = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)  # an hour before the first sitting


@pytest.fixture
def recorder() -> Recorder:
    """Every exchange with Graph, whose subscriptions are the record every process reads."""
    return Recorder(GraphFake())


@pytest.fixture
def fake(recorder: Recorder) -> GraphFake:
    assert isinstance(recorder.handler, GraphFake)
    return recorder.handler


def process(recorder: Recorder, fake: GraphFake, **settings: Any) -> TeamsProvider:
    """A provider as a new process builds it: nothing in memory but settings."""
    made = TeamsProvider(
        fence=public_fence(),
        settings=teams_settings(**settings),
        client=recorder.client(),
        sleep=lambda _: None,
    )
    fake.notification_endpoint = made.handle_webhook
    return made


def subscribed(provider: TeamsProvider, meeting_id: str, artifact: str = "recordings") -> str:
    """A subscription of the session's ``artifact`` made at T0 (expiring two days after it).

    The subscriptions scheduling made (two days after the wall clock) are deleted first, so the
    session has only those this helper made."""
    manager = provider.subscriptions
    assert manager is not None
    for made in manager.list_subscriptions():
        if made.meeting_id == meeting_id and made.expires_at != T0 + timedelta(days=2):
            manager.unsubscribe(made.id)
    again = manager.subscribe(
        provider.online_meeting_id(meeting_id),
        provider.notification_url,
        artifact=artifact,  # type: ignore[arg-type]
        meeting_id=meeting_id,
        organizer=provider.organizer,
        now=T0,
    )
    return again.id


def as_in_spec(exchange: Exchange) -> Exchange:
    """The spec names the bound action by its alias-qualified name (``graph.reauthorize``);
    Graph's reference calls it ``/subscriptions/{id}/reauthorize``: the same operation."""
    request = exchange.request
    if not request.url.path.endswith("/reauthorize"):
        return exchange
    path = request.url.path.removesuffix("reauthorize") + "graph.reauthorize"
    moved = httpx.Request(request.method, request.url.copy_with(path=path), headers=request.headers)
    return Exchange(moved, exchange.response)


def graph_exchanges(recorder: Recorder) -> list[Exchange]:
    return [as_in_spec(e) for e in recorder.api_exchanges("graph.microsoft.com")]


def requests(recorder: Recorder, method: str, path_part: str) -> list[httpx.Request]:
    return [
        e.request
        for e in recorder.exchanges
        if e.request.method == method and path_part in e.request.url.path
    ]


# --- renewal from Graph's list -----------------------------------------------------------------


def test_a_fresh_process_renews_what_another_process_subscribed(
    graph_spec: Any, fake: GraphFake, recorder: Recorder
) -> None:
    web = process(recorder, fake)
    weekly = web.create_session(spec())
    recordings = subscribed(web, weekly.meeting_id)
    transcripts = subscribed(web, weekly.meeting_id, "transcripts")
    cron = process(recorder, fake)  # the `blendkit sessions import-ended` process
    assert isinstance(cron, SubscriptionRenewer)
    assert cron.subscriptions is not None
    assert cron.subscriptions.subscriptions == []
    recorder.exchanges.clear()

    assert cron.renew_subscriptions(T0 + timedelta(hours=12)) == 0  # not due yet
    now = T0 + timedelta(hours=30)
    assert cron.renew_subscriptions(now) == 2

    for sub_id in (recordings, transcripts):
        assert fake.subscriptions[sub_id]["expirationDateTime"] == stamp(now + timedelta(days=2))
    assert len(requests(recorder, "PATCH", "/subscriptions/")) == 2
    # The session's event was read once for both of its subscriptions.
    assert len(requests(recorder, "GET", f"/events/{weekly.meeting_id}")) == 1
    # Two listings, the event, two renewals.
    assert validate_exchanges(graph_spec, graph_exchanges(recorder)) == 5


def test_every_page_of_graphs_list_is_read_and_only_this_tools_are_touched(
    graph_spec: Any, fake: GraphFake, recorder: Recorder
) -> None:
    fake.page_size = 2
    provider = process(recorder, fake)
    online = "MSo1N2Y5ZGFjYy03MWJm"
    due = T0 + timedelta(hours=20)
    ours = [
        fake.add_subscription(f"communications/onlineMeetings/{online}-{i}/recordings", due)
        for i in range(5)
    ]
    ours.append(
        fake.add_subscription(f"communications/onlineMeetings('{online}-q')/transcripts", due)
    )
    others = [
        fake.add_subscription(
            f"communications/onlineMeetings/{online}/recordings",
            due,
            url="https://staging.example.edu/webhooks/teams",
        ),
        fake.add_subscription(
            f"communications/onlineMeetings/{online}/recordings",
            due,
            url="https://tool.example.edu/webhooks/teamsx",
        ),
        fake.add_subscription("communications/onlineMeetings/getAllRecordings", due),
        fake.add_subscription("/users/teacher@contoso.edu/events", due),
    ]
    recorder.exchanges.clear()

    assert provider.renew_subscriptions(T0) == len(ours)

    pages = requests(recorder, "GET", "/subscriptions")
    assert len(pages) == 5  # ten subscriptions, two a page
    renewed = {r.url.path.rsplit("/", 1)[1] for r in requests(recorder, "PATCH", "/subscri")}
    assert renewed == set(ours)
    for sub_id in others:
        assert fake.subscriptions[sub_id]["expirationDateTime"] == stamp(due)
    assert validate_exchanges(graph_spec, graph_exchanges(recorder)) == 5 + len(ours)


def test_subscriptions_follow_their_sessions_state(fake: GraphFake, recorder: Recorder) -> None:
    provider = process(recorder, fake)
    one_off = provider.create_session(spec(recurrence=None))  # ends 2026-03-03 10:00 UTC
    weekly = provider.create_session(spec())  # twelve sittings, the last on 2026-04-09
    cancelled = provider.create_session(spec(recurrence=None, title="Cancelled"))
    over = subscribed(provider, one_off.meeting_id)
    kept = subscribed(provider, weekly.meeting_id)
    orphan = subscribed(provider, cancelled.meeting_id)
    provider.cancel_session(cancelled.meeting_id)
    fake.subscriptions[kept]["expirationDateTime"] = stamp(T0 + timedelta(days=60))
    now = T0 + timedelta(hours=30)

    assert process(recorder, fake).renew_subscriptions(now) == 0

    # The one-off session ended more than a day ago: left to expire (a late file still arrives).
    assert fake.subscriptions[over]["expirationDateTime"] == stamp(T0 + timedelta(days=2))
    assert orphan not in fake.subscriptions, "its calendar event is gone: deleted"
    # The weekly series is renewed until a day after its last possible sitting.
    for day, renewed in ((datetime(2026, 4, 20, tzinfo=UTC), 1), (datetime(2026, 5, 1), 0)):
        moment = day.replace(tzinfo=UTC)
        fake.subscriptions[kept]["expirationDateTime"] = stamp(moment + timedelta(hours=2))
        assert process(recorder, fake).renew_subscriptions(moment) == renewed


def test_one_failing_subscription_does_not_stop_the_others(
    fake: GraphFake, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    provider = process(recorder, fake)
    weekly = provider.create_session(spec())
    first = subscribed(provider, weekly.meeting_id)
    second = subscribed(provider, weekly.meeting_id, "transcripts")
    refused = graph_error(403, "Forbidden", "Insufficient privileges to complete the operation.")

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "PATCH" and request.url.path.endswith(first):
            return refused
        return fake(request)

    cron = TeamsProvider(
        fence=public_fence(),
        settings=teams_settings(),
        client=httpx.Client(transport=httpx.MockTransport(handler)),
    )
    now = T0 + timedelta(hours=30)
    with (
        caplog.at_level(logging.WARNING, logger="blendkit_teams"),
        pytest.raises(ProviderError) as caught,
    ):
        cron.renew_subscriptions(now)

    assert caught.value.code == "sessions.subscriptions_not_renewed"
    assert first in caught.value.message
    assert "sessions.provider_auth" in caught.value.message
    assert "1 renewed" in caught.value.message
    assert fake.subscriptions[second]["expirationDateTime"] == stamp(now + timedelta(days=2))
    assert fake.subscriptions[first]["expirationDateTime"] == stamp(T0 + timedelta(days=2))
    assert first in caplog.text
    assert CLIENT_STATE not in caplog.text + caught.value.message


def test_without_a_client_state_nothing_is_listed(fake: GraphFake, recorder: Recorder) -> None:
    provider = process(recorder, fake, client_state=None)
    assert provider.renew_subscriptions(T0) == 0
    assert recorder.exchanges == []


def test_graphs_answer_to_a_renewal_sets_the_expiry(fake: GraphFake, recorder: Recorder) -> None:
    """Graph's reference answers 200 with the subscription (the spec subset says 204)."""
    provider = process(recorder, fake)
    sub_id = fake.add_subscription("communications/onlineMeetings/b25l/recordings", T0)
    capped = T0 + timedelta(hours=40)
    body = {**fake.subscriptions[sub_id], "expirationDateTime": stamp(capped)}
    listing = fake.subscriptions.copy()
    fake.faults += [
        httpx.Response(200, json={"value": list(listing.values())}),
        httpx.Response(200, json=body),
    ]
    assert provider.subscriptions is not None
    (renewed,) = provider.subscriptions.renew_due(T0).renewed
    assert renewed.expires_at == capped


# --- lifecycle notifications -------------------------------------------------------------------


def lifecycle(kind: str, sub_id: str, expires: datetime = T0) -> dict[str, Any]:
    return {
        "subscriptionId": sub_id,
        "subscriptionExpirationDateTime": stamp(expires),
        "tenantId": TENANT,
        "clientState": CLIENT_STATE,
        "lifecycleEvent": kind,
    }


def test_reauthorization_required_reauthorizes_the_subscription(
    graph_spec: Any, fake: GraphFake, recorder: Recorder
) -> None:
    provider = process(recorder, fake)
    weekly = provider.create_session(spec())
    sub_id = subscribed(provider, weekly.meeting_id)
    recorder.exchanges.clear()
    request = posted([lifecycle("reauthorizationRequired", sub_id)], meeting=weekly.meeting_id)

    result = process(recorder, fake).handle_webhook(request)

    assert result.response.status == 202
    (event,) = result.events
    assert isinstance(event, GenericEvent)
    assert event.name == "graph.lifecycle.reauthorizationRequired"
    assert "clientState" not in event.payload
    assert fake.reauthorized == [sub_id]
    (call,) = requests(recorder, "POST", "/reauthorize")
    assert call.url.path == f"/v1.0/subscriptions/{sub_id}/reauthorize"
    assert call.content == b""
    assert validate_exchanges(graph_spec, graph_exchanges(recorder)) == 1


def test_reauthorizing_a_subscription_graph_dropped_is_quiet(
    fake: GraphFake, recorder: Recorder
) -> None:
    provider = process(recorder, fake)
    result = provider.handle_webhook(posted([lifecycle("reauthorizationRequired", "gone-1")]))
    assert result.response.status == 202
    assert fake.reauthorized == ["gone-1"]


def test_a_lifecycle_action_that_fails_still_acknowledges_the_delivery(
    fake: GraphFake, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    provider = process(recorder, fake)
    fake.faults += [graph_error(403, "Forbidden", "denied") for _ in range(2)]
    with caplog.at_level(logging.WARNING, logger="blendkit_teams"):
        result = provider.handle_webhook(posted([lifecycle("reauthorizationRequired", "s-1")]))
    assert result.response.status == 202
    assert "sessions.provider_auth" in caplog.text


def upcoming(
    provider: TeamsProvider, fake: GraphFake, artifact: str = "recordings"
) -> tuple[ProviderMeeting, str, dict[str, str]]:
    """A session still to come (lifecycle notifications are judged at the wall clock), one
    subscription of it, and the query Graph repeats in that subscription's notifications."""
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    session = provider.create_session(spec(recurrence=None, start_utc=soon))
    sub_id = subscribed(provider, session.meeting_id, artifact)
    query = dict(httpx.URL(fake.subscriptions[sub_id]["notificationUrl"]).params)
    return session, sub_id, query


def test_a_removed_subscription_is_made_again_once_and_the_session_resynchronised(
    fake: GraphFake, recorder: Recorder
) -> None:
    provider = process(recorder, fake)
    weekly, removed, query = upcoming(provider, fake, "transcripts")
    online = provider.online_meeting_id(weekly.meeting_id)
    del fake.subscriptions[removed]
    fake.transcripts[online] = [
        {"id": "MSMjMCMjZDAw", "meetingId": online, "createdDateTime": stamp(START)}
    ]
    ledger = MemoryEventLedger()
    web = process(recorder, fake)

    first = handle_webhook_once(
        web, posted([lifecycle("subscriptionRemoved", removed)], **query), ledger
    )
    again = handle_webhook_once(
        web, posted([lifecycle("subscriptionRemoved", removed)], **query), ledger
    )

    (made,) = fake.subscriptions.values()
    assert made["resource"] == f"communications/onlineMeetings/{online}/transcripts"
    assert made["notificationUrl"] == fake_url(weekly.meeting_id, "transcripts")
    # Two at scheduling, one by the helper, one made again: once, not on the redelivery.
    assert len(fake.validations) == 4
    resync = [e for e in first.events if isinstance(e, RecordingCompleted)]
    assert [e.recordings[0].provider_id for e in resync] == ["MSMjMCMjZDAw"]
    assert resync[0].recordings[0].kind is RecordingKind.TRANSCRIPT
    assert resync[0].meeting_id == weekly.meeting_id
    assert resync[0].occurred_at == START
    assert again.events == ()


def fake_url(meeting_id: str, artifact: str) -> str:
    query = {"meeting": meeting_id, "artifact": artifact, "organizer": "teacher@contoso.edu"}
    return str(httpx.URL(HOOK, params=query))


def test_a_removed_subscription_of_a_session_that_is_over_is_not_made_again(
    fake: GraphFake, recorder: Recorder
) -> None:
    provider = process(recorder, fake)
    old = provider.create_session(spec(recurrence=None, start_utc=START - timedelta(days=30)))
    removed = subscribed(provider, old.meeting_id)
    query = dict(httpx.URL(fake.subscriptions[removed]["notificationUrl"]).params)
    del fake.subscriptions[removed]
    result = provider.handle_webhook(posted([lifecycle("subscriptionRemoved", removed)], **query))
    assert result.response.status == 202
    assert fake.subscriptions == {}
    assert len(fake.validations) == 3  # two at scheduling, one by the helper


def test_missed_notifications_resynchronise_the_sessions_files(
    fake: GraphFake, recorder: Recorder
) -> None:
    provider = process(recorder, fake)
    weekly = provider.create_session(spec())
    online = provider.online_meeting_id(weekly.meeting_id)
    sub_id = subscribed(provider, weekly.meeting_id)
    query = dict(httpx.URL(fake.subscriptions[sub_id]["notificationUrl"]).params)
    fake.recordings[online] = [
        {
            "id": f"rec-{i}",
            "meetingId": online,
            "createdDateTime": stamp(START + timedelta(days=2 * i)),
        }
        for i in range(3)
    ]
    result = provider.handle_webhook(posted([lifecycle("missed", sub_id)], **query))
    found = [e for e in result.events if isinstance(e, RecordingCompleted)]
    assert [e.recordings[0].provider_id for e in found] == ["rec-0", "rec-1", "rec-2"]
    assert [e.occurred_at for e in found] == [START + timedelta(days=2 * i) for i in range(3)]
    assert len({e.event_id for e in found}) == 3
    # Without the session in the URL there is nothing to resynchronise.
    bare = provider.handle_webhook(posted([lifecycle("missed", sub_id)]))
    assert [type(e) for e in bare.events] == [GenericEvent]


# --- the staleness check across processes -------------------------------------------------------


def test_a_notification_after_another_process_renewed_is_not_stale(
    fake: GraphFake, recorder: Recorder
) -> None:
    web = process(recorder, fake)
    weekly = web.create_session(spec())
    sub_id = subscribed(web, weekly.meeting_id)  # this process remembers T0 + 2 days
    later = T0 + timedelta(hours=30)
    process(recorder, fake).renew_subscriptions(later)  # the cron job, elsewhere
    arrival = T0 + timedelta(days=2, hours=6)  # past what the web process remembers
    item = notification(
        f"communications/onlineMeetings/{web.online_meeting_id(weekly.meeting_id)}/recordings/r1",
        sub=sub_id,
    )
    item["subscriptionExpirationDateTime"] = stamp(later + timedelta(days=2))
    request = posted([item]).model_copy(update={"received_at": arrival})
    (event,) = web.handle_webhook(request).events
    assert isinstance(event, RecordingCompleted)
    # A replay with the expiry edited forward is still stale: Graph's expiry bounds it.
    item["subscriptionExpirationDateTime"] = stamp(later + timedelta(days=9))
    replayed_at = later + timedelta(days=2, hours=5)  # Graph's expiry + 5 h
    forged = posted([item]).model_copy(update={"received_at": replayed_at})
    with pytest.raises(WebhookRejected) as caught:
        web.handle_webhook(forged)
    assert caught.value.code == "sessions.webhook_stale"


def test_a_removed_subscription_graph_still_lists_does_not_stop_the_new_one(
    fake: GraphFake, recorder: Recorder
) -> None:
    provider = process(recorder, fake)
    _, removed, query = upcoming(provider, fake)
    provider.handle_webhook(posted([lifecycle("subscriptionRemoved", removed)], **query))
    assert len(fake.subscriptions) == 2  # the listing lagged behind; a new one was made
    assert len(fake.validations) == 4  # two at scheduling, one by the helper, one made again


def test_the_renewal_error_names_a_few_failures_and_counts_the_rest() -> None:
    outcome = Renewal(
        failed=tuple(
            RenewalFailure(subscription_id=f"s-{i}", code="sessions.rate_limited", message="429")
            for i in range(7)
        ),
        renewed=(),
    )
    message = outcome.error().message
    assert "7 Teams subscription(s) not renewed, 0 renewed" in message
    assert "s-4 (sessions.rate_limited: 429)" in message
    assert "s-5" not in message
    assert "and 2 more" in message
