"""DriverStatement: a hot statement run on the driver behaves as it does on a Core connection
(rows, errors, hidden values, dropped connections, units of work), and steps aside where the
shortcut would hide something (statement listeners, echo, SQLite, converted types)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    create_engine,
    event,
    insert,
    literal,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.types import TypeDecorator

from blendkit.store import Store
from blendkit.store._driver import DriverStatement, driver_ready

_meta = MetaData()
_notes = Table(
    "driver_notes",
    _meta,
    Column("id", Integer, primary_key=True),
    Column("sub", String(64), nullable=False, unique=True),
    Column("body", String(200), nullable=False),
)


class _Shouted(TypeDecorator[str]):
    """A type SQLAlchemy converts on the way out (as an encrypted or JSON column may be)."""

    impl = String(200)
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else str(value).upper()


_docs = Table(
    "driver_docs", _meta, Column("id", Integer, primary_key=True), Column("doc", _Shouted())
)

_ADD = DriverStatement(
    insert(_notes)
    .values(sub=bindparam("sub"), body=bindparam("body"))
    .returning(_notes.c.id, _notes.c.sub, literal("added").label("how"))
)
_READ = DriverStatement(select(_notes.c.sub, _notes.c.body).where(_notes.c.sub == bindparam("sub")))


@pytest.fixture
def tables(store: Store) -> Iterator[Store]:
    _meta.create_all(store.engine)
    yield store
    _meta.drop_all(store.engine)


def _statements(store: Store) -> list[str]:
    seen: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


def test_rows_come_back_by_column_name_and_commit_on_their_own(tables: Store) -> None:
    (row,) = _ADD.rows(tables, {"sub": "learner-1", "body": "first"})
    assert (row.sub, row.how) == ("learner-1", "added")
    assert isinstance(row.id, int)
    # Committed: another connection sees it.
    with tables.engine.connect() as other:
        assert other.execute(text("SELECT body FROM driver_notes")).scalar_one() == "first"
    assert [r.body for r in _READ.rows(tables, {"sub": "learner-1"})] == ["first"]
    assert _READ.rows(tables, {"sub": "nobody"}) == []


def test_a_missing_parameter_is_an_error_not_a_null(tables: Store) -> None:
    with pytest.raises(Exception) as caught:
        _ADD.rows(tables, {"sub": "learner-1"})
    assert "body" in str(caught.value)
    assert _READ.rows(tables, {"sub": "learner-1"}) == []


def test_a_constraint_error_is_sqlalchemys_with_no_value_in_its_text(tables: Store) -> None:
    _ADD.rows(tables, {"sub": "secret-sub-4711", "body": "x"})
    with pytest.raises(IntegrityError) as caught:
        _ADD.rows(tables, {"sub": "secret-sub-4711", "body": "y"})
    assert "secret-sub-4711" not in str(caught.value)
    assert "secret-sub-4711" not in str(caught.value.orig)
    # The pool stays usable: the next statement runs.
    assert len(_READ.rows(tables, {"sub": "secret-sub-4711"})) == 1


def test_inside_a_unit_of_work_it_joins_the_unit(tables: Store) -> None:
    def failing_unit() -> None:
        with tables.unit_of_work():
            _ADD.rows(tables, {"sub": "learner-2", "body": "in the unit"})
            raise RuntimeError("the unit fails after the statement")

    with pytest.raises(RuntimeError):
        failing_unit()
    assert _READ.rows(tables, {"sub": "learner-2"}) == []  # rolled back with the unit
    with tables.unit_of_work():
        _ADD.rows(tables, {"sub": "learner-3", "body": "kept"})
        with pytest.raises(IntegrityError):
            _ADD.rows(tables, {"sub": "learner-3", "body": "again"}, savepoint=True)
        _ADD.rows(tables, {"sub": "learner-4", "body": "after the failure"})
    assert len(_READ.rows(tables, {"sub": "learner-3"})) == 1
    assert len(_READ.rows(tables, {"sub": "learner-4"})) == 1


def test_the_driver_path_is_taken_on_postgres_only_when_nothing_watches_statements(
    tables: Store,
) -> None:
    assert driver_ready(tables) is tables.is_postgres
    seen = _statements(tables)  # a listener (tracing does this): every statement on Core
    assert driver_ready(tables) is False
    _ADD.rows(tables, {"sub": "learner-5", "body": "seen"})
    assert any("driver_notes" in statement for statement in seen)


def test_a_type_sqlalchemy_converts_is_refused_when_compiled(tables: Store) -> None:
    statement = DriverStatement(select(_docs.c.doc))
    with tables.transaction() as conn:
        conn.execute(insert(_docs).values(doc="quiet"))
    if not tables.is_postgres:  # the Core path converts it
        assert [r.doc for r in statement.rows(tables, {})] == ["QUIET"]
        return
    with pytest.raises(TypeError, match="doc"):
        statement.rows(tables, {})


def test_a_connection_the_server_dropped_is_replaced_after_one_failure(
    postgres_url: str,
) -> None:
    store = Store(postgres_url, ping_after_idle_seconds=3600)  # no ping: the statement meets it
    store.migrate()
    _meta.create_all(store.engine)
    try:
        with store.transaction() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        admin.dispose()
        time.sleep(0.1)
        with pytest.raises(OperationalError) as caught:
            _READ.rows(store, {"sub": "x"})
        assert caught.value.connection_invalidated
        assert _READ.rows(store, {"sub": "x"}) == []  # a new connection
    finally:
        _meta.drop_all(store.engine)
        store.dispose()
