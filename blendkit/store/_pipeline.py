"""Writes sent in psycopg's pipeline mode: the server runs one statement while the caller
prepares the next one's parameters.

A batch of queued rows is mostly two kinds of work that need not wait for each other: the
caller's (validating, serialising) and the server's (inserting, updating four indexes). Sent
as one statement, they take turns; sent as several statements in pipeline mode, the server
works on the first part while the caller prepares the second, on the other core. Measured for
2,000 queued xAPI statements in four ``emit`` calls of 500 (docs/xapi/outbox.md): 171 ms in
one statement per call, 105 ms in pipelined statements of 100.

:func:`pipeline_ready` says whether a connection allows it: PostgreSQL through psycopg with a
libpq that has pipeline mode, nothing watching the Core path (``echo``, statement listeners:
they would not see these statements) and the connection in a transaction (the statements
commit together, with the caller's other work, or not at all).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection

from blendkit.store._driver import driver_error, engine_driver_ready
from blendkit.store._engine import begin_deferred

__all__ = ["pipeline_ready", "run_pipelined"]


def pipeline_ready(conn: Connection) -> bool:
    """Whether :func:`run_pipelined` may send statements on ``conn`` (see the module
    docstring). Opens the transaction a :meth:`~blendkit.store.Store.transaction` block
    deferred to its first write."""
    if not engine_driver_ready(conn.engine):
        return False
    import psycopg  # the driver engine_driver_ready found

    if not psycopg.Pipeline.is_supported():  # libpq older than 14
        return False
    return begin_deferred(conn)


def run_pipelined(conn: Connection, sql: str, batches: Iterable[Sequence[Any]]) -> None:
    """Run ``sql`` once for each parameter tuple of ``batches``, in pipeline mode, on ``conn``
    (which :func:`pipeline_ready` accepted).

    ``batches`` is consumed lazily: each tuple is made while the server runs the statement
    before it. An error raised while making one (a statement that fails validation) leaves
    the pipeline and reaches the caller as it is; the transaction is the caller's to roll back.
    A database error comes out as on the Core path (SQLAlchemy's class, parameters hidden)."""
    fairy = conn.connection
    raw = fairy.driver_connection
    assert raw is not None
    dialect = conn.dialect
    cursor = raw.cursor()
    try:
        with raw.pipeline():
            for params in batches:
                cursor.execute(sql, params)
    except dialect.loaded_dbapi.Error as exc:
        raise driver_error(dialect, sql, exc, fairy, cursor) from exc
    finally:
        if not cursor.closed:
            cursor.close()
