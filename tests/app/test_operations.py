"""The example tool serves the operator routes and counts webhook outcomes."""

from __future__ import annotations

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
