"""PostgreSQL: a transaction opens at its first write. Reads before it cost no BEGIN/COMMIT; from
the first write on, the block commits or rolls back as a whole, as before."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import Connection, create_engine, func, select, text

from blendkit.store import Store
from blendkit.store._tables_core import lti_nonces

LATER = datetime.fromtimestamp(time.time() + 600, UTC)


@pytest.fixture
def pg(postgres_url: str) -> Iterator[Store]:
    store = Store(postgres_url)
    store.migrate()
    yield store
    store.dispose()


def _status(conn: Connection) -> TransactionStatus:
    raw = conn.connection.dbapi_connection
    assert raw is not None
    return TransactionStatus(raw.info.transaction_status)


def _insert(conn: Connection, nonce: str) -> None:
    conn.execute(lti_nonces.insert().values(issuer="https://lms", nonce=nonce, expires_at=LATER))


def _count(store: Store) -> int:
    """Rows as another connection sees them (never the open unit's)."""
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(lti_nonces)).scalar_one())


def test_a_block_that_only_reads_opens_no_transaction(pg: Store) -> None:
    with pg.unit_of_work() as unit:
        unit.execute(select(lti_nonces.c.nonce)).all()
        assert _status(unit) is TransactionStatus.IDLE
        with pg.transaction() as inner:
            inner.execute(select(func.count()).select_from(lti_nonces)).scalar_one()
        assert _status(unit) is TransactionStatus.IDLE
    with pg.transaction() as conn:
        conn.execute(select(lti_nonces.c.nonce)).all()
        assert _status(conn) is TransactionStatus.IDLE


def test_the_first_write_opens_the_transaction_and_later_reads_see_it(pg: Store) -> None:
    with pg.unit_of_work() as unit:
        unit.execute(select(lti_nonces.c.nonce)).all()
        _insert(unit, "a")
        assert _status(unit) is TransactionStatus.INTRANS
        assert unit.execute(select(lti_nonces.c.nonce)).scalars().all() == ["a"]
        assert _count(pg) == 0, "other connections see nothing before the commit"
    assert _count(pg) == 1


def test_reads_then_writes_then_an_error_leave_nothing(pg: Store) -> None:
    def failing_request() -> None:
        with pg.unit_of_work() as unit:
            unit.execute(select(lti_nonces.c.nonce)).all()
            _insert(unit, "a")
            unit.execute(select(lti_nonces.c.nonce)).all()
            _insert(unit, "b")
            raise RuntimeError("the request failed after two writes")

    with pytest.raises(RuntimeError):
        failing_request()
    assert _count(pg) == 0
    with pg.unit_of_work() as unit:  # the pooled connection is clean for the next request
        assert _status(unit) is TransactionStatus.IDLE
        _insert(unit, "c")
    assert _count(pg) == 1


def test_locking_reads_and_textual_statements_run_inside_the_transaction(
    pg: Store, postgres_url: str
) -> None:
    other = create_engine(postgres_url)
    try:
        with pg.unit_of_work() as unit:
            unit.execute(text("SELECT pg_advisory_xact_lock(4242)"))
            assert _status(unit) is TransactionStatus.INTRANS
            with other.connect() as conn:
                held = conn.execute(text("SELECT pg_try_advisory_lock(4242)")).scalar_one()
            assert held is False, "the transaction-scoped lock is held until the unit ends"
        with other.connect() as conn:
            assert conn.execute(text("SELECT pg_try_advisory_xact_lock(4242)")).scalar_one()
        with pg.transaction() as conn:
            conn.execute(select(lti_nonces.c.nonce).with_for_update()).all()
            assert _status(conn) is TransactionStatus.INTRANS
    finally:
        other.dispose()


def test_a_savepoint_inside_a_reading_unit_opens_the_transaction(pg: Store) -> None:
    with pg.unit_of_work() as unit:
        unit.execute(select(lti_nonces.c.nonce)).all()

        def failing_block() -> None:
            with pg.transaction(savepoint=True) as inner:
                _insert(inner, "undone")
                raise RuntimeError("only the savepoint is undone")

        with pytest.raises(RuntimeError):
            failing_block()
        _insert(unit, "kept")
    with pg.autocommit() as conn:
        assert conn.execute(select(lti_nonces.c.nonce)).scalars().all() == ["kept"]


def test_connections_go_back_to_the_pool_in_their_normal_mode(pg: Store) -> None:
    with pg.unit_of_work() as unit:
        _insert(unit, "a")
    with pg.autocommit() as conn:
        conn.execute(select(lti_nonces.c.nonce)).all()
    with pg.engine.connect() as conn:  # an ordinary connection from the same pool
        _insert(conn, "b")
        assert _status(conn) is TransactionStatus.INTRANS, "not left in autocommit"
        conn.rollback()
    assert _count(pg) == 1


def test_under_a_stricter_isolation_level_the_transaction_starts_with_the_first_read(
    postgres_url: str,
) -> None:
    """REPEATABLE READ takes its snapshot at the first statement: reads must be inside."""
    engine = create_engine(postgres_url, isolation_level="REPEATABLE READ")
    store = Store(postgres_url, engine=engine)
    store.migrate()
    try:
        with store.unit_of_work() as unit:
            assert unit.execute(select(func.count()).select_from(lti_nonces)).scalar_one() == 0
            assert _status(unit) is TransactionStatus.INTRANS
            with engine.connect() as other:  # another request commits meanwhile
                _insert(other, "late")
                other.commit()
            seen = unit.execute(select(func.count()).select_from(lti_nonces)).scalar_one()
            assert seen == 0, "one snapshot for the whole unit"
    finally:
        store.dispose()
