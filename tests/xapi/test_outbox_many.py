"""emit() of many statements: the same rows, ids and all-or-nothing on both databases, whether
the rows go in one INSERT or (PostgreSQL) in pipelined INSERTs of 100 serialised while the
server inserts the part before; where the pipeline would hide the statements or split the
commit (statement listeners, an autocommit connection) the rows go in one INSERT."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

from blendkit.errors import StatementInvalid
from blendkit.store import Store, _pipeline
from blendkit.store._pipeline import pipeline_ready
from blendkit.store._tables_xapi import xapi_outbox
from blendkit.xapi import Outbox

from .test_outbox import statements

MANY = 250  # three pipelined parts: 100, 100, 50


def _stored(store: Store) -> list[tuple[str, dict[str, Any]]]:
    c = xapi_outbox.c
    with store.engine.connect() as conn:
        rows = conn.execute(select(c.statement_id, c.payload).order_by(c.id)).all()
    return [(sid, orjson.loads(payload)) for sid, payload in rows]


def _count(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(xapi_outbox)).scalar_one())


def _inserts(store: Store) -> list[str]:
    """Collects the text of every INSERT into the outbox sent through Core from now on."""
    seen: list[str] = []

    @event.listens_for(store.engine, "before_cursor_execute")
    def _watch(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        if statement.startswith("INSERT INTO xapi_outbox"):
            seen.append(statement)

    return seen


def test_many_statements_are_stored_in_order_with_their_ids_and_json(store: Store) -> None:
    outbox = Outbox(store)
    batch = statements(MANY)
    ids = outbox.emit(batch)
    assert len(set(ids)) == len(ids) == MANY
    stored = _stored(store)
    assert [sid for sid, _ in stored] == ids
    for (sid, payload), original in zip(stored, batch, strict=True):
        assert payload["id"] == sid
        assert payload["object"] == orjson.loads(original.to_json())["object"]
        assert "timestamp" in payload
    assert outbox.status().pending == MANY


def test_an_id_repeated_across_parts_is_stored_once_the_first_time(store: Store) -> None:
    outbox = Outbox(store)
    batch = statements(MANY)
    fixed = uuid.uuid4()
    batch[5] = batch[5].model_copy(update={"id": fixed})  # in the first part of 100
    batch[230] = batch[230].model_copy(update={"id": fixed})  # and in the third
    outbox.emit(batch)
    stored = _stored(store)
    assert len(stored) == MANY - 1
    [(_, payload)] = [(sid, p) for sid, p in stored if sid == str(fixed)]
    assert payload["object"] == orjson.loads(batch[5].to_json())["object"]
    outbox.emit(batch)  # all queued already: nothing more
    assert _count(store) == MANY - 1


def test_a_refused_statement_late_in_the_list_writes_nothing(store: Store) -> None:
    outbox = Outbox(store)
    batch: list[Any] = [orjson.loads(s.to_json()) for s in statements(MANY)]
    del batch[-1]["verb"]  # the last one, in the last part, is not a statement
    with pytest.raises(StatementInvalid):
        outbox.emit(batch)
    assert _count(store) == 0


def test_many_statements_commit_with_the_callers_transaction_or_not_at_all(store: Store) -> None:
    outbox = Outbox(store)

    def app_change_fails() -> None:
        with store.transaction() as conn:
            outbox.emit(statements(MANY), session=conn)
            raise RuntimeError("the app's change fails after the emit")

    def unit_fails() -> None:
        with store.unit_of_work():
            outbox.emit(statements(MANY))
            raise RuntimeError("the unit fails after the emit")

    with pytest.raises(RuntimeError):
        app_change_fails()
    assert _count(store) == 0
    with pytest.raises(RuntimeError):
        unit_fails()
    assert _count(store) == 0
    with store.transaction() as conn:
        outbox.emit(statements(MANY), session=conn)
    assert _count(store) == MANY


def _postgres(store: Store) -> None:
    if not store.is_postgres:
        pytest.skip("pipeline mode is psycopg's (PostgreSQL)")


def test_postgres_sends_many_statements_in_pipelined_parts_of_100(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    _postgres(store)
    sent: list[int] = []
    real = _pipeline.run_pipelined

    def counting(conn: Any, sql: str, batches: Any) -> None:
        def watched() -> Any:
            for params in batches:
                sent.append(len(params[-1]))  # the JSON array of this part
                yield params

        real(conn, sql, watched())

    monkeypatch.setattr("blendkit.xapi._outbox_ops.run_pipelined", counting)
    outbox = Outbox(store)
    outbox.emit(statements(MANY))
    assert sent == [100, 100, 50]
    outbox.emit(statements(100))  # one part: a plain INSERT, no pipeline
    assert sent == [100, 100, 50]
    assert _count(store) == MANY + 100


def test_a_statement_listener_sees_every_insert_then_the_rows_go_in_one(store: Store) -> None:
    _postgres(store)
    seen = _inserts(store)  # a listener on the engine: tracing would see every statement
    Outbox(store).emit(statements(MANY))
    assert [("unnest" in text) for text in seen] == [True]
    assert _count(store) == MANY


def test_an_autocommit_connection_gets_one_insert_not_parts_committed_one_by_one(
    store: Store,
) -> None:
    _postgres(store)
    with store.autocommit() as conn:
        assert not pipeline_ready(conn)  # each part would commit on its own
        Outbox(store).emit(statements(MANY), session=conn)
    assert _count(store) == MANY


def test_a_transaction_block_is_pipeline_ready_and_opens_its_transaction(store: Store) -> None:
    _postgres(store)
    with store.transaction() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        assert raw.autocommit  # the block defers BEGIN to its first write
        assert pipeline_ready(conn)
        assert not raw.autocommit  # ... which is the pipelined INSERT


def test_a_database_error_in_a_later_part_rolls_back_every_part(store: Store) -> None:
    _postgres(store)
    outbox = Outbox(store)
    now = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    good = [(str(uuid.uuid4()), '{"secret": "learner answer"}') for _ in range(3)]
    bad = [(None, '{"secret": "learner answer"}')]  # no id: the NOT NULL constraint refuses it

    def insert() -> None:
        with store.transaction() as conn:
            assert pipeline_ready(conn)
            outbox._insert_pipelined(conn, [good, bad], now)  # type: ignore[list-item]

    with pytest.raises(IntegrityError) as raised:
        insert()
    assert "learner answer" not in str(raised.value)  # values are not repeated in errors
    assert "xapi_outbox" in str(raised.value)  # the table is named
    assert _count(store) == 0
    outbox.emit(statements(MANY))  # the pool's connection is usable again
    assert _count(store) == MANY


def test_a_failure_while_making_a_part_leaves_the_pipeline_and_rolls_back(store: Store) -> None:
    _postgres(store)
    outbox = Outbox(store)
    now = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def parts() -> Any:
        yield [(str(uuid.uuid4()), "{}")]
        raise OSError("the caller's source of statements failed")

    def insert() -> None:
        with store.transaction() as conn:
            assert pipeline_ready(conn)
            outbox._insert_pipelined(conn, parts(), now)

    with pytest.raises(OSError, match="source of statements"):
        insert()
    assert _count(store) == 0
    outbox.emit(statements(MANY))  # nothing of the failed block is left on the connection
    assert _count(store) == MANY


def test_statements_without_id_or_timestamp_get_random_ids_and_the_emit_time(
    store: Store,
) -> None:
    clock = 1_800_000_000.5
    outbox = Outbox(store, clock=lambda: clock)
    batch = [s.model_copy(update={"id": None, "timestamp": None}) for s in statements(MANY)]
    ids = outbox.emit(batch)
    parsed = [uuid.UUID(sid) for sid in ids]
    assert {(u.version, u.variant) for u in parsed} == {(4, uuid.RFC_4122)}
    assert len(set(parsed)) == MANY
    for (sid, payload), original in zip(_stored(store), batch, strict=True):
        expected = orjson.loads(original.to_json())
        expected.update(id=sid, timestamp="2027-01-15T08:00:00.500000Z")
        assert payload == expected


def test_a_statement_with_id_and_timestamp_is_stored_as_its_own_json(store: Store) -> None:
    outbox = Outbox(store)
    given = [
        s.model_copy(update={"id": uuid.uuid4(), "timestamp": datetime(2026, 3, 1, tzinfo=UTC)})
        for s in statements(3)
    ]
    outbox.emit(given)
    with store.engine.connect() as conn:
        stored = conn.execute(select(xapi_outbox.c.payload).order_by(xapi_outbox.c.id)).scalars()
        assert [p.encode() for p in stored] == [s.to_json() for s in given]
