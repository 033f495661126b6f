"""Fixtures shared by every area: stores on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from blendkit.store import Store
from tests.encryption import TEST_KEY_ENCRYPTION_KEY

POSTGRES_ENV = "BLENDKIT_TEST_POSTGRES_URL"
TEMPLATE_ENV = "BLENDKIT_TEST_MIGRATION_TEMPLATES"
"""``0`` runs every migration for every new test database (the suite's defaults copy a template)."""

# Machines running the suite are shared and noisy: hypothesis checks properties, not speed.
settings.register_profile("blendkit", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "blendkit"))


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's own settings file or BLENDKIT_* variables by accident."""
    for key in list(os.environ):
        if key.startswith("BLENDKIT_") and key not in {
            POSTGRES_ENV,
            TEMPLATE_ENV,
            "BLENDKIT_TEST_RALPH",
            "BLENDKIT_TEST_BROWSER",
        }:
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("BLENDKIT_DATABASE_URL", f"sqlite:///{tmp_path / 'blendkit.sqlite3'}")
    # Configured as production requires: the tool's keys and stored secrets are encrypted.
    monkeypatch.setenv("BLENDKIT_TOOL_KEY_ENCRYPTION_KEYS", f'["{TEST_KEY_ENCRYPTION_KEY}"]')


def _templates_enabled() -> bool:
    return os.environ.get(TEMPLATE_ENV, "1") != "0"


def _empty_sqlite_file(store: Store) -> Path | None:
    """The database file of a SQLite store that holds no table yet, else ``None``."""
    database = store.url.database if store.dialect == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    path = Path(database)
    if path.exists() and path.stat().st_size:
        with sqlite3.connect(path) as conn:
            if conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                return None
    return path


@pytest.fixture(scope="session", autouse=True)
def _migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """New SQLite test databases start as a copy of one migrated in this run.

    Migrating the whole schema costs about a second per database; a copy (SQLite's backup API)
    costs milliseconds. The copy is then brought to the heads by :meth:`Store.migrate` itself,
    which finds it current: the schema every test sees is the one the migrations build, in this
    run. Migration tests work on databases that are not empty or through alembic directly, so
    they still run every migration; ``BLENDKIT_TEST_MIGRATION_TEMPLATES=0`` turns copying off.
    """
    if not _templates_enabled():
        yield
        return
    template = tmp_path_factory.mktemp("migrated") / "template.sqlite3"
    migrate = Store._migrate
    seed = Store(f"sqlite:///{template}")
    migrate(seed)
    seed.dispose()

    def copy_then_migrate(self: Store) -> None:
        target = _empty_sqlite_file(self)
        if target is not None and target.parent.is_dir():
            with sqlite3.connect(template) as source, sqlite3.connect(target) as copy:
                source.backup(copy)
        migrate(self)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Store, "_migrate", copy_then_migrate)
        yield


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    store.migrate()
    yield store
    store.dispose()


def _fresh_postgres_database() -> Iterator[str]:
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set: PostgreSQL store tests skipped")
    name = _database_name()
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """URL of a fresh, empty PostgreSQL database dropped after the test."""
    yield from _fresh_postgres_database()


