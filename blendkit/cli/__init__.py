"""The ``blendkit`` command. Each area adds its commands in a ``_cmd_<area>.py`` module."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Sequence

import click

from blendkit import __version__
from blendkit.cli._shared import settings_given
from blendkit.config import Settings

__all__ = ["cli", "main", "run"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="blendkit")
def cli() -> None:
    """blendkit: blended learning for LTI 1.3 platforms.

    Settings come from the TOML file named by BLENDKIT_CONFIG and BLENDKIT_* variables
    (BLENDKIT_DATABASE_URL, BLENDKIT_XAPI_ENDPOINT, …).
    """


for _module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _module.name.startswith("_cmd_"):
        for _command in importlib.import_module(f"{__name__}.{_module.name}").commands:
            cli.add_command(_command)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="blendkit")


def run(args: Sequence[str], *, settings: Settings, prog_name: str = "blendkit") -> int:
    """Run ``blendkit <args>`` with ``settings`` instead of BLENDKIT_CONFIG (for frameworks that
    hold the configuration themselves); returns the exit status the command line would have."""
    with settings_given(settings):
        try:
            cli.main(args=list(args), prog_name=prog_name, standalone_mode=True)
        except SystemExit as exit_:
            code = exit_.code
            return code if isinstance(code, int) else (0 if code is None else 1)
    return 0
