"""Fixtures shared by every area: stores on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from blendkit.store import Store
from tests.encryption import TEST_KEY_ENCRYPTION_KEY

POSTGRES_ENV = "BLENDKIT_TEST_POSTGRES_URL"

# Machines running the suite are shared and noisy: hypothesis checks properties, not speed.
settings.register_profile("blendkit", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "blendkit"))


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's own settings file or BLENDKIT_* variables by accident."""
    for key in list(os.environ):
        if key.startswith("BLENDKIT_") and key not in {
            POSTGRES_ENV,
            "BLENDKIT_TEST_RALPH",
            "BLENDKIT_TEST_BROWSER",
        }:
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("BLENDKIT_DATABASE_URL", f"sqlite:///{tmp_path / 'blendkit.sqlite3'}")
    # Configured as production requires: the tool's keys and stored secrets are encrypted.
    monkeypatch.setenv("BLENDKIT_TOOL_KEY_ENCRYPTION_KEYS", f'["{TEST_KEY_ENCRYPTION_KEY}"]')


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
    name = f"bk_{uuid.uuid4().hex[:12]}"
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


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A migrated store, once on SQLite and once on PostgreSQL (skipped when not configured)."""
    if request.param == "sqlite":
        s = Store(f"sqlite:///{tmp_path / 'store.sqlite3'}")
        s.migrate()
        yield s
        s.dispose()
        return
    gen = _fresh_postgres_database()
    url = next(gen)
    s = Store(url)
    s.migrate()
    try:
        yield s
    finally:
        s.dispose()
        for _ in gen:
            pass
