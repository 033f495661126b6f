"""What every adapter must do besides LTI: body caps, refusals in the right idiom, health,
readiness (and 503 without a database), metrics behind a token."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conformance.deployment import (
    MAX_LTI_BYTES,
    MAX_REQUEST_BYTES,
    METRICS_TOKEN,
    ToolUnderTest,
    launch,
)

pytestmark = pytest.mark.e2e

JSON_FIRST = {"Accept": "application/json"}


@pytest.mark.parametrize(
    ("path", "cap"),
    [("/lti/launch", MAX_LTI_BYTES), ("/conformance/score", MAX_REQUEST_BYTES)],
)
def test_a_body_over_the_cap_is_413_before_it_is_read(
    tool: ToolUnderTest, client: httpx.Client, path: str, cap: int
) -> None:
    answer = client.post(tool.path(path), data={"state": "x" * (cap + 1)})
    assert answer.status_code == 413, answer.text
    assert "request.too_large" in answer.text


def test_a_body_under_the_cap_is_read(tool: ToolUnderTest, client: httpx.Client) -> None:
    answer = client.post(tool.path("/lti/launch"), data={"state": "x" * (MAX_LTI_BYTES // 2)})
    assert answer.status_code == 400
    assert "lti.missing_id_token" in answer.text


def test_blendkit_routes_refuse_with_the_error_page(
    tool: ToolUnderTest, client: httpx.Client
) -> None:
    # Even a client that prefers JSON gets the page: it is what the LMS frame shows.
    answer = client.post(tool.path("/lti/launch"), data={"state": "x"}, headers=JSON_FIRST)
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.headers["cache-control"] == "no-store"
    assert "<code>lti.missing_id_token</code>" in answer.text


def test_the_host_apps_json_route_refuses_in_json(
    tool: ToolUnderTest, client: httpx.Client
) -> None:
    answer = client.get(tool.path("/conformance/api"), headers=JSON_FIRST)
    assert answer.status_code == 401, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    assert "lti.launch_session_expired" in answer.text
    assert "<html" not in answer.text.lower()
    answer.json()  # a JSON document, whatever its shape


def test_the_host_apps_json_route_serves_a_launch(
    tool: ToolUnderTest, client: httpx.Client
) -> None:
    first = launch(client, tool, user="student-5", role="learner").json()
    answer = client.get(
        tool.path("/conformance/api"), params={"launch": first["launch_id"]}, headers=JSON_FIRST
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["sub"] == "student-5"


def test_health_and_readiness(tool: ToolUnderTest, client: httpx.Client) -> None:
    health = client.get(tool.path("/healthz"))
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    ready = client.get(tool.path("/readyz"))
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})


def test_without_its_database_the_tool_is_alive_but_not_ready(
    tool: ToolUnderTest, client: httpx.Client
) -> None:
    tool.remove_database()
    assert client.get(tool.path("/healthz")).status_code == 200
    ready = client.get(tool.path("/readyz"))
    assert ready.status_code == 503, ready.text
    assert ready.json()["status"] == "unavailable"
    assert int(ready.headers["retry-after"]) > 0
    # A login needs the database for its state: 503 with Retry-After, not a 500.
    start = client.get(tool.platform.launch_url(user="student-6", role="learner"))
    refused = client.get(start.headers["location"])
    assert refused.status_code == 503, refused.text
    assert int(refused.headers["retry-after"]) > 0
    assert "store.unavailable" in refused.text


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", f"Basic {METRICS_TOKEN}"])
def test_metrics_need_the_token(
    tool: ToolUnderTest, client: httpx.Client, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    answer = client.get(tool.path("/metrics"), headers=headers)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert "blendkit_" not in answer.text


def test_metrics_with_the_token_count_launches(tool: ToolUnderTest, client: httpx.Client) -> None:
    launch(client, tool, user="student-7", role="learner").json()
    answer = client.get(tool.path("/metrics"), headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    launches = [
        sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
        if sample.name == "blendkit_launch_duration_seconds_count"
    ]
    assert sum(launches) >= 1, answer.text


def test_a_chunked_body_over_the_cap_is_never_read_whole(
    tool: ToolUnderTest, client: httpx.Client
) -> None:
    """A body of unknown length (chunked) larger than the cap: the adapter cuts it off at the
    cap (413), or its server does not hand a body without a length to the app at all (the
    launch then has no id_token). Reading it, or parsing its first part, is the failure."""

    def chunks() -> Iterator[bytes]:
        yield b"id_token=not.a.jwt&state=x&pad="
        for _ in range(MAX_LTI_BYTES // 1024 + 2):
            yield b"x" * 1024

    answer = client.post(
        tool.path("/lti/launch"),
        content=chunks(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    if answer.status_code == 413:
        assert "request.too_large" in answer.text
    else:
        assert answer.status_code in {400, 411}, answer.text
        assert answer.status_code == 411 or "lti.missing_id_token" in answer.text