class _PostgresPool:
    """Migrated PostgreSQL databases that ``store`` lends to one test at a time.

    A database is created and migrated once (one to three seconds), then emptied after each test
    by deleting every row and restarting every sequence (tens of milliseconds), so each test
    still starts from an empty, fully migrated schema. Each loan gets a new database name (a
    rename), so nothing a process keeps per database URL outlives the data it described. A
    database whose schema a test changed, or that cannot be emptied or renamed promptly (a
    connection left open), is dropped instead.
    """

    def __init__(self, base: str) -> None:
        self._base = make_url(base)
        self._admin = create_engine(base, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        self._idle: list[str] = []
        self._schema: tuple[frozenset[str], frozenset[str]] | None = None
        self._seed: dict[str, list[dict[str, object]]] = {}

    def _url(self, name: str) -> str:
        return self._base.set(database=name).render_as_string(hide_password=False)

    def lend(self) -> str:
        if self._idle:
            return self._url(self._idle.pop())
        name = _database_name()
        with self._admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = self._url(name)
        store = Store(url)
        store.migrate()
        store.dispose()
        if self._schema is None:
            self._remember_schema(url)
        return url

    def _remember_schema(self, url: str) -> None:
        """The schema and the rows the migrations themselves write (counters), to restore."""
        engine = create_engine(url, poolclass=NullPool)
        try:
            with engine.connect() as conn:
                self._schema = _public_schema(conn)
                for table in _data_tables(self._schema[0]):
                    rows = conn.execute(text(f'SELECT * FROM "{table}"')).mappings().all()
                    if rows:
                        self._seed[table] = [dict(row) for row in rows]
        finally:
            engine.dispose()

    def give_back(self, url: str) -> None:
        name = make_url(url).database
        assert name is not None
        renamed = _database_name()
        if _templates_enabled() and self._emptied(url):
            try:
                with self._admin.connect() as conn:
                    conn.execute(text(f'ALTER DATABASE "{name}" RENAME TO "{renamed}"'))
                self._idle.append(renamed)
                return
            except SQLAlchemyError:
                pass
        self._drop(name)

    def _drop(self, name: str) -> None:
        with self._admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def _emptied(self, url: str) -> bool:
        engine = create_engine(url, poolclass=NullPool)
        try:
            with engine.begin() as conn:
                conn.execute(text("SET LOCAL lock_timeout = '2s'"))
                schema = _public_schema(conn)
                if schema != self._schema:
                    return False
                tables, sequences = schema
                conn.execute(text("SET LOCAL session_replication_role = replica"))
                for table in _data_tables(tables):
                    conn.execute(text(f'DELETE FROM "{table}"'))
                for sequence in sorted(sequences):
                    conn.execute(text(f'ALTER SEQUENCE "{sequence}" RESTART'))
                for table, rows in self._seed.items():
                    columns = list(rows[0])
                    names = ", ".join(f'"{column}"' for column in columns)
                    values = ", ".join(f":{column}" for column in columns)
                    conn.execute(text(f'INSERT INTO "{table}" ({names}) VALUES ({values})'), rows)
            return True
        except SQLAlchemyError:
            return False
        finally:
            engine.dispose()

    def close(self) -> None:
        while self._idle:
            self._drop(self._idle.pop())
        self._admin.dispose()


def _database_name() -> str:
    return f"bk_{uuid.uuid4().hex[:12]}"


def _public_schema(conn: Connection) -> tuple[frozenset[str], frozenset[str]]:
    """The public schema's tables (with the migration heads) and sequences."""
    tables = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
    heads = conn.execute(text("SELECT version_num FROM alembic_version"))
    sequences = conn.execute(
        text("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")
    )
    return (
        frozenset(row[0] for row in tables) | frozenset(f"@{row[0]}" for row in heads),
        frozenset(row[0] for row in sequences),
    )


def _data_tables(names: frozenset[str]) -> list[str]:
    return sorted(name for name in names if name != "alembic_version" and not name.startswith("@"))


@pytest.fixture(scope="session")
def _postgres_pool() -> Iterator[_PostgresPool]:
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set: PostgreSQL store tests skipped")
    pool = _PostgresPool(base)
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A migrated store, once on SQLite and once on PostgreSQL (skipped when not configured)."""
    if request.param == "sqlite":
        s = Store(f"sqlite:///{tmp_path / 'store.sqlite3'}")
        s.migrate()
        yield s
        s.dispose()
        return
    if not os.environ.get(POSTGRES_ENV):
        pytest.skip(f"{POSTGRES_ENV} is not set: PostgreSQL store tests skipped")
    pool: _PostgresPool = request.getfixturevalue("_postgres_pool")
    url = pool.lend()
    s = Store(url)
    s.migrate()
    try:
        yield s
    finally:
        s.dispose()
        pool.give_back(url)
