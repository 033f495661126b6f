"""The example tool serves the operator routes and counts webhook outcomes."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy.exc import OperationalError

from blendkit.errors import StoreError
from blendkit.operations import add_outcome_listener, remove_outcome_listener
from tests.app.conftest import Tool


def test_example_app_serves_health_and_readiness(tool: Tool) -> None:
    assert tool.client.get("/healthz").get_json() == {"status": "ok"}
    assert tool.client.get("/readyz").get_json() == {"status": "ready"}


def test_a_refused_webhook_is_counted(tool: Tool) -> None:
    outcomes: list[tuple[str, str, str]] = []

    def listen(kind: str, provider: str, outcome: str) -> None:
        outcomes.append((kind, provider, outcome))

    add_outcome_listener(listen)
    try:
        answer = tool.client.post("/webhooks/fake", data=b"{}", content_type="application/json")
    finally:
        remove_outcome_listener(listen)
    assert answer.status_code >= 400
    assert outcomes == [("webhook", "fake", "rejected")]


def test_a_store_error_caused_by_an_outage_is_503_in_the_example(
    tool: Tool, caplog: pytest.LogCaptureFixture
) -> None:
    """Services wrap database errors in StoreError; the app's own error page still says 503."""

    @tool.app.get("/outage-probe")
    def probe() -> str:
        try:
            raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))
        except OperationalError as exc:
            raise StoreError("could not read records", code="store.error") from exc

    caplog.set_level(logging.INFO)
    caplog.clear()
    answer = tool.client.get("/outage-probe")
    assert answer.status_code == 503
    assert answer.headers["Retry-After"]
    assert len([r for r in caplog.records if r.levelno >= logging.INFO]) == 1
