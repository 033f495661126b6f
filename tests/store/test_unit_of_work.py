"""Store.unit_of_work: everything inside joins one transaction, which commits or not at all."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from blendkit.lti import StoreNonceStore
from blendkit.store import Store
from blendkit.store._tables_core import lti_nonces

LATER = datetime.fromtimestamp(time.time() + 600, UTC)


def _insert(store: Store, nonce: str) -> None:
    with store.transaction() as s:
        s.execute(lti_nonces.insert().values(issuer="https://lms", nonce=nonce, expires_at=LATER))


def _nonces(store: Store) -> list[str]:
    with store.session() as s:
        return sorted(s.execute(select(lti_nonces.c.nonce)).scalars())


def test_sessions_inside_join_one_transaction_that_commits_at_the_end(store: Store) -> None:
    with store.unit_of_work() as unit:
        _insert(store, "a")
        with store.transaction() as inner:
            assert inner is unit, "a transaction opened inside the unit joins it"
        with store.session() as orm:  # an ORM session joins through the unit's connection
            orm.execute(
                lti_nonces.insert().values(issuer="https://lms", nonce="orm", expires_at=LATER)
            )
        _insert(store, "b")
        with store.unit_of_work() as nested:
            assert nested is unit, "a nested unit joins the outer one"
            _insert(store, "c")
    assert _nonces(store) == ["a", "b", "c", "orm"]


def test_an_error_anywhere_in_the_unit_leaves_nothing(store: Store) -> None:
    _insert(store, "before")

    def failing_request() -> None:
        with store.unit_of_work():
            _insert(store, "a")
            with store.session() as orm:
                orm.execute(
                    lti_nonces.insert().values(issuer="https://lms", nonce="o", expires_at=LATER)
                )
            _insert(store, "b")
            raise RuntimeError("the request failed after three writes")

    with pytest.raises(RuntimeError):
        failing_request()
    assert _nonces(store) == ["before"]


def test_a_savepoint_block_that_fails_is_undone_alone(store: Store) -> None:
    _insert(store, "taken")

    def clashing_block() -> None:
        with store.transaction(savepoint=True) as s:
            for nonce in ("x", "taken"):
                s.execute(
                    lti_nonces.insert().values(issuer="https://lms", nonce=nonce, expires_at=LATER)
                )

    with store.unit_of_work():
        _insert(store, "a")
        with pytest.raises(IntegrityError):
            clashing_block()
        _insert(store, "b")  # the unit is still usable (on PostgreSQL too)
    assert _nonces(store) == ["a", "b", "taken"], "x went with its failed block; a and b stayed"


def test_outside_a_unit_each_session_commits_on_its_own(store: Store) -> None:
    _insert(store, "a")

    def failing_outer() -> None:
        with store.transaction():
            _insert(store, "b")  # its own transaction: committed before the outer one fails
            raise RuntimeError("outer failure")

    with pytest.raises(RuntimeError):
        failing_outer()
    assert _nonces(store) == ["a", "b"]


def test_units_in_other_threads_are_separate(store: Store) -> None:
    import threading

    seen: list[int] = []

    def other() -> None:
        with store.session() as s:  # another thread: its own transaction, committed data only
            seen.append(s.execute(select(func.count()).select_from(lti_nonces)).scalar_one())

    with store.unit_of_work():
        _insert(store, "uncommitted")
        worker = threading.Thread(target=other)
        worker.start()
        worker.join(timeout=30)
    assert seen == [0]
    assert "uncommitted" in _nonces(store)


def test_nonce_store_joins_the_unit_and_refuses_a_second_use(store: Store) -> None:
    nonces = StoreNonceStore(store)
    later = time.time() + 600
    with store.unit_of_work():
        assert nonces.use("https://lms", "n1", later)
        assert not nonces.use("https://lms", "n1", later), "refused inside the same unit"
        assert nonces.use("https://lms", "n2", later)
    assert not nonces.use("https://lms", "n1", later)
    assert _nonces(store) == ["n1", "n2"]


def test_insert_ignoring_conflicts_returns_a_row_only_the_first_time(store: Store) -> None:
    insert = store.insert_ignoring_conflicts(lti_nonces, "issuer", "nonce")
    values = {"issuer": "https://lms", "nonce": "k", "expires_at": LATER}
    with store.session() as s:
        first = s.execute(insert.values(**values).returning(lti_nonces.c.nonce)).first()
        second = s.execute(insert.values(**values).returning(lti_nonces.c.nonce)).first()
    assert first is not None
    assert first[0] == "k"
    assert second is None


def test_insert_or_replace_keeps_one_row_with_the_latest_values(store: Store) -> None:
    first = {"issuer": "https://lms", "nonce": "k", "expires_at": LATER}
    later = LATER.replace(year=LATER.year + 1)
    with store.unit_of_work() as s:
        for values in (first, {**first, "expires_at": later}):
            s.execute(
                store.insert_or_replace(lti_nonces, ("issuer", "nonce"), values, ["expires_at"])
            )
    with store.session() as s:
        rows = s.execute(select(lti_nonces.c.nonce, lti_nonces.c.expires_at)).all()
    assert [r.nonce for r in rows] == ["k"]
    assert rows[0].expires_at.replace(tzinfo=UTC).year == later.year


def test_a_writing_unit_holds_sqlite_s_write_lock_from_its_start_and_commits_as_one(
    store: Store,
) -> None:
    def refused_after_a_write() -> None:
        with store.unit_of_work(write=True) as unit:
            if store.dialect == "sqlite":  # BEGIN IMMEDIATE went out before any statement
                assert unit.connection.dbapi_connection.in_transaction  # type: ignore[union-attr]
            with store.transaction() as inner:
                assert inner is unit, "a transaction opened inside the writing unit joins it"
            _insert(store, "dropped")
            raise RuntimeError("refused after the write")

    with pytest.raises(RuntimeError):
        refused_after_a_write()
    with store.unit_of_work(write=True):
        _insert(store, "kept")
        _insert(store, "kept too")
    assert _nonces(store) == ["kept", "kept too"]
