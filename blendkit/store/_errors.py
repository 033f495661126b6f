"""Database errors without learner data: what logs and messages may say about them.

A DBAPI error's text can quote the row it failed on: SQLAlchemy appends the statement's
parameters (a learner's name, e-mail, answers), and PostgreSQL's own message quotes values in
its detail (``Key (sub)=(…) already exists``, ``invalid input syntax …: "<value>"``). Every
engine of a :class:`~blendkit.store.Store` hides parameters, and :func:`hide_database_values`
(a ``handle_error`` hook on the engine) also replaces the driver's text of data and integrity
errors (SQLSTATE classes 22 and 23, the two that quote values) with the error's class, code and
constraint. Connection, lock and schema errors keep their text: administrators need it and it
quotes no row values. Log lines name errors with :func:`describe_database_error`.
"""

from __future__ import annotations

from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError

__all__ = ["describe_database_error", "hide_database_values", "hide_values"]


def _driver_summary(orig: BaseException) -> str:
    """The driver error's class, SQLSTATE or SQLite code, and constraint/table names."""
    details: list[str] = []
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if isinstance(sqlstate, str) and sqlstate:
        details.append(f"SQLSTATE {sqlstate}")
    sqlite_name = getattr(orig, "sqlite_errorname", None)
    if isinstance(sqlite_name, str) and sqlite_name:
        details.append(sqlite_name)
    diag = getattr(orig, "diag", None)
    constraint = getattr(diag, "constraint_name", None)
    if isinstance(constraint, str) and constraint:
        details.append(f"constraint {constraint}")
    table = getattr(diag, "table_name", None)
    if isinstance(table, str) and table:
        details.append(f"table {table}")
    name = type(orig).__name__
    return f"{name} ({', '.join(details)})" if details else name


def describe_database_error(exc: BaseException) -> str:
    """A one-line name for a database error that is safe to log and to show.

    The SQLAlchemy class, the driver's class, the SQLSTATE (PostgreSQL) or result code (SQLite)
    and the constraint or table involved; never the statement or its parameters. The driver's
    message is kept (first line) only for errors outside the data and integrity classes, e.g.
    ``database is locked`` or a refused connection, because only those two quote values.
    """
    orig = exc.orig if isinstance(exc, DBAPIError) else None
    if not isinstance(orig, BaseException):
        return type(exc).__name__
    summary = f"{type(exc).__name__}: {_driver_summary(orig)}"
    if isinstance(exc, IntegrityError | DataError):
        return summary
    # Connection, lock and schema errors: their first line names hosts or tables, no values.
    first_line = str(orig).strip().splitlines()[0][:200] if str(orig).strip() else ""
    return f"{summary}: {first_line}" if first_line else summary


def hide_database_values(context: ExceptionContext) -> None:
    """Engine ``handle_error`` hook: no parameters, and no quoted values for data and
    integrity errors, in the exception's text, its chained driver error or a traceback."""
    hide_values(context.sqlalchemy_exception, context.original_exception)


def hide_values(error: BaseException | None, orig: BaseException | None) -> None:
    """What :func:`hide_database_values` does, for an error raised outside a Core connection
    (:class:`~blendkit.store._driver.DriverStatement`)."""
    if isinstance(error, StatementError):
        error.hide_parameters = True
    if not isinstance(error, IntegrityError | DataError) or orig is None:
        return
    summary = _driver_summary(orig)
    orig.args = (summary,)
    error.args = (f"({type(orig).__module__}.{type(orig).__name__}) {summary}",)
