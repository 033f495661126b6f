"""``blendkit demo``: the example tool plus a demo LMS on 127.0.0.1, ready to click through."""

from __future__ import annotations

import importlib
import socket
import time
from pathlib import Path
from types import ModuleType

import click

from blendkit._listen import is_loopback_host
from blendkit.cli._shared import fail, handle_errors

__all__ = ["commands"]

DEMO_MODULE = "blendkit_examples.flask_app.demo"
"""The example app ships in blendkit's wheel as ``blendkit_examples`` (source: ``examples/``)."""


def load_demo() -> ModuleType:
    """Import the example app's demo module; a missing dependency names the extra to install."""
    try:
        module = importlib.import_module(DEMO_MODULE)
        importlib.import_module("lti1p3platform")  # the demo LMS imports it on first request
    except ModuleNotFoundError as exc:
        missing = (exc.name or "").partition(".")[0]
        if missing in ("blendkit_examples", ""):
            raise
        fail(
            f"the demo needs {missing!r}, which is not installed: "
            "pip install 'blendkit[demo]' (Flask and the demo LMS)"
        )
    return module


@click.command()
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option(
    "--allow-remote",
    is_flag=True,
    help="Allow a non-loopback --host (the demo has no real users: keep it on your machine).",
)
@click.option(
    "--data-dir",
    default="blendkit-demo",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the demo keeps its SQLite database and key.",
)
@click.option("--keep", is_flag=True, help="Keep the records of the previous run.")
@handle_errors
def demo(port: int, host: str, allow_remote: bool, data_dir: Path, keep: bool) -> None:
    """Start the example tool and a demo LMS that launches into it (real signed LTI 1.3).

    Open the printed URL, pick a learner or the instructor: each click performs an OIDC login
    and a signed launch into the tool inside the LMS frame. Data: SQLite in --data-dir,
    statements kept locally (no LRS), meetings from the built-in fake provider.
    """
    if not is_loopback_host(host) and not allow_remote:
        fail(f"--host {host} is not a loopback address; add --allow-remote if you really mean it")
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            fail(f"cannot listen on {host}:{port} ({exc.strerror}); choose another --port")
    started = time.monotonic()
    module = load_demo()
    app, url = module.build_demo(data_dir, host=host, port=port, fresh=not keep)
    click.echo(f"blendkit demo ready in {time.monotonic() - started:.1f} s")
    click.echo(f"Open {url} in your browser (Ctrl+C stops it).")
    module.serve(app, host, port)


commands: list[click.Command] = [demo]
