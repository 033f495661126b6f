"""``/metrics``: Prometheus text behind a bearer token; absent without one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError

from blendkit import Settings, Store
from blendkit.integrations.flask import Blendkit
from blendkit.operations import record_outcome
from blendkit.operations.metrics import Metrics
from blendkit.xapi import Outbox
from tests.integrations.conftest import AppFactory

TOKEN = "metrics-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def _app(make_app: AppFactory, store: Store) -> Flask:
    return make_app(store, metrics={"token": TOKEN})


def test_no_token_configured_means_no_metrics_route(
    make_app: AppFactory, sqlite_store: Store
) -> None:
    app = make_app(sqlite_store)
    assert app.test_client().get("/metrics", headers=AUTH).status_code == 404


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer wrong-token-0123456789abcdef", f"Basic {TOKEN}", TOKEN,
     f"Bearer {TOKEN}x"],
)  # fmt: skip
def test_metrics_need_the_bearer_token(
    make_app: AppFactory, sqlite_store: Store, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    answer = _app(make_app, sqlite_store).test_client().get("/metrics", headers=headers)
    assert answer.status_code == 401
    assert "blendkit_" not in answer.get_data(as_text=True)
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_short_token_is_refused_at_start_up() -> None:
    with pytest.raises(ValidationError, match="16 characters"):
        Settings(metrics={"token": "short"})


def test_page_latency_is_a_histogram_per_route(make_app: AppFactory, sqlite_store: Store) -> None:
    client = _app(make_app, sqlite_store).test_client()
    before = _samples(client.get("/metrics", headers=AUTH).get_data(as_text=True))
    for _ in range(3):
        assert client.get("/page").status_code == 200
    client.get("/lti/jwks")
    client.get("/no/such/page")
    client.get("/healthz")
    after = _samples(client.get("/metrics", headers=AUTH).get_data(as_text=True))

    def grew(name: str, endpoint: str) -> float:
        key = (name, (("endpoint", endpoint),))
        return after.get(key, 0) - before.get(key, 0)

    assert grew("blendkit_page_duration_seconds_count", "page") == 3
    assert grew("blendkit_launch_duration_seconds_count", "blendkit_lti.jwks") == 1
    assert grew("blendkit_page_duration_seconds_count", "unmatched") == 1
    assert grew("blendkit_page_duration_seconds_count", "blendkit_ops.healthz") == 0
    endpoints = {dict(labels).get("endpoint") for (_, labels) in after}
    assert "/no/such/page" not in endpoints, "labels are route names, never raw paths"


def test_outbox_counts_and_breaker_are_read_at_scrape_time(
    make_app: AppFactory, store: Store
) -> None:
    app = _app(make_app, store)
    outbox = Outbox(store)
    Blendkit.watch_outbox(outbox, app)
    client = app.test_client()
    statement = {
        "actor": {"mbox": "mailto:a@example.edu"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
        "object": {"id": "http://tool.test/item/1"},
    }
    outbox.emit(statement)
    outbox.emit({**statement, "object": {"id": "http://tool.test/item/2"}})
    samples = _samples(client.get("/metrics", headers=AUTH).get_data(as_text=True))
    endpoint = outbox.breaker.name
    assert (
        samples[("blendkit_outbox_statements", (("endpoint", endpoint), ("state", "pending")))] == 2
    )
    assert samples[("blendkit_outbox_statements", (("endpoint", endpoint), ("state", "dead")))] == 0
    assert samples[("blendkit_outbox_oldest_pending_age_seconds", (("endpoint", endpoint),))] >= 0
    assert (
        samples[("blendkit_outbox_breaker_state", (("endpoint", endpoint), ("state", "closed")))]
        == 1
    )
    assert samples[("blendkit_outbox_up", (("endpoint", endpoint),))] == 1


def test_outcomes_are_counted_by_provider_and_outcome(
    make_app: AppFactory, sqlite_store: Store
) -> None:
    client = _app(make_app, sqlite_store).test_client()
    key = ("blendkit_webhook_outcomes_total", (("outcome", "rejected"), ("provider", "zoom")))
    before = _samples(client.get("/metrics", headers=AUTH).get_data(as_text=True)).get(key, 0)
    record_outcome("webhook", "zoom", "rejected")
    record_outcome("ags", "https://lms.example.edu", "sent")
    after = _samples(client.get("/metrics", headers=AUTH).get_data(as_text=True))
    assert after[key] == before + 1
    ags = (
        "blendkit_ags_outcomes_total",
        (("outcome", "sent"), ("platform", "https://lms.example.edu")),
    )
    assert after[ags] >= 1


WORKER = """
from blendkit.operations.metrics import Metrics
from blendkit.operations import record_outcome
Metrics.observe_request("page", 0.02, launch=False)
record_outcome("webhook", "teams", "accepted")
"""


def test_multi_process_mode_sums_every_worker(tmp_path: Path) -> None:
    """Under gunicorn each worker writes its own files; any worker's scrape adds them up."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _ in range(2):  # two worker processes
        subprocess.run([sys.executable, "-c", WORKER], env=env, check=True)
    samples = _samples(Metrics(multiprocess_dir=str(tmp_path)).exposition()[0].decode())
    assert samples[("blendkit_page_duration_seconds_count", (("endpoint", "page"),))] == 2
    key = ("blendkit_webhook_outcomes_total", (("outcome", "accepted"), ("provider", "teams")))
    assert samples[key] == 2
