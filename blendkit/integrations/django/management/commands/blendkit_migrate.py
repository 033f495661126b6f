"""``manage.py blendkit_migrate``: upgrade blendkit's database schema (run once per deployment,
before the new code serves requests; safe from several processes at once).

blendkit keeps its records in its own database (``[database] url``, SQLAlchemy and alembic), not
in Django's: ``manage.py migrate`` does not touch it. ``--check`` exits 1 while migrations are
pending (for a deployment pipeline), without applying them.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from blendkit.integrations.django._state import settings_from_django
from blendkit.store import Store

__all__ = ["Command"]


class Command(BaseCommand):
    help = "Apply blendkit's pending database migrations ([database] url of BLENDKIT)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check", action="store_true", help="Exit 1 while migrations are pending."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        store = Store.from_settings(settings_from_django())
        try:
            pending = store.pending_migrations()
            if options["check"]:
                if pending:
                    self.stdout.write("pending: " + ", ".join(pending))
                    sys.exit(1)
                self.stdout.write("schema is current")
                return
            store.migrate()
            self.stdout.write(
                self.style.SUCCESS(f"applied {len(pending)} migration(s); schema is current")
            )
        finally:
            store.dispose()
