"""A database that cannot be reached is a 503 with Retry-After and one short log line, on every
route; a data or integrity error stays a 500 (a bug to fix, not an outage to wait out)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from blendkit import Store
from tests.integrations.conftest import AppFactory

CLOSED_PORT_URL = "postgresql+psycopg://postgres:hunter2@127.0.0.1:1/nowhere"


def _unreadable_sqlite(tmp_path: Path) -> Store:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the database's directory should be")
    return Store(f"sqlite:///{blocker / 'tool.sqlite3'}")


@pytest.fixture(params=["postgres-refused", "sqlite-unreadable"])
def unavailable(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "postgres-refused":
        return Store(CLOSED_PORT_URL)
    return _unreadable_sqlite(tmp_path)


@pytest.mark.parametrize("path", ["/page", "/lti/jwks"])
def test_unreachable_database_is_503_with_one_short_log_line(
    make_app: AppFactory,
    unavailable: Store,
    path: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = make_app(unavailable, migrate=False)
    caplog.set_level(logging.DEBUG)
    caplog.clear()
    answer = app.test_client().get(path)
    assert answer.status_code == 503
    assert int(answer.headers["Retry-After"]) > 0
    assert "store.unavailable" in answer.get_data(as_text=True)
    records = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert len(records) == 1, [r.getMessage() for r in records]
    record = records[0]
    assert record.exc_info is None
    assert record.levelno == logging.WARNING
    line = record.getMessage()
    assert path in line
    assert "Traceback" not in caplog.text
    assert "SELECT" not in caplog.text.upper()
    assert "hunter2" not in caplog.text


def test_a_dropped_postgres_connection_is_503(
    make_app: AppFactory, postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The server ends the app's connections and refuses new ones (the database is gone)."""
    store = Store(postgres_url)
    app = make_app(store)
    client = app.test_client()
    assert client.get("/page").status_code == 200
    database = store.url.database
    admin = Store(postgres_url.rsplit("/", 1)[0] + "/postgres")
    with admin.engine.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS false'))
        conn.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :db"),
            {"db": database},
        )
        conn.commit()
    try:
        caplog.clear()
        answer = client.get("/page")
        assert answer.status_code == 503
        assert int(answer.headers["Retry-After"]) > 0
        assert len([r for r in caplog.records if r.levelno >= logging.INFO]) == 1
        assert "Traceback" not in caplog.text
    finally:
        with admin.engine.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS true'))
            conn.commit()
        admin.dispose()


def test_an_integrity_error_stays_a_500(make_app: AppFactory, sqlite_store: Store) -> None:
    app = make_app(sqlite_store)

    @app.get("/broken")
    def broken() -> str:
        raise IntegrityError("INSERT …", {}, Exception("UNIQUE constraint failed"))

    answer = app.test_client().get("/broken")
    assert answer.status_code == 500
    assert "Retry-After" not in answer.headers
    assert "store.database" in answer.get_data(as_text=True)


def test_an_exhausted_connection_pool_is_503(
    make_app: AppFactory, postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Every pooled connection is busy past the pool timeout: wait and retry, not a bug."""
    engine = create_engine(postgres_url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    store = Store(postgres_url, engine=engine)
    app = make_app(store)
    held = engine.connect()  # a slow request elsewhere holds the only connection
    try:
        caplog.clear()
        answer = app.test_client().get("/page")
    finally:
        held.close()
    assert answer.status_code == 503
    assert int(answer.headers["Retry-After"]) > 0
    records = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert len(records) == 1
    assert "TimeoutError" in records[0].getMessage()
    assert app.test_client().get("/page").status_code == 200, "and it recovers by itself"
