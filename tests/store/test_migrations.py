"""The migrated schema is exactly the schema the code declares, on every backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from blendkit.store import Store, metadata


def test_migrated_schema_matches_declared_tables(store: Store) -> None:
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, metadata)
    assert diff == [], f"migrations and table modules disagree: {diff}"


def test_migrate_is_idempotent_and_reports_nothing_pending(store: Store) -> None:
    before = set(inspect(store.engine).get_table_names())
    store.migrate()
    assert set(inspect(store.engine).get_table_names()) == before
    assert store.pending_migrations() == []


def test_fresh_database_reports_every_branch_pending(tmp_path) -> None:  # type: ignore[no-untyped-def]
    fresh = Store(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    pending = fresh.pending_migrations()
    assert "core_0001" in pending
    fresh.migrate()
    assert fresh.pending_migrations() == []
    assert set(metadata.tables) <= set(inspect(fresh.engine).get_table_names())
