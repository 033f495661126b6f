"""How the Store's engine connects: SQLite pragmas and a private database file, the idle ping of
pooled PostgreSQL connections, and the hooks that open a transaction at its first write."""

from __future__ import annotations

import os
from time import monotonic
from typing import Any

from sqlalchemy import Engine, Select, event
from sqlalchemy.exc import DisconnectionError


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    # WAL lets readers proceed while one process writes; NORMAL sync is durable across a crash
    # of the process (fsync at checkpoints), which is what the outbox needs.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _create_private_file(database: str | None) -> None:
    """Create a new SQLite database file readable by its owner only (0600).

    The database holds the tool's keys, secrets and learners' records. SQLite creates its -wal
    and -shm files with the permissions of the database file, so they are 0600 too. The file is
    created with its mode (never chmod-ed after it was written); an existing file keeps the mode
    its owner gave it.
    """
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    try:
        fd = os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError:
        return  # a missing directory or no permission: SQLite names the problem on connect
    os.close(fd)


_IDLE_SINCE = "blendkit_idle_since"


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Check a pooled connection before use when it sat idle for ``idle_seconds`` or longer.

    A connection the server dropped while it waited in the pool (a restart, a fail-over, an idle
    timeout in a proxy) is replaced before the request sees it, as ``pool_pre_ping`` does; but a
    connection handed back moments ago, which is every checkout under load, goes straight to work
    instead of paying a round trip to the server first.
    """
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop(_IDLE_SINCE, None)
        if since is None or monotonic() - since < idle_seconds:
            return  # just opened, or back in the pool a moment ago
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            # The pool drops this connection and checks out a fresh one.
            raise DisconnectionError(f"pooled connection failed its ping: {exc}") from exc


_BEGIN_AT_FIRST_WRITE = "blendkit_begin_at_first_write"


def _begin_at_first_write(cursor: Any, context: Any) -> None:
    """In a :meth:`Store.transaction` or :meth:`Store.unit_of_work` block on PostgreSQL (which
    starts in autocommit), send BEGIN with the first statement that is not a plain SELECT.

    Under READ COMMITTED, PostgreSQL's default, each statement reads its own fresh snapshot and a
    plain SELECT takes no lock, whether or not a transaction is open: the reads before the first
    write see exactly what they would see inside the transaction. Everything from the first
    write (or locking read, savepoint, or textual statement) on runs in one transaction that
    commits or rolls back as a whole. A block that only reads then costs no BEGIN and COMMIT
    round trips at all.

    It runs as a dialect ``do_execute`` hook, and the blocks switch the driver's autocommit
    themselves: connection events, or an engine with an isolation-level option, would put every
    statement on SQLAlchemy's slower event-dispatching path.
    """
    raw = cursor.connection
    if not raw.autocommit:
        return  # an ordinary connection, or the transaction is already open
    if context is None or not context.root_connection.info.get(_BEGIN_AT_FIRST_WRITE):
        return  # Store.autocommit(): every statement commits on its own
    compiled = context.compiled
    statement = compiled.statement if compiled is not None else None
    # SQLAlchemy has no public accessor for FOR UPDATE; pyproject bounds it (sqlalchemy<2.2) and
    # tests/test_dependency_internals.py exercises this line on every run.
    if isinstance(statement, Select) and statement._for_update_arg is None:
        return  # a plain read: runs on its own snapshot, as it would inside
    raw.autocommit = False  # the driver sends BEGIN before this statement


def begin_deferred(connection: Any) -> bool:
    """Before a write sent on ``connection``'s driver connection directly (not through Core,
    so past the hook above): open the transaction a :meth:`Store.transaction` block deferred
    to its first write. True when the driver connection is in a transaction (opened here or
    before); False when it is in autocommit (a :meth:`Store.autocommit` block), where every
    statement would commit on its own."""
    raw = connection.connection.driver_connection
    if raw.autocommit and connection.info.get(_BEGIN_AT_FIRST_WRITE):
        raw.autocommit = False  # the driver sends BEGIN before the next statement
    return not raw.autocommit


def _on_execute(cursor: Any, _statement: Any, _parameters: Any, context: Any) -> None:
    _begin_at_first_write(cursor, context)


def _on_execute_no_params(cursor: Any, _statement: Any, context: Any) -> None:
    _begin_at_first_write(cursor, context)


def _back_to_normal(dbapi_connection: Any, record: Any) -> None:
    """Pool ``checkin`` hook: a connection leaves the pool's hands as it came (not in autocommit,
    no begin-at-first-write mark), whatever block used it. The pool rolled back before."""
    record.info.pop(_BEGIN_AT_FIRST_WRITE, None)
    if dbapi_connection is None or dbapi_connection.closed:
        return  # invalidated: the pool opens a new one next time
    if dbapi_connection.autocommit:
        dbapi_connection.autocommit = False


_DIALECT_HOOKS = (
    ("do_execute", _on_execute),
    ("do_executemany", _on_execute),
    ("do_execute_no_params", _on_execute_no_params),
)
