"""The Starlette adapter in-process (httpx over ASGITransport): routes, lifespan, errors in the
host app's idiom, body cap, CSRF, roles, outage and metrics."""

from __future__ import annotations

import logging
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from blendkit import Store
from tests.integrations.starlette.conftest import (
    INSTRUCTOR,
    LEARNER,
    METRICS_TOKEN,
    a_launch,
    build_app,
    serving,
)

pytestmark = pytest.mark.anyio

LOGIN = {
    "iss": "https://lms.example.edu",
    "login_hint": "learner-1",
    "target_link_uri": "http://tool.test/lti/launch",
}


async def test_operator_routes_and_public_lti_documents(sqlite_store: Store) -> None:
    app, _ = build_app(sqlite_store)
    async with serving(app) as client:
        health = await client.get("/healthz")
        ready = await client.get("/readyz")
        jwks = await client.get("/lti/jwks")
        canvas = await client.get("/lti/canvas.json")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
    assert health.headers["cache-control"] == "no-store"
    assert jwks.status_code == 200
    assert jwks.headers["cache-control"] == "public, max-age=300"
    assert {k["kty"] for k in jwks.json()["keys"]} == {"RSA"}
    assert all("d" not in key for key in jwks.json()["keys"])
    assert canvas.json()["oidc_initiation_url"] == "http://tool.test/lti/login"


async def test_lifespan_builds_the_runtime_and_closes_its_clients(sqlite_store: Store) -> None:
    app, bk = build_app(sqlite_store)
    with pytest.raises(RuntimeError, match=r"lifespan=bk\.lifespan"):
        _ = bk.runtime
    async with app.router.lifespan_context(app):
        runtime = bk.runtime
        assert runtime.async_client is not None
        assert not runtime.async_client.is_closed
    assert runtime.async_client.is_closed
    assert runtime.http_client.is_closed
    with pytest.raises(RuntimeError, match="not started"):
        _ = bk.runtime


async def test_launch_must_be_posted_and_names_its_reason(sqlite_store: Store) -> None:
    app, _ = build_app(sqlite_store)
    async with serving(app) as client:
        got = await client.get("/lti/launch")
        posted = await client.post("/lti/launch", data={"state": "x"})
    assert got.status_code == 405
    assert "lti.bad_launch_request" in got.text
    assert posted.status_code == 400
    assert "lti.missing_id_token" in posted.text
    assert posted.headers["content-type"].startswith("text/html")
    assert posted.headers["cache-control"] == "no-store"


async def test_host_json_routes_answer_blendkit_errors_in_json(sqlite_store: Store) -> None:
    app, _ = build_app(sqlite_store)
    async with serving(app) as client:
        plain = await client.get("/api/me")
        browser = await client.get("/api/me", headers={"Accept": "text/html"})
    assert plain.status_code == 401
    assert plain.headers["content-type"].startswith("application/json")
    assert plain.json()["error"] == "lti.launch_session_expired"
    assert "open the tool from the LMS" in plain.json()["message"]
    assert browser.status_code == 401
    assert browser.headers["content-type"].startswith("text/html")


async def test_kept_launch_serves_the_host_route_and_roles_are_enforced(
    sqlite_store: Store,
) -> None:
    app, bk = build_app(sqlite_store)
    async with serving(app) as client:
        learner_id = bk.runtime.launches.save(a_launch(LEARNER, sub="learner-7"))
        teacher_id = bk.runtime.launches.save(a_launch(INSTRUCTOR, sub="teacher-2"))
        me = await client.get("/api/me", params={"launch": learner_id})
        by_header = await client.get("/api/me", headers={"X-Blendkit-Launch": teacher_id})
        refused = await client.get("/api/teach", params={"launch": learner_id})
        allowed = await client.get("/api/teach", params={"launch": teacher_id})
        unknown = await client.get("/api/me", params={"launch": "no-such-launch"})
    assert me.json() == {"sub": "learner-7", "tenant": a_launch().tenant.key}
    assert by_header.json()["sub"] == "teacher-2"
    assert refused.status_code == 403
    assert refused.json()["error"] == "lti.role_required"
    assert allowed.json() == {"sub": "teacher-2"}
    assert unknown.status_code == 401


