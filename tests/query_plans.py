"""Record the statements sent to the database that touch one table, ask the database for their
plans (``EXPLAIN`` on PostgreSQL, ``EXPLAIN QUERY PLAN`` on SQLite) and name full scans."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event

from blendkit.store import Store


@contextmanager
def table_queries(engine: Engine, table: str) -> Iterator[list[tuple[str, Any]]]:
    """Every SELECT / UPDATE / DELETE sent to the database that names ``table``."""
    seen: list[tuple[str, Any]] = []

    def record(_c: Any, _cur: Any, statement: str, parameters: Any, _ctx: Any, _many: Any) -> None:
        head = statement.lstrip().split(None, 1)[0].upper()
        if re.search(rf"\b{table}\b", statement) and head in {"SELECT", "UPDATE", "DELETE", "WITH"}:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def plans(store: Store, queries: list[tuple[str, Any]]) -> list[tuple[str, str]]:
    """Each statement with its plan, in a transaction rolled back afterwards."""
    found = []
    raw = store.engine.raw_connection()
    try:
        cursor = raw.cursor()
        for statement, parameters in queries:
            if store.is_postgres:
                cursor.execute("EXPLAIN " + statement, parameters)
                plan = "\n".join(row[0] for row in cursor.fetchall())
            else:
                cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
                plan = "\n".join(str(row[-1]) for row in cursor.fetchall())
            found.append((statement, plan))
        raw.rollback()
    finally:
        raw.close()
    return found


def full_scans(store: Store, table: str, found: list[tuple[str, str]]) -> list[str]:
    """The statements whose plan reads all of ``table`` (a sequential scan, or SQLite's SCAN
    without an index)."""
    postgres = re.compile(rf"Seq Scan on {table}\b")
    sqlite = re.compile(rf"^SCAN {table}\b(?!.*USING)")
    bad = []
    for statement, plan in found:
        lines = plan.splitlines()
        if store.is_postgres:
            hit = any(postgres.search(line) for line in lines)
        else:
            hit = any(sqlite.search(line.strip()) for line in lines)
        if hit:
            bad.append(f"{statement}\n{plan}")
    return bad
