"""A command whose database does not answer ends with one line naming the cause, no traceback."""

from __future__ import annotations

import socket

import pytest
from click.testing import CliRunner

from blendkit.cli import cli


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("args", [["outbox", "status"], ["grades", "status"], ["platform", "list"]])
def test_unreachable_database_is_one_line_and_exit_3(
    args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    port = _closed_port()
    url = f"postgresql+psycopg://blendkit:s3cret-pw@127.0.0.1:{port}/nowhere"
    monkeypatch.setenv("BLENDKIT_DATABASE_URL", url)
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 3, result.output
    assert isinstance(result.exception, SystemExit)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: the database does not answer")
    assert "OperationalError" in lines[0]
    assert "s3cret-pw" not in result.output
    assert "Traceback" not in result.output
