"""Alembic environment: runs on the connection :meth:`blendkit.store.Store.migrate` passes in."""

from __future__ import annotations

from alembic import context

from blendkit.store import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "run migrations through blendkit.store.Store.migrate() or `blendkit db upgrade`"
    )

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
