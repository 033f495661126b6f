"""SQLite's write-ahead log copied into the database file from a thread of its own.

In WAL mode SQLite appends every commit to the ``-wal`` file and, by default, the commit that
takes the log past 1,000 pages also copies it into the database file and syncs both (an
automatic checkpoint) before it returns. That commit is whichever request or delivery batch
happens to cross the line: a mark of 100 delivered statements then took 10–27 ms instead of
2–3 ms, and a quarter of the outbox's flush was checkpoints (docs/xapi/outbox.md).

A :class:`Checkpointer` takes that work off the committing threads. The store's connections
checkpoint automatically only past :data:`SAFETY_NET_PAGES` (a safety net should the thread
stop); a daemon thread with a connection of its own runs a ``PASSIVE`` checkpoint — it never
blocks a reader or a writer — every :attr:`Checkpointer.busy_seconds` while commits keep
coming, backing off to :attr:`Checkpointer.idle_seconds` when nothing was written. What a
power loss can take back under ``synchronous=NORMAL`` (the commits not yet checkpointed) is
then the last ``busy_seconds`` of writes rather than the last 1,000 pages.

The thread starts with the first connection a process opens (a child forked after the store
was made starts its own), and stops with :meth:`~blendkit.store.Store.dispose` or when the
store is garbage collected.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from typing import Any
from urllib.request import pathname2url

__all__ = ["SAFETY_NET_PAGES", "Checkpointer", "checkpointer_for"]

log = logging.getLogger("blendkit.store.checkpoint")

SAFETY_NET_PAGES = 10_000
"""Pages (4 KB each) after which a commit still checkpoints by itself: about 40 MB of log."""


class Checkpointer:
    """Checkpoints the SQLite database at ``path`` from a daemon thread (see the module
    docstring). Install :meth:`on_connect` as the engine's ``connect`` hook."""

    busy_seconds = 0.05
    """How often the log is copied while commits keep coming."""
    idle_seconds = 1.0
    """The longest wait between two looks at a log that did not change."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.passes = 0
        """Checkpoints run so far in this process (for tests and metrics)."""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._closed = False

    def on_connect(self, dbapi_connection: Any, _record: Any) -> None:
        """Pool ``connect`` hook: automatic checkpoints only as a safety net, and the thread
        running in this process."""
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA wal_autocheckpoint={SAFETY_NET_PAGES}")
        cursor.close()
        self.start()

    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive() and self._pid == os.getpid()

    def start(self) -> None:
        """Start the thread unless it runs in this process already."""
        with self._lock:
            if self.running or self._closed:
                return
            self._pid = os.getpid()
            self._stop = threading.Event()
            self._thread = threading.Thread(
                target=self._run,
                args=(self._stop,),
                name="blendkit-sqlite-checkpoint",
                daemon=True,
            )
            self._thread.start()

    def stop(self, *, wait: bool = True, final: bool = False) -> None:
        """Stop the thread (after the checkpoint it may be running), waiting for it if
        ``wait``. A new connection starts it again, unless ``final`` (the store is gone: its
        engine, if still in use elsewhere, keeps the connections' own safety net)."""
        self._closed = self._closed or final
        self._stop.set()
        thread = self._thread
        if wait and thread is not None and thread.is_alive() and self._pid == os.getpid():
            thread.join(timeout=5)

    def _run(self, stop: threading.Event) -> None:
        try:
            # mode=rw: never creates the file (it would not get the store's 0600 mode)
            uri = f"file:{pathname2url(os.path.abspath(self.path))}?mode=rw"
            conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            log.warning("sqlite checkpoints: cannot open %s (%s); commits checkpoint by "
                        "themselves past %d pages", self.path, exc, SAFETY_NET_PAGES)  # fmt: skip
            return
        wait, last = self.busy_seconds, None
        try:
            while not stop.wait(wait):
                row = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                self.passes += 1
                if row == last:  # nothing written since the last look
                    wait = min(wait * 2, self.idle_seconds)
                else:
                    wait, last = self.busy_seconds, row
        except sqlite3.Error as exc:  # the file went away, or is no longer a WAL database
            log.warning("sqlite checkpoints stopped for %s (%s); commits checkpoint by "
                        "themselves past %d pages", self.path, exc, SAFETY_NET_PAGES)  # fmt: skip
        finally:
            conn.close()


def checkpointer_for(database: str | None) -> Checkpointer | None:
    """A checkpointer for a SQLite database file (None for an in-memory or URI database,
    which keeps SQLite's own checkpoints)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Checkpointer(database)
