"""``blendkit demo`` starts the tool and the demo LMS; a launch through it reaches the course."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from click.testing import CliRunner

from blendkit.cli import cli
from tests.e2e.form_browser import FormBrowser

BLENDKIT = Path(sys.executable).with_name("blendkit")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_demo_refuses_a_public_interface_without_allow_remote() -> None:
    result = CliRunner().invoke(cli, ["demo", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "not a loopback address" in result.output


def test_demo_names_a_busy_port() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(cli, ["demo", "--port", str(port)])
    assert result.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.output


def test_demo_starts_prints_its_url_and_launches(tmp_path: Path) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [str(BLENDKIT), "demo", "--port", str(port), "--data-dir", str(tmp_path / "data")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,  # not the checkout: the command finds the example app itself
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            lines.append(line)
            if "Open http://" in line:
                break
        url = f"http://127.0.0.1:{port}/demo-lms"
        assert any(url in line for line in lines), lines
        for _ in range(50):
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        home = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
        assert home.status_code == 302, "the tool's root opens the demo LMS"
        assert home.headers["location"].endswith("/demo-lms")
        browser = FormBrowser()
        try:
            first = browser.get(f"{url}/launch?user=demo-kofi&message=resource")
            page = browser.submit(first)  # what the auto-submit script does
            assert page.status_code == 200, page.text[:500]
            assert "Role: <strong class='role'>Learner</strong>" in page.text
            assert "Biology 101: Cells" in page.text
            assert "(Africa/Accra)" in page.text
        finally:
            browser.close()
        assert (tmp_path / "data" / "demo.sqlite3").exists()
    finally:
        process.terminate()
        process.wait(timeout=10)
