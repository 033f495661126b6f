"""The Store: one SQLAlchemy engine and its transaction API (transactions, units of work, sessions,
upserts); the engine hooks live in _engine, the migrations in _migrate."""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Insert,
    Table,
    create_engine,
    event,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from blendkit.errors import ConfigError
from blendkit.store._checkpoint import Checkpointer, checkpointer_for
from blendkit.store._engine import (
    _BEGIN_AT_FIRST_WRITE,
    _DIALECT_HOOKS,
    _back_to_normal,
    _create_private_file,
    _ping_when_idle,
    _sqlite_pragmas,
)
from blendkit.store._errors import hide_database_values
from blendkit.store._migrate import _Migrations

__all__ = ["Store"]


class Store(_Migrations):
    """Owns the engine for one database URL (SQLite by default, PostgreSQL by URL).

    On PostgreSQL a pooled connection that sat idle for ``ping_after_idle_seconds`` or longer is
    pinged before use and replaced when the server dropped it; 0 pings on every checkout.
    """

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        engine: Engine | None = None,
        ping_after_idle_seconds: float = 1.0,
    ) -> None:
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise ConfigError(
                f"database.url {url!r} is not a SQLAlchemy URL (e.g. sqlite:///blendkit.sqlite3 "
                "or postgresql+psycopg://user@host/db)"
            ) from exc
        self.url = parsed
        self.dialect = parsed.get_backend_name()
        self._checkpoints: Checkpointer | None = None
        if engine is None:
            # Statements' parameters hold learner data: never in error texts or echoed logs.
            kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
            if self.dialect == "postgresql":
                kwargs.update(pool_size=5, max_overflow=10)
            try:
                engine = create_engine(parsed, **kwargs)
            except (ArgumentError, ImportError) as exc:
                raise ConfigError(
                    f"cannot open database {parsed.render_as_string(hide_password=True)}: {exc}. "
                    "For PostgreSQL install blendkit[postgres]."
                ) from exc
            if self.dialect == "sqlite":
                _create_private_file(parsed.database)
                event.listen(engine, "connect", _sqlite_pragmas)
                self._checkpoints = checkpointer_for(parsed.database)
                if self._checkpoints is not None:
                    event.listen(engine, "connect", self._checkpoints.on_connect)
                    weakref.finalize(self, self._checkpoints.stop, wait=False, final=True)
            else:
                _ping_when_idle(engine, ping_after_idle_seconds)
        if not event.contains(engine, "handle_error", hide_database_values):
            event.listen(engine, "handle_error", hide_database_values)
        self.engine = engine
        # PostgreSQL with psycopg: blocks start in the driver's autocommit mode, and
        # transactions open at their first write (see _engine._begin_at_first_write).
        self._lazy_begin = engine.dialect.name == "postgresql" and engine.dialect.driver in (
            "psycopg",
            "psycopg2",
        )
        if self._lazy_begin:
            for name, hook in _DIALECT_HOOKS:  # each returns None: the driver still executes
                if not event.contains(engine, name, hook):
                    event.listen(engine, name, hook)
            if not event.contains(engine, "checkin", _back_to_normal):
                event.listen(engine, "checkin", _back_to_normal)
        else:
            self._autocommit_engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        # The unit of work open in this thread / task, if any (see unit_of_work()).
        self._current: ContextVar[Connection | None] = ContextVar(
            f"blendkit_uow_{id(self)}", default=None
        )

    @classmethod
    def from_settings(cls, settings: Any) -> Store:
        """Build from :class:`blendkit.config.Settings`."""
        database = settings.database
        return cls(
            database.url,
            echo=database.echo,
            ping_after_idle_seconds=database.ping_after_idle_seconds,
        )

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    @contextmanager
    def transaction(self, *, savepoint: bool = False) -> Iterator[Connection]:
        """A Core connection in a transaction: commits when the block ends normally, rolls back
        on any error. blendkit's own services use this (Core statements, no ORM bookkeeping).

        Inside :meth:`unit_of_work` the block joins that unit's transaction instead and commits
        with it. Give ``savepoint=True`` where a failure inside the block is caught and the work
        goes on (e.g. an insert racing another process): in a unit of work the block then runs in
        a SAVEPOINT, so its failure undoes only the block and leaves the unit usable.
        """
        current = self._current.get()
        if current is not None:
            if savepoint:
                with current.begin_nested():
                    yield current
            else:
                yield current
            return
        with self._begin() as connection:
            yield connection

    @contextmanager
    def write_transaction(self, *, savepoint: bool = False) -> Iterator[Connection]:
        """Like :meth:`transaction`, for a block whose first statement writes under contention
        (a conditional UPDATE many requests race for).

        On SQLite the block takes the database's write lock at its start (``BEGIN IMMEDIATE``,
        waiting up to the busy timeout): a deferred transaction that read the database and then
        finds another writer committed would fail at once with "database is locked" instead of
        waiting its turn. On PostgreSQL, and inside :meth:`unit_of_work`, it is
        :meth:`transaction` (``savepoint`` as there).
        """
        if self.dialect != "sqlite" or self._current.get() is not None:
            with self.transaction(savepoint=savepoint) as connection:
                yield connection
            return
        with self._autocommit_engine.connect() as connection:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.exec_driver_sql("ROLLBACK")
                raise
            connection.exec_driver_sql("COMMIT")

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        """A connection in a transaction; on PostgreSQL the transaction opens at its first
        write (see _engine._begin_at_first_write)."""
        if not self._lazy_begin:
            with self.engine.begin() as connection:
                yield connection
            return
        with self.engine.connect() as connection:
            dialect = connection.dialect
            level = getattr(dialect, "isolation_level", None) or dialect.default_isolation_level
            if level == "READ COMMITTED":  # reads outside see what they would see inside
                connection.connection.dbapi_connection.autocommit = True  # type: ignore[union-attr]
                connection.info[_BEGIN_AT_FIRST_WRITE] = True
            with connection.begin():  # under a stricter level the snapshot starts at BEGIN
                yield connection

    @contextmanager
    def autocommit(self) -> Iterator[Connection]:
        """A Core connection on which each statement commits on its own.

        For a block of one statement (a single INSERT, DELETE … RETURNING or SELECT is atomic by
        itself), or of statements that need not commit together: on PostgreSQL it saves the
        BEGIN and COMMIT round trips of :meth:`transaction`. Inside :meth:`unit_of_work` the block
        joins the unit's transaction like :meth:`transaction` does.
        """
        current = self._current.get()
        if current is not None:
            yield current
            return
        if not self._lazy_begin:
            with self._autocommit_engine.connect() as connection:
                yield connection
            return
        with self.engine.connect() as connection:
            connection.connection.dbapi_connection.autocommit = True  # type: ignore[union-attr]
            yield connection

    @contextmanager
    def session(self, *, savepoint: bool = False) -> Iterator[Session]:
        """An ORM session in a transaction, for code that prefers the ORM; otherwise like
        :meth:`transaction`. Inside :meth:`unit_of_work` the session is bound to the unit's
        connection: what it writes commits, or rolls back, with the unit."""
        current = self._current.get()
        if current is not None:
            joined = Session(bind=current, expire_on_commit=False)
            try:
                if savepoint:
                    with joined.begin_nested():
                        yield joined
                else:
                    yield joined
                joined.flush()
            finally:
                joined.close()
            return
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def unit_of_work(self, *, write: bool = False) -> Iterator[Connection]:
        """One transaction for everything in the block, in this thread or task.

        Every :meth:`transaction` and :meth:`session` opened inside joins it: the block commits
        once at its end, or nothing of it stays when it raises. A request that reads and writes
        through several services costs one connection checkout and one commit instead of one per
        call. Nested calls join the outer unit. Keep slow I/O (HTTP calls to other systems)
        outside: the transaction, and on SQLite the write lock, stay open for the whole block.

        ``write=True`` opens the unit as :meth:`write_transaction` does, for a block that writes
        under contention first and reads after: on SQLite it takes the write lock at its start.
        """
        current = self._current.get()
        if current is not None:
            yield current
            return
        with self.write_transaction() if write else self._begin() as connection:
            token = self._current.set(connection)
            try:
                yield connection
            finally:
                self._current.reset(token)

    def _dialect_insert(self, table: Table) -> postgresql.Insert | sqlite.Insert:
        if self.dialect == "postgresql":
            return postgresql.insert(table)
        if self.dialect == "sqlite":
            return sqlite.insert(table)
        raise ConfigError(
            f"blendkit stores data in SQLite or PostgreSQL, not {self.dialect}; "
            "set [database] url to one of them"
        )

    def insert_ignoring_conflicts(self, table: Table, *keys: str) -> Insert:
        """``INSERT … ON CONFLICT (keys) DO NOTHING`` for this store's database.

        Add ``.returning(...)``: a returned row says the row went in. No exception to catch, so
        the insert can run inside a :meth:`unit_of_work` without a savepoint.
        """
        return self._dialect_insert(table).on_conflict_do_nothing(index_elements=list(keys))

    def insert_or_replace(
        self, table: Table, keys: Sequence[str], values: Mapping[str, Any], replace: Sequence[str]
    ) -> Insert:
        """Insert ``values``; when a row with the same ``keys`` exists, overwrite its ``replace``
        columns instead (``ON CONFLICT … DO UPDATE``): one atomic statement, no race to lose."""
        insert = self._dialect_insert(table).values(**values)
        return insert.on_conflict_do_update(
            index_elements=list(keys), set_={name: insert.excluded[name] for name in replace}
        )

    def insert_or_add(
        self,
        table: Table,
        keys: Sequence[str],
        values: Mapping[str, Any],
        add: Sequence[str],
        *,
        where: ColumnElement[bool] | None = None,
        replace: Sequence[str] = (),
    ) -> Insert:
        """Insert ``values``; when a row with the same ``keys`` exists, add the new ``add``
        columns to its own instead (a running total: one atomic statement) and take the new
        ``replace`` columns as they are. With ``where`` the existing row changes only when it
        holds (a limit): add ``.returning(...)``, and no returned row says the limit refused
        it."""
        insert = self._dialect_insert(table).values(**values)
        return insert.on_conflict_do_update(
            index_elements=list(keys),
            set_={
                **{name: table.c[name] + insert.excluded[name] for name in add},
                **{name: insert.excluded[name] for name in replace},
            },
            where=where,
        )

    def dispose(self) -> None:
        if self._checkpoints is not None:
            self._checkpoints.stop()
        self.engine.dispose()
