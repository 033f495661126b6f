"""The Store's migrations: alembic's configuration, upgrading to the newest schema with one process
at a time, and the lock files beside a SQLite database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from filelock import FileLock
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

from blendkit.errors import StoreError
from blendkit.store._errors import describe_database_error

if TYPE_CHECKING:  # Alembic (and Mako with it) is imported by the methods that migrate
    from alembic.config import Config

_MIGRATIONS = Path(__file__).with_name("migrations")
# Any constant works: it only has to be the same in every process that migrates one database.
_MIGRATION_LOCK_KEY = 0x626C656E64


class _Migrations:
    """The migration methods of :class:`~blendkit.store.Store` (which sets these attributes)."""

    url: URL
    dialect: str
    engine: Engine

    def alembic_config(self) -> Config:
        """Alembic configuration of blendkit's migration script (for checks and tools)."""
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        return config

    def migrate(self) -> None:
        """Bring every branch of the schema to its newest revision (idempotent, multi-process).

        Processes migrating one database at once take turns: a PostgreSQL advisory lock, or on
        SQLite (whose DDL alembic runs outside a transaction) a file lock beside the database
        file, ``<file>.migrate-lock``; the second process then finds the schema current.
        """
        with self._sqlite_migration_lock():
            self._migrate()

    def lock_file(self, suffix: str) -> Path | None:
        """The path of a lock file beside a SQLite database file (``<file><suffix>``); None on
        PostgreSQL and for an in-memory or URI-named SQLite database."""
        database = self.url.database if self.dialect == "sqlite" else None
        if not database or database == ":memory:" or database.startswith("file:"):
            return None
        path = Path(database).expanduser().absolute()
        return path.with_name(path.name + suffix)

    @contextmanager
    def _sqlite_migration_lock(self) -> Iterator[None]:
        lock_path = self.lock_file(".migrate-lock")
        if lock_path is None:
            yield
            return
        with FileLock(str(lock_path), mode=0o600):
            yield

    def _migrate(self) -> None:
        from alembic import command

        config = self.alembic_config()
        try:
            with self.engine.begin() as connection:
                if self.dialect == "postgresql":
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
                    )
                config.attributes["connection"] = connection
                command.upgrade(config, "heads")
        except SQLAlchemyError as exc:
            raise StoreError(
                f"could not migrate {self.url.render_as_string(hide_password=True)}: "
                f"{describe_database_error(exc)}"
            ) from exc

    def pending_migrations(self) -> list[str]:
        """Revision ids that :meth:`migrate` would still apply (empty when up to date)."""
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        script = ScriptDirectory.from_config(self.alembic_config())
        with self.engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
        applied: set[str] = set()
        for head in current:
            applied.update(rev.revision for rev in script.iterate_revisions(head, "base"))
        return sorted(
            rev.revision for rev in script.walk_revisions() if rev.revision not in applied
        )
