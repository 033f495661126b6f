"""``request.lti_launch``, ``lti_launch_required`` (with roles) and the metrics token."""

from __future__ import annotations

import httpx
import pytest
from django.test import Client

from blendkit.integrations.django import (
    DjangoRuntime,
    close_runtime,
    lti_launch_required,
    watch_notifications,
    watch_outbox,
)
from blendkit.notify import NotificationQueue
from blendkit.xapi import Outbox
from tests.integrations.django.conftest import Install, a_launch
from tests.integrations.example_gunicorn import free_port


def test_lazy_launch_is_none_without_a_launch_and_the_launch_with_one(
    runtime: DjangoRuntime, client: Client
) -> None:
    assert client.get("/lazy").json() == {"sub": None}
    launch_id = runtime.launches.save(a_launch(sub="learner-7"))
    assert client.get("/lazy", {"launch": launch_id}).json() == {"sub": "learner-7"}
    by_header = client.get("/lazy", headers={"X-Blendkit-Launch": launch_id})
    assert by_header.json() == {"sub": "learner-7"}


def test_the_tenant_is_the_launchs_deployment(runtime: DjangoRuntime, client: Client) -> None:
    assert client.get("/tenant").json() == {"tenant": None}
    one = a_launch(deployment="school-1")
    other = a_launch(deployment="school-2")
    keys = [
        client.get("/tenant", {"launch": runtime.launches.save(launch)}).json()["tenant"]
        for launch in (one, other)
    ]
    assert keys == [one.tenant.key, other.tenant.key]
    assert keys[0] != keys[1]


def test_lazy_launch_refuses_an_unknown_id(runtime: DjangoRuntime, client: Client) -> None:
    answer = client.get("/lazy", {"launch": "forged"}, headers={"Accept": "application/json"})
    assert (answer.status_code, answer.json()["error"]) == (401, "lti.launch_session_expired")


def test_a_page_needs_a_launch(runtime: DjangoRuntime, client: Client) -> None:
    refused = client.get("/course", headers={"Accept": "text/html"})
    assert refused.status_code == 401
    assert "lti.launch_session_expired" in refused.content.decode()
    launch_id = runtime.launches.save(a_launch(sub="s9"))
    assert client.get("/course", {"launch": launch_id}).json() == {"sub": "s9"}


def test_a_role_restricted_page_refuses_other_roles(runtime: DjangoRuntime, client: Client) -> None:
    learner = runtime.launches.save(a_launch("Learner"))
    teacher = runtime.launches.save(a_launch("Instructor", sub="t1"))
    refused = client.get("/teach", {"launch": learner}, headers={"Accept": "application/json"})
    assert (refused.status_code, refused.json()["error"]) == (403, "lti.role_required")
    assert client.get("/teach", {"launch": teacher}).json() == {"sub": "t1"}


def test_an_unknown_role_name_fails_at_import_time() -> None:
    with pytest.raises(ValueError, match="unknown role"):
        lti_launch_required(roles=["teacher"])


def test_metrics_need_the_bearer_token(install: Install, client: Client) -> None:
    install(metrics={"token": "scrape-secret-0123456789"})
    client.get("/lti/jwks")
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert wrong.headers["WWW-Authenticate"].startswith("Bearer")
    scraped = client.get("/metrics", headers={"Authorization": "Bearer scrape-secret-0123456789"})
    assert scraped.status_code == 200
    text = scraped.content.decode()
    assert 'blendkit_page_duration_seconds_count{endpoint="blendkit:jwks"}' in text
    assert "scrape-secret-0123456789" not in text


def test_launches_are_timed_apart_and_the_outbox_is_reported(
    install: Install, client: Client
) -> None:
    runtime = install(metrics={"token": "scrape-secret-0123456789"})
    client.post("/lti/launch", {"state": "x"})
    watch_outbox(Outbox.from_settings(runtime.settings, store=runtime.store))
    text = client.get(
        "/metrics", headers={"Authorization": "Bearer scrape-secret-0123456789"}
    ).content.decode()
    assert 'blendkit_launch_duration_seconds_count{endpoint="blendkit:launch"}' in text
    assert 'blendkit_outbox_breaker_trips_total{endpoint="LRS (none configured)"}' in text


def test_the_notification_queue_is_reported(install: Install, client: Client) -> None:
    runtime = install(metrics={"token": "scrape-secret-0123456789"})
    watch_notifications(NotificationQueue(runtime.store), notifiers=["email"])
    text = client.get(
        "/metrics", headers={"Authorization": "Bearer scrape-secret-0123456789"}
    ).content.decode()
    assert 'blendkit_notify_reminders{state="pending"} 0.0' in text
    assert 'blendkit_notify_outcomes_total{notifier="email",outcome="sent"} 0.0' in text
    assert "blendkit_notify_up 1.0" in text


def test_metrics_are_not_served_without_a_token(runtime: DjangoRuntime, client: Client) -> None:
    assert client.get("/metrics", headers={"Authorization": "Bearer x"}).status_code == 404


def test_metrics_on_a_bind_address_are_not_on_the_public_routes(
    install: Install, client: Client
) -> None:
    """``[metrics] bind``: the runtime serves /metrics on its own address (real HTTP) and the
    project's ``metrics`` route answers 404, token or not."""
    port = free_port()
    token = "scrape-secret-0123456789"
    install(metrics={"bind": f"127.0.0.1:{port}", "token": token})
    client.get("/lti/jwks")
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/metrics", headers=bearer).status_code == 404
    scraped = httpx.get(f"http://127.0.0.1:{port}/metrics", headers=bearer)
    assert scraped.status_code == 200
    assert 'blendkit_page_duration_seconds_count{endpoint="blendkit:jwks"}' in scraped.text
    assert httpx.get(f"http://127.0.0.1:{port}/metrics").status_code == 401
    install(metrics={"bind": f"127.0.0.1:{port}"})  # a new runtime takes the address over
    assert httpx.get(f"http://127.0.0.1:{port}/metrics").status_code == 200
    close_runtime()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/metrics")
