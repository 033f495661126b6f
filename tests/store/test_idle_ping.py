"""PostgreSQL pool: a connection the server dropped while idle is replaced before use, and a
connection that was busy a moment ago is not pinged first."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import OperationalError

from blendkit.config import Settings
from blendkit.store import Store


def _backend_pid(store: Store) -> int:
    with store.transaction() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(postgres_url: str, pid: int) -> None:
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        admin.dispose()


def _drop_while_idle(store: Store, postgres_url: str) -> int:
    """Use a pooled connection, have the server drop it while it waits in the pool, let it sit
    idle a moment; returns the dropped backend's pid."""
    dropped = _backend_pid(store)
    _terminate(postgres_url, dropped)
    time.sleep(0.1)
    return dropped


def _pings(store: Store) -> list[object]:
    """Records each ping the store's pool sends from now on."""
    pings: list[object] = []
    original = store.engine.dialect.do_ping

    def counted(connection: object) -> bool:
        pings.append(connection)
        return original(connection)

    store.engine.dialect.do_ping = counted  # type: ignore[method-assign]
    return pings


def _statements(store: Store) -> list[str]:
    seen: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


def test_a_connection_dropped_while_idle_is_replaced_before_the_request_sees_it(
    postgres_url: str,
) -> None:
    store = Store(postgres_url, ping_after_idle_seconds=0.05)
    try:
        dropped = _drop_while_idle(store, postgres_url)
        assert _backend_pid(store) != dropped, "a fresh connection served the request"
    finally:
        store.dispose()


def test_without_the_idle_check_the_dropped_connection_fails_the_request(
    postgres_url: str,
) -> None:
    """The counterpart: what the check saves a request from."""
    store = Store(postgres_url, ping_after_idle_seconds=3600)
    try:
        dropped = _drop_while_idle(store, postgres_url)
        with pytest.raises(OperationalError):
            _backend_pid(store)
        # The pool noticed the disconnect: the next request gets a working connection.
        assert _backend_pid(store) != dropped
    finally:
        store.dispose()


def test_a_connection_back_in_the_pool_a_moment_ago_goes_straight_to_work(
    postgres_url: str,
) -> None:
    store = Store(postgres_url, ping_after_idle_seconds=60)
    try:
        _backend_pid(store)
        seen = _statements(store)
        pings = _pings(store)
        for _ in range(5):
            _backend_pid(store)
        assert pings == [], "no ping for a connection used moments ago"
        assert len(seen) == 5
    finally:
        store.dispose()


def test_zero_pings_on_every_checkout(postgres_url: str) -> None:
    store = Store(postgres_url, ping_after_idle_seconds=0)
    try:
        _backend_pid(store)
        pings = _pings(store)
        for _ in range(3):
            _backend_pid(store)
        assert len(pings) == 3
    finally:
        store.dispose()


def test_the_setting_reaches_the_store(monkeypatch: pytest.MonkeyPatch, postgres_url: str) -> None:
    monkeypatch.setenv("BLENDKIT_DATABASE_URL", postgres_url)
    monkeypatch.setenv("BLENDKIT_DATABASE_PING_AFTER_IDLE_SECONDS", "0.05")
    settings = Settings()
    assert settings.database.ping_after_idle_seconds == 0.05
    store = Store.from_settings(settings)
    try:
        dropped = _drop_while_idle(store, postgres_url)
        assert _backend_pid(store) != dropped
    finally:
        store.dispose()
