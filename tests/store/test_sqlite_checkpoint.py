"""SQLite checkpoints run in a thread of the store's own, not inside whichever commit crosses
SQLite's threshold: the database file catches up with the log shortly after writes, with no
further commit; connections keep automatic checkpoints only as a safety net; the thread backs
off when nothing is written, stops with the store, and starts again in a forked child."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from blendkit.store import Store
from blendkit.store._checkpoint import SAFETY_NET_PAGES, checkpointer_for

_NAME = "blendkit-sqlite-checkpoint"


def _rows_in_database_file(path: Path) -> int:
    """Rows of table ``t`` in the database file alone: ``immutable`` reads ignore the log."""
    uri = f"file:{path}?immutable=1"
    with sqlite3.connect(uri, uri=True) as conn:
        try:
            return int(conn.execute("SELECT count(*) FROM t").fetchone()[0])
        except sqlite3.OperationalError:  # the table itself is still only in the log
            return -1


def _file_reaches(path: Path, rows: int, seconds: float = 10) -> bool:
    """Whether the database file alone holds ``rows`` rows within ``seconds``."""
    deadline = time.monotonic() + seconds
    while _rows_in_database_file(path) != rows:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == _NAME and t.is_alive()]


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "store.sqlite3"


def test_the_database_file_catches_up_without_another_commit(path: Path) -> None:
    store = Store(f"sqlite:///{path}")
    try:
        with store.transaction() as conn:
            conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)"))
        with store.transaction() as conn:
            for _ in range(50):
                conn.execute(text("INSERT INTO t (body) VALUES (:b)"), {"b": "x" * 1000})
        # 50 rows are far below the connections' own threshold: only the thread copies them.
        assert _file_reaches(path, 50)
    finally:
        store.dispose()


def test_connections_checkpoint_by_themselves_only_as_a_safety_net(path: Path) -> None:
    store = Store(f"sqlite:///{path}")
    try:
        with store.engine.connect() as conn:
            pages = conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one()
        assert pages == SAFETY_NET_PAGES
    finally:
        store.dispose()


def test_the_thread_backs_off_while_nothing_is_written(path: Path) -> None:
    store = Store(f"sqlite:///{path}")
    try:
        with store.transaction() as conn:
            conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        checkpoints = store._checkpoints
        assert checkpoints is not None
        time.sleep(1.0)  # long enough to reach the idle wait
        before = checkpoints.passes
        time.sleep(2.0)
        # 0.05 s apart it would have looked 40 times; backed off to 1 s it looks two or three.
        assert checkpoints.passes - before <= 4
        with store.transaction() as conn:
            conn.execute(text("INSERT INTO t DEFAULT VALUES"))
        assert _file_reaches(path, 1, seconds=5)
    finally:
        store.dispose()


def test_dispose_stops_the_thread_and_memory_databases_have_none(path: Path) -> None:
    before = len(_threads())
    store = Store(f"sqlite:///{path}")
    with store.transaction() as conn:
        conn.execute(text("SELECT 1"))
    assert len(_threads()) == before + 1
    store.dispose()
    assert len(_threads()) == before
    assert checkpointer_for(":memory:") is None
    assert checkpointer_for("file:shared?mode=memory&cache=shared") is None
    memory = Store("sqlite://")
    with memory.transaction() as conn:
        conn.execute(text("SELECT 1"))
    assert len(_threads()) == before
    memory.dispose()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX's")
def test_a_forked_child_checkpoints_in_a_thread_of_its_own(path: Path) -> None:
    store = Store(f"sqlite:///{path}")
    try:
        with store.transaction() as conn:
            conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)"))
        pid = os.fork()
        if pid == 0:  # the child: no thread came with the fork; its first connection starts one
            code = 1
            try:
                store.engine.dispose(close=False)
                with store.transaction() as conn:
                    conn.execute(text("INSERT INTO t (body) VALUES ('from the child')"))
                code = 0 if _file_reaches(path, 1) and _threads() else 2
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    finally:
        store.dispose()


def test_a_collected_store_stops_its_thread_for_good(path: Path) -> None:
    import gc

    before = len(_threads())
    store = Store(f"sqlite:///{path}")
    engine = store.engine  # the engine outlives the store
    with store.transaction() as conn:
        conn.execute(text("SELECT 1"))
    assert len(_threads()) == before + 1
    del store, conn
    gc.collect()
    deadline = time.monotonic() + 5
    while len(_threads()) > before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(_threads()) == before
    engine.dispose()
    with engine.connect() as conn2:  # a new connection on the engine starts no thread
        conn2.exec_driver_sql("SELECT 1")
    assert len(_threads()) == before
    engine.dispose()