async def test_host_forms_need_the_csrf_token_of_their_launch(sqlite_store: Store) -> None:
    app, bk = build_app(sqlite_store)
    async with serving(app) as client:
        mine = bk.runtime.launches.save(a_launch(LEARNER, sub="learner-3"))
        other = bk.runtime.launches.save(a_launch(LEARNER, sub="learner-4"))
        missing = await client.post("/api/answer", data={"launch": mine})
        foreign = await client.post(
            "/api/answer", data={"launch": mine, "csrf": bk.csrf_token(other)}
        )
        good = await client.post("/api/answer", data={"launch": mine, "csrf": bk.csrf_token(mine)})
        header = await client.post(
            "/api/answer",
            params={"launch": mine},
            headers={"X-CSRF-Token": bk.csrf_token(mine)},
        )
    assert (missing.status_code, missing.json()["error"]) == (403, "app.csrf_failed")
    assert (foreign.status_code, foreign.json()["error"]) == (403, "app.csrf_failed")
    assert good.json() == {"saved_for": "learner-3"}
    assert header.json() == {"saved_for": "learner-3"}


async def test_declared_body_above_the_cap_is_refused_before_it_is_read(
    sqlite_store: Store,
) -> None:
    app, _ = build_app(sqlite_store, tool={"max_request_bytes": 4096, "max_webhook_bytes": 1024})
    read: list[int] = []

    async def body() -> AsyncIterator[bytes]:
        for _ in range(4):
            read.append(1)
            yield b"x" * 1000

    async with serving(app) as client:
        small = await client.post("/echo", content=b"x" * 4000)
        declared = await client.post(
            "/lti/login", content=b"x" * 2000, headers={"Content-Type": "text/plain"}
        )
        streamed = await client.post(
            "/lti/login",
            content=body(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        streamed_page = await client.post("/echo", content=body())
    assert small.json() == {"received": 4000}
    assert declared.status_code == 413
    assert "1024 bytes" in declared.text
    assert streamed.status_code == 413
    assert "request.too_large" in streamed.text
    assert len(read) < 8  # the login's 4 chunks, then the page's 4: cut after the second
    # The page cap (4096) is above the 4000 bytes streamed: the host route reads it whole.
    assert streamed_page.json() == {"received": 4000}


async def test_chunked_body_is_cut_at_the_cap_on_host_routes(sqlite_store: Store) -> None:
    app, _ = build_app(sqlite_store, tool={"max_request_bytes": 2048, "max_webhook_bytes": 1024})
    sent: list[int] = []

    async def body() -> AsyncIterator[bytes]:
        for _ in range(50):
            sent.append(1)
            yield b"y" * 1000

    async with serving(app) as client:
        answer = await client.post("/echo", content=body())
    assert answer.status_code == 413
    assert answer.json()["error"] == "request.too_large"
    assert len(sent) <= 4  # the stream was cut at the cap, not read to its end


async def test_a_body_cut_at_the_cap_is_logged_once(
    sqlite_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    # The cap answers 413 and the route's own error handler then sees the same error: one
    # refusal, one log line.
    app, _ = build_app(sqlite_store, tool={"max_request_bytes": 2048, "max_webhook_bytes": 1024})

    async def body() -> AsyncIterator[bytes]:
        for _ in range(50):
            yield b"y" * 1000

    with caplog.at_level(logging.WARNING, logger="blendkit"):
        async with serving(app) as client:
            answer = await client.post("/echo", content=body())
    assert answer.status_code == 413
    refusals = [r for r in caplog.records if "request.too_large" in r.getMessage()]
    assert len(refusals) == 1, [r.getMessage() for r in refusals]


async def test_a_framework_parsing_the_body_cannot_turn_the_cap_into_a_400(
    sqlite_store: Store,
) -> None:
    # FastAPI answers 400 for any error while it reads a body parameter; the cap answers first.
    app, _ = build_app(sqlite_store, tool={"max_request_bytes": 2048, "max_webhook_bytes": 1024})

    async def note() -> AsyncIterator[bytes]:
        yield b'{"text": "'
        for _ in range(10):
            yield b"z" * 500
        yield b'"}'

    async with serving(app) as client:
        small = await client.post("/api/notes", json={"text": "short"})
        large = await client.post(
            "/api/notes", content=note(), headers={"Content-Type": "application/json"}
        )
    assert small.json() == {"length": 5}
    assert large.status_code == 413
    assert large.json()["error"] == "request.too_large"


async def test_database_outage_is_503_with_retry_after_and_one_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    directory = tmp_path / "db"
    directory.mkdir()
    store = Store(f"sqlite:///{directory / 'tool.sqlite3'}")
    store.migrate()
    app, _ = build_app(store)
    async with serving(app) as client:
        store.engine.dispose()
        shutil.rmtree(directory)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="blendkit.web"):
            page = await client.get("/page")
            launch = await client.post("/lti/login", data=LOGIN)
            ready = await client.get("/readyz")
    store.dispose()
    assert page.status_code == 503
    assert page.headers["retry-after"]
    assert page.json()["error"] == "store.unavailable"
    assert launch.status_code == 503
    assert launch.headers["retry-after"]
    assert "store.unavailable" in launch.text
    assert ready.status_code == 503
    outage_lines = [r for r in caplog.records if "database unavailable" in r.getMessage()]
    assert [r.getMessage().split(":")[0] for r in outage_lines] == [
        "database unavailable on GET /page",
        "database unavailable on POST /lti/login",
    ]
    assert all("Traceback" not in r.getMessage() for r in outage_lines)


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer wrong-token-0123456789abcdef", f"Basic {METRICS_TOKEN}",
     METRICS_TOKEN, f"Bearer {METRICS_TOKEN}x"],
)  # fmt: skip
async def test_metrics_need_the_bearer_token(
    sqlite_store: Store, authorization: str | None
) -> None:
    app, _ = build_app(sqlite_store, metrics={"token": METRICS_TOKEN})
    headers = {} if authorization is None else {"Authorization": authorization}
    async with serving(app) as client:
        answer = await client.get("/metrics", headers=headers)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == 'Bearer realm="metrics"'
    assert METRICS_TOKEN not in answer.text


