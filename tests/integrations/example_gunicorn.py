"""Start the example tool under gunicorn (its own ``gunicorn.conf.py``) on a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def example_env(port: int, database_url: str, **settings: str) -> dict[str, str]:
    """The process environment: the tool at ``http://127.0.0.1:<port>`` on ``database_url``,
    plus ``BLENDKIT_*`` variables given as keyword arguments (``METRICS_TOKEN="…"``)."""
    env = {
        **os.environ,
        "BLENDKIT_DATABASE_URL": database_url,
        "BLENDKIT_TOOL_BASE_URL": f"http://127.0.0.1:{port}",
        "BLENDKIT_TOOL_SECRET_KEY": "gunicorn-test-secret-0123456789abcdef",
        "BLENDKIT_TOOL_KEY_ENCRYPTION_KEYS": f'["{Fernet.generate_key().decode()}"]',
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.update({f"BLENDKIT_{name}": value for name, value in settings.items()})
    return env


def start_example(port: int, env: dict[str, str], *options: str) -> subprocess.Popen[bytes]:
    """gunicorn with the example's configuration, bound to ``port``; stderr is piped."""
    return subprocess.Popen(
        [
            str(GUNICORN),
            "--config", str(ROOT / "examples" / "flask_app" / "gunicorn.conf.py"),
            "--bind", f"127.0.0.1:{port}",
            *options,
            "blendkit_examples.flask_app.wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip


def wait_until_up(base: str, process: subprocess.Popen[bytes], path: str = "/healthz") -> None:
    """Poll ``base + path`` until it answers 200 (or the server exits, or 30 s pass)."""
    for _ in range(300):
        if process.poll() is not None:
            return
        try:
            if httpx.get(f"{base}{path}", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
