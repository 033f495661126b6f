"""Hot statements run straight on the driver: compiled once, one round trip, plain rows.

A Core statement through a SQLAlchemy :class:`~sqlalchemy.Connection` costs far more client CPU
than the statement itself on a fast local server: the connection object, the execution context,
the events and the result object (which makes psycopg build a Python object for every column of
``cursor.description``). On a request path that runs under contention (a booking that 50 clients
race for) that CPU is what each client waits for, since the threads of a process share one
interpreter lock. :class:`DriverStatement` compiles a statement once for the store's dialect;
:meth:`DriverStatement.rows` runs it on a pooled DBAPI connection in the driver's autocommit mode
(one statement is atomic by itself) and returns named tuples.

The shortcut is taken only where it changes nothing an application can observe:

* PostgreSQL through psycopg (SQLite, and other drivers, take the Core path);
* no :meth:`~blendkit.store.Store.unit_of_work` open in this thread or task (inside one the
  statement joins the unit's transaction on the Core path, as every other statement does);
* no ``echo`` and no statement listener on the engine (``before_cursor_execute`` and kin, as
  tracing instrumentation installs): those see every statement on the Core path;
* no column type with a bind or result processor for the dialect (checked when compiled: the
  driver's own conversions are exactly SQLAlchemy's for such types).

Errors come out as on the Core path: SQLAlchemy's exception classes (``IntegrityError``,
``OperationalError`` …) around the driver's, parameters hidden and the values of data and
integrity errors replaced (:func:`~blendkit.store._errors.hide_values`); a connection the server
dropped is invalidated so the pool replaces it. Pool checkout keeps its events (the ping of a
connection that sat idle, the check-in reset).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import Engine, Select
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.dml import UpdateBase

from blendkit.store._errors import hide_values

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from blendkit.store._store import Store

__all__ = ["DriverStatement", "driver_error", "driver_ready", "engine_driver_ready"]


class _Compiled(NamedTuple):
    sql: str
    defaults: dict[str, Any]
    make: Callable[[Iterable[Any]], Any]


class DriverStatement:
    """One Core statement (a SELECT, or DML with RETURNING) for :meth:`rows`.

    Build it once (module level) and share it: the compiled text is kept per dialect.
    """

    def __init__(self, statement: Select[*tuple[Any, ...]] | UpdateBase) -> None:
        self.statement = statement
        self._compiled: dict[int, _Compiled] = {}

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect)
        for bind in compiled.binds.values():
            if bind.type.dialect_impl(dialect).bind_processor(dialect) is not None:
                raise TypeError(
                    f"bind parameter {bind.key!r} ({bind.type!r}) is converted by SQLAlchemy on "
                    f"{dialect.name}; run this statement on a Core connection"
                )
        columns = self.statement.exported_columns
        names = [str(key) for key in columns.keys()]  # noqa: SIM118  # iterating gives columns
        for key, column in zip(names, columns, strict=True):
            if column.type.dialect_impl(dialect).result_processor(dialect, None) is not None:
                raise TypeError(
                    f"result column {key!r} ({column.type!r}) is converted by SQLAlchemy on "
                    f"{dialect.name}; run this statement on a Core connection"
                )
        if len(set(names)) != len(names) or not all(n.isidentifier() for n in names):
            raise TypeError(f"result columns need distinct identifier names, got {names}")
        return _Compiled(
            sql=compiled.string,
            # The values SQLAlchemy put in binds of its own (literals); the caller gives the rest.
            defaults={
                compiled.bind_names[bind]: bind.effective_value
                for bind in compiled.binds.values()
                if not bind.required
            },
            make=namedtuple("Row", names)._make,  # type: ignore[attr-defined]
        )

    def compiled(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(id(dialect))
        if found is None:
            found = self._compiled[id(dialect)] = self._compile(dialect)
        return found

    def rows(
        self, store: Store, params: Mapping[str, Any], *, savepoint: bool = False
    ) -> list[Any]:
        """Run the statement with ``params`` and return its rows (attribute access by column
        name, as SQLAlchemy rows have): on the driver when :func:`driver_ready` allows, else on
        the unit of work's connection or a Core transaction of its own.

        ``savepoint``: inside a unit of work, run the statement in a SAVEPOINT, so that when it
        fails (a constraint it may raise on purpose) it undoes only itself and the unit goes on.
        """
        current = store._current.get()
        if current is not None or not driver_ready(store):
            return self._core_rows(store, current, params, savepoint=savepoint)
        engine = store.engine
        dialect = engine.dialect
        compiled = self.compiled(dialect)
        values = {**compiled.defaults, **params}
        fairy = engine.raw_connection()
        try:
            raw = fairy.driver_connection
            assert raw is not None
            raw.autocommit = True
            cursor = raw.cursor()
            try:
                cursor.execute(compiled.sql, values, prepare=True)
                return [compiled.make(r) for r in cursor.fetchall()]
            except dialect.loaded_dbapi.Error as exc:
                raise driver_error(dialect, compiled.sql, exc, fairy, cursor) from exc
            finally:
                if not cursor.closed:
                    cursor.close()
        finally:
            fairy.close()  # the check-in hook puts autocommit back

    def _core_rows(
        self,
        store: Store,
        current: Connection | None,
        params: Mapping[str, Any],
        *,
        savepoint: bool,
    ) -> list[Any]:
        if current is not None:
            if savepoint:
                with current.begin_nested():
                    return list(current.execute(self.statement, params))
            return list(current.execute(self.statement, params))
        with store.transaction() as conn:
            return list(conn.execute(self.statement, params))


def driver_error(
    dialect: Dialect, sql: str, exc: BaseException, fairy: Any, cursor: Any
) -> BaseException:
    """The SQLAlchemy exception for a driver error raised outside a Core connection, as the
    Core path would raise it: parameters hidden, the values of data and integrity errors
    replaced, and ``fairy`` (the pooled connection) invalidated when the server dropped it."""
    raw = fairy.driver_connection
    invalidated = bool(dialect.is_disconnect(exc, raw, cursor))  # type: ignore[arg-type]
    if invalidated:
        fairy.invalidate(exc)
    error = DBAPIError.instance(
        sql,
        None,
        exc,
        dialect.loaded_dbapi.Error,
        hide_parameters=True,
        connection_invalidated=invalidated,
        dialect=dialect,
    )
    hide_values(error, exc)
    return error


def driver_ready(store: Store) -> bool:
    """Whether :meth:`DriverStatement.rows` may bypass the Core connection on ``store``."""
    return engine_driver_ready(store.engine)


def engine_driver_ready(engine: Engine) -> bool:
    """Whether a statement may run on ``engine``'s psycopg connections directly: nothing that
    watches the Core path (``echo``, statement listeners) would miss it."""
    if engine.dialect.name != "postgresql" or engine.dialect.driver != "psycopg":
        return False
    if engine.echo:
        return False
    dispatch = engine.dispatch
    return not (
        dispatch.before_cursor_execute
        or dispatch.after_cursor_execute
        or dispatch.before_execute
        or dispatch.after_execute
    )
