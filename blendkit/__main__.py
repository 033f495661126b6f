"""The ``blendkit`` command (``python -m blendkit``), or which extra it needs.

The command line is the ``cli`` extra: without click and rich, ``import blendkit`` stays light
and the command says what to install instead of failing with a traceback.
"""

from __future__ import annotations

import sys

__all__ = ["main"]

CLI_MODULES = ("click", "rich")


def main() -> None:
    """Console-script entry point."""
    try:
        from blendkit.cli import main as run
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] not in CLI_MODULES:
            raise
        sys.exit(
            f"the blendkit command needs {exc.name!r}, which is not installed: "
            "pip install 'blendkit[cli]'"
        )
    run()


if __name__ == "__main__":
    main()
