"""``blendkit demo``: the example tool plus a demo LMS on 127.0.0.1, ready to click through."""

from __future__ import annotations

import importlib
import socket
import sys
import time
from pathlib import Path
from types import ModuleType

import click

from blendkit._listen import is_loopback_host
from blendkit.cli._shared import fail, handle_errors

__all__ = ["commands"]

DEMO_MODULE = "examples.flask_app.demo"


def _checkout_root() -> Path | None:
    """The source checkout this blendkit was installed from (editable installs), if any."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "examples" / "flask_app" / "demo.py").is_file():
            return parent
    cwd = Path.cwd()
    return cwd if (cwd / "examples" / "flask_app" / "demo.py").is_file() else None


def load_demo() -> ModuleType:
    """Import the example app's demo module, putting the checkout on ``sys.path`` if needed."""
    root = _checkout_root()
    if root is not None and str(root) not in sys.path:
        sys.path.insert(0, str(root))
    try:
        return importlib.import_module(DEMO_MODULE)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if missing.startswith("examples"):
            fail(
                "the demo needs the example app (examples/flask_app), which is not installed "
                "with the package: run it from a blendkit checkout, e.g. "
                "`git clone … && cd blendkit && pip install -e '.[demo]' && blendkit demo`"
            )
        fail(f"the demo needs {missing!r}, which is not installed: pip install 'blendkit[demo]'")
    raise AssertionError("unreachable")


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