async def test_metrics_count_requests_by_route(sqlite_store: Store) -> None:
    app, _ = build_app(sqlite_store, metrics={"token": METRICS_TOKEN})
    async with serving(app) as client:
        await client.get("/lti/jwks")
        await client.post("/lti/launch", data={"state": "x"})
        await client.get("/healthz")
        scrape = await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert scrape.status_code == 200
    assert scrape.headers["cache-control"] == "no-store"
    names = {labels for (name, labels) in _samples(scrape.text) if name.endswith("_count")}
    endpoints = {dict(labels).get("endpoint") for labels in names}
    assert {"blendkit_lti.jwks", "blendkit_lti.launch"} <= endpoints
    assert not endpoints & {"blendkit_ops.healthz", "healthz"}


async def test_no_metrics_route_without_a_token(sqlite_store: Store) -> None:
    app, _ = build_app(sqlite_store)
    async with serving(app) as client:
        answer = await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert answer.status_code == 404


async def test_one_adapter_serves_one_app(sqlite_store: Store) -> None:
    from fastapi import FastAPI

    _, bk = build_app(sqlite_store)
    with pytest.raises(RuntimeError, match="another app"):
        bk.install(FastAPI())


async def test_secrets_never_reach_the_log(
    sqlite_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    app, bk = build_app(sqlite_store, metrics={"token": METRICS_TOKEN})
    with caplog.at_level(logging.DEBUG):
        async with serving(app) as client:
            launch_id = bk.runtime.launches.save(a_launch(LEARNER))
            token = bk.csrf_token(launch_id)
            await client.post("/api/answer", data={"launch": launch_id, "csrf": "forged"})
            await client.get("/metrics", headers={"Authorization": "Bearer wrong-token-0123456"})
            await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (METRICS_TOKEN, "starlette-test-secret", token, launch_id):
        assert secret not in logged


def test_httpx_transport_is_real() -> None:
    # Guard: the in-process tests above use httpx's ASGI transport, not a mock of the adapter.
    assert httpx.ASGITransport.__module__.startswith("httpx")
