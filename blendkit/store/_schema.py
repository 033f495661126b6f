"""The shared SQLAlchemy metadata every area registers its tables on."""

from __future__ import annotations

from sqlalchemy import Index, MetaData, text

__all__ = ["metadata", "partial_index"]

# Stable constraint names so that migrations can refer to them on every backend.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def partial_index(name: str, *columns: str, where: str) -> Index:
    """An index over the rows matching ``where`` only, on PostgreSQL and SQLite alike (queries
    repeat ``where`` literally: SQLite uses a partial index only then)."""
    return Index(name, *columns, postgresql_where=text(where), sqlite_where=text(where))
