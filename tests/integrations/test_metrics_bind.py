"""``[metrics] bind``: Prometheus metrics on their own address instead of the public port
(real HTTP: a single process, and gunicorn where the master serves every worker's samples)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError
from werkzeug.serving import make_server

from blendkit import Settings, Store
from blendkit.config import load_settings
from blendkit.errors import ConfigError
from blendkit.integrations.flask import Blendkit
from tests.integrations.conftest import AppFactory

from .example_gunicorn import example_env, free_port, start_example, wait_until_up

TOKEN = "metrics-token-0123456789abcdef"


def _count(text: str, name: str, endpoint: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels.get("endpoint") == endpoint:
                return sample.value
    return 0.0


@pytest.fixture
def serve() -> Iterator[list[object]]:
    servers: list[object] = []
    yield servers
    for server in servers:
        stop = getattr(server, "shutdown", None) or server.close  # type: ignore[attr-defined]
        stop()


def _close_with(app: Flask, servers: list[object]) -> None:
    """The metrics server the app started stops with the test."""
    metrics = Blendkit.state(app).metrics
    assert metrics is not None
    assert metrics.server is not None, "this process serves the bind address"
    servers.append(metrics.server)


def _serve_public(app: object, servers: list[object]) -> str:
    server = make_server("127.0.0.1", 0, app, threaded=True)  # type: ignore[arg-type]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    servers.append(server)
    return f"http://127.0.0.1:{server.server_port}"


def test_a_single_process_serves_metrics_on_the_bind_address_only(
    make_app: AppFactory, sqlite_store: Store, serve: list[object]
) -> None:
    port = free_port()
    app = make_app(sqlite_store, metrics={"bind": f"127.0.0.1:{port}"})
    _close_with(app, serve)
    public = _serve_public(app, serve)
    before = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    assert httpx.get(f"{public}/page").status_code == 200
    assert httpx.get(f"{public}/metrics").status_code == 404, "never on the public port"
    scrape = httpx.get(f"http://127.0.0.1:{port}/metrics")
    assert scrape.status_code == 200
    assert scrape.headers["content-type"].startswith("text/plain")
    name = "blendkit_page_duration_seconds_count"
    assert _count(scrape.text, name, "page") == _count(before, name, "page") + 1
    assert "blendkit_outbox" not in scrape.text  # no outbox watched by this app
    assert httpx.get(f"http://127.0.0.1:{port}/other").status_code == 404


def test_a_token_also_guards_the_bind_address(
    make_app: AppFactory, sqlite_store: Store, serve: list[object]
) -> None:
    port = free_port()
    app = make_app(sqlite_store, metrics={"bind": f"127.0.0.1:{port}", "token": TOKEN})
    _close_with(app, serve)
    public = _serve_public(app, serve)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert httpx.get(f"{public}/metrics", headers=auth).status_code == 404
    assert httpx.get(f"http://127.0.0.1:{port}/metrics").status_code == 401
    assert httpx.get(f"http://127.0.0.1:{port}/metrics", headers=auth).status_code == 200


@pytest.mark.parametrize("bind", ["9464", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:70000", ":9464"])
def test_a_malformed_bind_is_refused(bind: str) -> None:
    with pytest.raises(ValidationError, match=r"metrics\.bind|bind"):
        Settings(metrics={"bind": bind})


@pytest.mark.parametrize("bind", ["127.0.0.1:9464", "[::1]:9464", "localhost:9464"])
def test_loopback_binds_are_accepted(bind: str) -> None:
    assert Settings(metrics={"bind": bind}).metrics.bind == bind


def test_production_refuses_a_public_bind_without_a_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Safe by default: metrics on every interface would be readable by anyone who reaches
    the host; a non-loopback address needs the token (or development)."""
    monkeypatch.setenv("BLENDKIT_METRICS_BIND", "0.0.0.0:9464")
    with pytest.raises(ConfigError, match=r"metrics\.bind"):
        load_settings()
    monkeypatch.setenv("BLENDKIT_METRICS_TOKEN", TOKEN)
    assert load_settings().metrics.bind == "0.0.0.0:9464"
    monkeypatch.delenv("BLENDKIT_METRICS_TOKEN")
    monkeypatch.setenv("BLENDKIT_TOOL_ENVIRONMENT", "development")
    assert load_settings().metrics.bind == "0.0.0.0:9464"


@pytest.mark.e2e
def test_gunicorn_serves_every_workers_samples_on_the_bind_address(tmp_path: Path) -> None:
    port, metrics_port = free_port(), free_port()
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    env = example_env(
        port, f"sqlite:///{tmp_path / 'tool.sqlite3'}", METRICS_BIND=f"127.0.0.1:{metrics_port}"
    )
    env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    process = start_example(port, env, "--workers", "2")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, process)
        for _ in range(20):  # new connections: both workers take some
            assert httpx.get(f"{base}/lti/jwks", timeout=5).status_code == 200
        public = httpx.get(f"{base}/metrics", timeout=5)
        scrape = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5)
    finally:
        process.terminate()
        _, stderr_bytes = process.communicate(timeout=30)
    stderr = stderr_bytes.decode()
    assert process.returncode == 0, stderr
    assert public.status_code == 404, "never on the public port"
    assert scrape.status_code == 200, stderr
    assert _count(scrape.text, "blendkit_launch_duration_seconds_count", "blendkit_lti.jwks") == 20
    assert "blendkit_outbox_statements" in scrape.text, "the master reads the outbox too"
    assert stderr.count(f"metrics on http://127.0.0.1:{metrics_port}/metrics") == 1, stderr
    assert "Traceback" not in stderr
