"""Suspicion 12: a Teams change notification without ``subscriptionExpirationDateTime`` skipped
the staleness check.

Graph documents ``subscriptionExpirationDateTime`` as required on every change notification, so
a notification that lacks it (or carries something that is not a time) was not written by Graph:
it is refused like any other malformed body. When the provider has seen the subscription, the
expiry Graph holds for it bounds the claimed one: a replayed body whose expiry was edited forward
is still stale.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from blendkit_teams import Subscription, TeamsProvider
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blendkit.errors import WebhookRejected
from tests.fence import public_fence
from tests.plugins.graph_fake import GraphFake, notification, posted, teams_settings

ONLINE = "MSo1N2Y5ZGFjYy03MWJmLTQ3NDMtYjQxMy01M2EdFGkdRWHJlQ"
RECORDING = f"communications/onlineMeetings('{ONLINE}')/recordings('VjIjIzUzNzhhMzhk')"
RECEIVED = datetime(2026, 3, 3, 11, 0, 1, tzinfo=UTC)  # posted()'s received_at


def offline(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"notification handling must not call Graph ({request.url})")


@pytest.fixture
def provider() -> TeamsProvider:
    return TeamsProvider(
        teams_settings(),
        client=httpx.Client(transport=httpx.MockTransport(offline)),
        fence=public_fence(),
    )


def code_of(provider: TeamsProvider, item: dict[str, object]) -> str:
    with pytest.raises(WebhookRejected) as caught:
        provider.handle_webhook(posted([item]))
    return caught.value.code


def test_change_notification_without_expiry_is_refused(provider: TeamsProvider) -> None:
    item = notification(RECORDING)
    del item["subscriptionExpirationDateTime"]
    assert code_of(provider, item) == "sessions.webhook_malformed"


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.one_of(
        st.none(),
        st.integers(),
        st.booleans(),
        st.lists(st.text(max_size=5), max_size=2),
        st.text(max_size=40).filter(lambda t: not t[:4].isdigit()),
    )
)
def test_change_notification_with_an_unreadable_expiry_is_refused(
    provider: TeamsProvider, value: object
) -> None:
    item = {**notification(RECORDING), "subscriptionExpirationDateTime": value}
    assert code_of(provider, item) == "sessions.webhook_malformed"


def test_one_item_without_expiry_refuses_the_whole_delivery(provider: TeamsProvider) -> None:
    bare = notification(RECORDING)
    del bare["subscriptionExpirationDateTime"]
    with pytest.raises(WebhookRejected) as caught:
        provider.handle_webhook(posted([notification(RECORDING), bare]))
    assert caught.value.code == "sessions.webhook_malformed"


def graph_knowing(expires: datetime) -> TeamsProvider:
    """A provider whose Graph holds ``sub-1`` with ``expires``, and which has seen it."""
    fake = GraphFake()
    fake.add_subscription(
        f"communications/onlineMeetings/{ONLINE}/recordings", expires, sub_id="sub-1"
    )
    provider = TeamsProvider(
        teams_settings(),
        client=httpx.Client(transport=httpx.MockTransport(fake)),
        fence=public_fence(),
    )
    assert provider.subscriptions is not None
    provider.subscriptions.track(
        Subscription(
            id="sub-1",
            resource=f"communications/onlineMeetings/{ONLINE}/recordings",
            online_meeting_id=ONLINE,
            expires_at=expires,
            notification_url="https://tool.example.edu/webhooks/teams",
        )
    )
    return provider


def test_known_subscription_expiry_bounds_an_edited_one(provider: TeamsProvider) -> None:
    """A replay with the expiry edited forward is stale when the real subscription ended."""
    known = graph_knowing(RECEIVED - timedelta(hours=5))
    forged = {**notification(RECORDING), "subscriptionExpirationDateTime": "2026-03-09T00:00:00Z"}
    assert code_of(known, forged) == "sessions.webhook_stale"
    # A subscription the provider does not manage is judged by the notification's own expiry
    # (and Graph is not asked).
    other = {**forged, "subscriptionId": "sub-unknown"}
    assert len(provider.handle_webhook(posted([other])).events) == 1


def test_known_subscription_inside_the_redelivery_window_is_accepted() -> None:
    known = graph_knowing(RECEIVED - timedelta(hours=3))
    assert len(known.handle_webhook(posted([notification(RECORDING)])).events) == 1
