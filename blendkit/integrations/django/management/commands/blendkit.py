"""``manage.py blendkit <arguments>``: the ``blendkit`` command line with the project's settings.

Every argument is handed to the ``blendkit`` click group unchanged (``manage.py blendkit db
upgrade``, ``manage.py blendkit platform list``, ``manage.py blendkit --help``); the settings come
from Django (:func:`~blendkit.integrations.django.settings_from_django`) instead of
``BLENDKIT_CONFIG``. The exit status is the command line's.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from blendkit.integrations.django._state import settings_from_django

__all__ = ["Command"]


class Command(BaseCommand):
    help = "Run the blendkit command line (blendkit --help) with this project's settings."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("arguments", nargs=argparse.REMAINDER)

    def run_from_argv(self, argv: list[str]) -> None:
        """``manage.py blendkit …``: every argument goes to blendkit (``--help`` included)."""
        status = self.run_blendkit(argv[2:], prog_name=f"{argv[0]} {argv[1]}")
        sys.exit(status)

    def handle(self, *args: Any, **options: Any) -> None:
        """``call_command("blendkit", "db", "upgrade")``: a non-zero status raises SystemExit."""
        status = self.run_blendkit([*args, *options.get("arguments", [])])
        if status:
            sys.exit(status)

    @staticmethod
    def run_blendkit(arguments: list[str], prog_name: str = "manage.py blendkit") -> int:
        from blendkit.cli import run

        return run(arguments, settings=settings_from_django(), prog_name=prog_name)
