"""``blendkit db``: schema migrations."""

from __future__ import annotations

import click

from blendkit.cli._shared import handle_errors, open_store

__all__ = ["commands"]


@click.group()
def db() -> None:
    """Manage the database schema."""


@db.command()
@handle_errors
def upgrade() -> None:
    """Apply every pending migration (safe to run from several processes)."""
    store = open_store(migrate=False)
    pending = store.pending_migrations()
    store.migrate()
    click.echo(f"applied {len(pending)} migration(s); schema is current")


@db.command()
@handle_errors
def status() -> None:
    """Show the migrations that are still pending."""
    store = open_store(migrate=False)
    pending = store.pending_migrations()
    if pending:
        click.echo("pending: " + ", ".join(pending))
    else:
        click.echo("schema is current")


commands: list[click.Command] = [db]
