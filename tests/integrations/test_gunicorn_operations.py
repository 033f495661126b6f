"""The example under gunicorn with two workers: JSON logs without credentials, and one
``/metrics`` scrape that adds up what every worker served (multi-process mode)."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from .example_gunicorn import example_env, free_port, start_example, wait_until_up

TOKEN = "scrape-token-0123456789abcdef"
LAUNCH_SECRET = "LAUNCHxSECRETx0001"


def _until_both_workers_served(base: str, metrics_dir: Path) -> int:
    """Concurrent requests, in rounds, until both workers have written samples (which worker
    accepts a connection is the kernel's choice): the number of requests sent."""
    sent = 0
    deadline = time.monotonic() + 60
    with httpx.Client(timeout=5) as client, ThreadPoolExecutor(8) as pool:
        while True:
            answers = list(
                pool.map(lambda _: client.get(f"{base}/lti/jwks?launch={LAUNCH_SECRET}"), range(8))
            )
            assert all(a.status_code == 200 for a in answers)
            sent += len(answers)
            pids = {p.name.split("_")[-1] for p in metrics_dir.iterdir()}
            if len(pids) >= 2 or time.monotonic() > deadline:
                return sent


@pytest.mark.e2e
def test_two_workers_json_logs_and_one_scrape_for_all(tmp_path: Path, postgres_url: str) -> None:
    port = free_port()
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    access_log = tmp_path / "access.log"
    env = example_env(
        port,
        postgres_url,  # the gunicorn master migrates before it forks the workers
        TOOL_LOG_FORMAT="json",
        METRICS_TOKEN=TOKEN,
    )
    env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    process = start_example(port, env, "--workers", "2", "--access-logfile", str(access_log))
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, process)
        assert httpx.get(f"{base}/readyz", timeout=5).status_code == 200
        sent = _until_both_workers_served(base, metrics_dir)
        assert httpx.get(f"{base}/metrics", timeout=5).status_code == 401
        scrape = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert scrape.status_code == 200
        for _ in range(50):  # gunicorn writes the access log after answering
            if access_log.read_text().count("\n") >= sent + 3:
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
    assert counts["blendkit_lti.jwks"] == sent, "one scrape sums both workers"
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
