"""The example under gunicorn with two workers: JSON logs without credentials, and one
``/metrics`` scrape that adds up what every worker served (multi-process mode)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")
TOKEN = "scrape-token-0123456789abcdef"
LAUNCH_SECRET = "LAUNCHxSECRETx0001"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.e2e
def test_two_workers_json_logs_and_one_scrape_for_all(tmp_path: Path, postgres_url: str) -> None:
    port = _free_port()
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    access_log = tmp_path / "access.log"
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "BLENDKIT_DATABASE_URL": postgres_url,  # workers migrate at start under a lock
        "BLENDKIT_TOOL_BASE_URL": f"http://127.0.0.1:{port}",
        "BLENDKIT_TOOL_SECRET_KEY": "gunicorn-test-secret-0123456789abcdef",
        "BLENDKIT_TOOL_KEY_ENCRYPTION_KEYS": f'["{Fernet.generate_key().decode()}"]',
        "BLENDKIT_TOOL_LOG_FORMAT": "json",
        "BLENDKIT_METRICS_TOKEN": TOKEN,
    }
    process = subprocess.Popen(
        [
            str(GUNICORN),
            "--config", str(ROOT / "examples" / "flask_app" / "gunicorn.conf.py"),
            "--bind", f"127.0.0.1:{port}",
            "--workers", "2",
            "--access-logfile", str(access_log),
            "blendkit_examples.flask_app.wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        assert httpx.get(f"{base}/readyz", timeout=5).status_code == 200
        for _ in range(20):  # new connections: both workers take some
            httpx.get(f"{base}/lti/jwks?launch={LAUNCH_SECRET}", timeout=5)
        assert httpx.get(f"{base}/metrics", timeout=5).status_code == 401
        scrape = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert scrape.status_code == 200
        for _ in range(50):  # gunicorn writes the access log after answering
            if access_log.read_text().count("\n") >= 23:
                break
            time.sleep(0.1)
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0
    counts = {
        sample.labels["endpoint"]: sample.value
        for family in text_string_to_metric_families(scrape.text)
        for sample in family.samples
        if sample.name == "blendkit_launch_duration_seconds_count"
    }
    assert counts["blendkit_lti.jwks"] == 20, "one scrape sums both workers"
    assert "blendkit_outbox_statements" in scrape.text
    pids = {p.name.split("_")[-1] for p in metrics_dir.iterdir()}
    assert len(pids) >= 2, "both workers wrote samples"

    lines = access_log.read_text().splitlines()
    assert lines
    for line in lines:
        entry = json.loads(line)  # every access line is one JSON object
        assert LAUNCH_SECRET not in line
    assert any("launch=[redacted]" in json.loads(line)["message"] for line in lines)
    for line in stderr.decode().splitlines():
        json.loads(line)  # gunicorn's error log and the tool's own lines are JSON too
    assert entry["logger"] == "gunicorn.access"
