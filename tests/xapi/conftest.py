"""Fixtures: a real ralph LRS over HTTP on 127.0.0.1, started and stopped by the tests."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from blendkit.xapi import LRSClient
from tests.fence import loopback_fence

RALPH_ENV = "BLENDKIT_TEST_RALPH"
USERNAME, PASSWORD = "blendkit", "secret-for-tests"
SERVER = Path(__file__).with_name("ralph_server.py")


def ralph_available() -> bool:
    """True when ralph can run; when BLENDKIT_TEST_RALPH=required its absence is a failure."""
    found = importlib.util.find_spec("ralph") is not None
    if not found and os.environ.get(RALPH_ENV) == "required":
        pytest.fail("ralph is required (BLENDKIT_TEST_RALPH=required) but is not installed")
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Ralph:
    """A ralph process with its own data directory; stop() and start() keep the data."""

    def __init__(self, root: Path) -> None:
        import bcrypt

        self.root = root
        self.port = _free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}/xAPI/"
        (root / "lrs").mkdir(parents=True, exist_ok=True)
        (root / "app").mkdir(exist_ok=True)
        auth = [
            {
                "agent": {"mbox": "mailto:lrs-admin@example.org", "objectType": "Agent"},
                "scopes": ["all"],
                "hash": bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode(),
                "username": USERNAME,
            }
        ]
        (root / "auth.json").write_text(json.dumps(auth))
        self.env = {
            **os.environ,
            "RALPH_RUNSERVER_BACKEND": "fs",
            "RALPH_APP_DIR": str(root / "app"),
            "RALPH_AUTH_FILE": str(root / "auth.json"),
            "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(root / "lrs"),
            "RALPH_RUNSERVER_MAX_SEARCH_HITS_COUNT": "1000",
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.invalid: list[str] = []

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(SERVER), str(self.port), str(self.root)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=open(self.root / "server.log", "ab"),  # noqa: SIM115 - child owns it
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"ralph exited early: {(self.root / 'server.log').read_text()[-2000:]}"
                )
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/_stats", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("ralph did not start within 30 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.invalid.extend(self.stats()["invalid"])
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None

    def faults(self, plan: list[dict[str, Any]]) -> None:
        httpx.post(f"http://127.0.0.1:{self.port}/_faults", json=plan, timeout=5)

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = httpx.get(f"http://127.0.0.1:{self.port}/_stats", timeout=5).json()
        return result

    def client(self, **kwargs: Any) -> LRSClient:
        kwargs.setdefault("fence", loopback_fence())  # the LRS runs on 127.0.0.1
        return LRSClient(self.endpoint, auth=httpx.BasicAuth(USERNAME, PASSWORD), **kwargs)

    def stored_ids(self) -> list[str]:
        """Every statement id in the LRS, read through GET /statements with ``more`` paging."""
        with self.client(timeout=60) as client:
            return [s["id"] for s in client.iter_statements(limit=1000)]


@pytest.fixture(scope="session")
def ralph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ralph]:
    """One ralph LRS shared by the tests that only add statements with fresh ids."""
    if not ralph_available():
        pytest.skip("ralph-malph[lrs] is not installed (it is part of the dev extra)")
    server = Ralph(tmp_path_factory.mktemp("ralph"))
    server.start()
    yield server
    server.stop()
    assert server.invalid == [], "ralph's models refused statements blendkit sent"


@pytest.fixture
def fresh_ralph(tmp_path: Path) -> Iterator[Ralph]:
    """A ralph LRS with an empty store, for tests that count everything stored."""
    if not ralph_available():
        pytest.skip("ralph-malph[lrs] is not installed (it is part of the dev extra)")
    server = Ralph(tmp_path / "ralph")
    server.start()
    yield server
    server.stop()
    assert server.invalid == [], "ralph's models refused statements blendkit sent"
