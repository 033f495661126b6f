"""One holder at a time, across the processes and hosts that share a database.

:func:`exclusively` is for periodic upkeep that cron may start on several hosts at once (the
meeting provider's event subscriptions, which two sweeps would both find missing and both make):
the first caller holds the name for its block, the others learn at once that they do not and
skip the work instead of waiting.

PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) on a connection kept for
the block; a process that dies releases it with its connection. SQLite: a lock file beside the
database file (``<file>.<name>.lock``), released by the operating system when a process dies; an
in-memory database is one process's, so a lock of that process.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from filelock import FileLock, Timeout
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from blendkit.store._store import Store

__all__ = ["exclusively"]

_IN_PROCESS: dict[tuple[int, str], threading.Lock] = {}
_IN_PROCESS_GUARD = threading.Lock()


def _key(name: str) -> int:
    """A signed 64-bit advisory lock key for ``name`` (its own namespace: ``blendkit:``)."""
    digest = hashlib.sha256(f"blendkit:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def exclusively(store: Store, name: str) -> Iterator[bool]:
    """Hold ``name`` for the block when no other process (or thread) holds it: yields True then,
    False at once when another does (do not do the work; it is being done)."""
    if store.is_postgres:
        with _postgres(store, name) as held:
            yield held
        return
    path = store.lock_file(f".{name}.lock")
    if path is None:
        with _in_process(store, name) as held:
            yield held
        return
    lock = FileLock(str(path), mode=0o600, timeout=0)
    with _held(_file_acquired(lock), lock.release) as held:
        yield held


def _file_acquired(lock: FileLock) -> bool:
    try:
        lock.acquire()
    except Timeout:
        return False
    return True


@contextmanager
def _held(acquired: bool, release: Callable[[], object]) -> Iterator[bool]:
    """Yield whether the lock was taken, and release it after the block when it was."""
    if not acquired:
        yield False
        return
    try:
        yield True
    finally:
        release()


@contextmanager
def _postgres(store: Store, name: str) -> Iterator[bool]:
    key = {"key": _key(name)}
    with store.autocommit() as conn:
        held = bool(conn.execute(text("SELECT pg_try_advisory_lock(:key)"), key).scalar_one())
        try:
            yield held
        finally:
            if held:
                try:
                    conn.execute(text("SELECT pg_advisory_unlock(:key)"), key)
                except SQLAlchemyError:
                    # A session lock outlives ROLLBACK: a connection that could not unlock is
                    # closed rather than pooled, which releases it.
                    conn.invalidate()


@contextmanager
def _in_process(store: Store, name: str) -> Iterator[bool]:
    with _IN_PROCESS_GUARD:
        lock = _IN_PROCESS.setdefault((id(store), name), threading.Lock())
    with _held(lock.acquire(blocking=False), lock.release) as held:
        yield held
