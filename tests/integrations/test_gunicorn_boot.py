"""gunicorn with several workers on a fresh SQLite database: the schema is created once, before
any worker serves, and every worker answers ``/readyz`` (no migration race at boot)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import httpx
import pytest

from blendkit.integrations.gunicorn import migrate_before_workers
from blendkit.store import Store

from .example_gunicorn import example_env, free_port, start_example, wait_until_up


@pytest.mark.e2e
def test_three_workers_on_a_fresh_sqlite_file_all_serve_readyz(tmp_path: Path) -> None:
    """Failed before: every worker migrated the new file at once, and the losers died on
    ``table … already exists`` (gunicorn then stopped: "Worker failed to boot")."""
    port = free_port()
    database = tmp_path / "fresh.sqlite3"
    access_log = tmp_path / "access.log"
    env = example_env(port, f"sqlite:///{database}")
    process = start_example(
        port, env, "--workers", "3", "--access-logfile", str(access_log),
        "--access-logformat", "%(p)s %(s)s %(U)s",
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    answers: list[int] = []
    try:
        wait_until_up(base, process)
        ready_pids: set[str] = set()
        for _ in range(400):  # new connections: the workers take turns accepting
            if process.poll() is not None or len(ready_pids) == 3:
                break
            try:
                answers.append(httpx.get(f"{base}/readyz", timeout=5).status_code)
            except httpx.TransportError:  # a worker died while answering
                answers.append(0)
            time.sleep(0.01)
            if access_log.exists():
                ready_pids = {
                    line.split()[0]
                    for line in access_log.read_text().splitlines()
                    if line.endswith(" 200 /readyz")
                }
    finally:
        process.terminate()
        _, stderr_bytes = process.communicate(timeout=30)
    stderr = stderr_bytes.decode()
    assert process.returncode == 0, stderr
    assert answers, stderr
    assert set(answers) == {200}, stderr
    assert len(ready_pids) == 3, f"workers that answered /readyz 200: {ready_pids}\n{stderr}"
    for marker in ("Traceback", "Error", "failed to boot", "already exists"):
        assert marker not in stderr, stderr
    assert stderr.count("blendkit: database migrated") == 1, "the master migrated once"


class _Server:
    def __init__(self) -> None:
        self.log = logging.getLogger("test.gunicorn.master")


def test_the_master_hook_migrates_a_fresh_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    monkeypatch.setenv("BLENDKIT_DATABASE_URL", url)
    monkeypatch.delenv("BLENDKIT_CONFIG", raising=False)
    migrate_before_workers(_Server())
    store = Store(url)
    try:
        assert store.pending_migrations() == []
    finally:
        store.dispose()


def test_the_master_hook_logs_one_line_when_the_database_is_down(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()  # nothing listens there
    monkeypatch.setenv("BLENDKIT_DATABASE_URL", f"postgresql+psycopg://nobody@127.0.0.1:{port}/x")
    monkeypatch.delenv("BLENDKIT_CONFIG", raising=False)
    with caplog.at_level(logging.INFO, logger="test.gunicorn.master"):
        migrate_before_workers(_Server())  # the workers start anyway; /readyz says 503
    lines = [r for r in caplog.records if r.name == "test.gunicorn.master"]
    assert len(lines) == 1
    assert lines[0].levelno == logging.WARNING
    assert "blendkit db upgrade" in lines[0].getMessage()
    assert not lines[0].exc_info
