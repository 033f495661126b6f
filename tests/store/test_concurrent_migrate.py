"""Several processes migrating one fresh SQLite file at once: they take turns (a file lock
beside the database), so each finds the schema either missing or current, never half-built."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from blendkit.store import Store


def _migrate(url: str, start: object) -> None:
    start.wait()  # type: ignore[attr-defined]
    store = Store(url)
    try:
        store.migrate()
    finally:
        store.dispose()


def test_four_processes_migrate_a_fresh_sqlite_file_at_once(tmp_path: Path) -> None:
    """Failed before: the processes raced through the DDL and all but one died on
    ``table lti_platforms already exists``."""
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    processes = [context.Process(target=_migrate, args=(url, start)) for _ in range(4)]
    for process in processes:
        process.start()
    start.set()
    for process in processes:
        process.join(120)
    assert [p.exitcode for p in processes] == [0, 0, 0, 0]
    store = Store(url)
    try:
        assert store.pending_migrations() == []
    finally:
        store.dispose()
    assert (tmp_path / "fresh.sqlite3.migrate-lock").exists()
