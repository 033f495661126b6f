"""`blendkit outbox …` and `blendkit statements …` against a real store and the real ralph LRS."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from blendkit.cli import cli
from blendkit.config import load_settings
from blendkit.store import Store
from blendkit.xapi import Outbox, StatementFactory, lti_actor

from .conftest import PASSWORD, USERNAME, Ralph

FACTORY = StatementFactory("https://tool.example.edu")


def queued_outbox() -> Outbox:
    store = Store.from_settings(load_settings())
    store.migrate()
    return Outbox(store)


def some(n: int, tag: str) -> list[bytes]:
    actor = lti_actor("https://moodle.example.edu", f"cli-{tag}")
    return [
        FACTORY.module("completed", actor, module_id=f"{tag}-{i}", course_id=tag).to_json()
        for i in range(n)
    ]


def use_lrs(monkeypatch: pytest.MonkeyPatch, ralph: Ralph) -> None:
    monkeypatch.setenv("BLENDKIT_XAPI_ENDPOINT", ralph.endpoint)
    monkeypatch.setenv("BLENDKIT_HTTP_ALLOWED_HOSTS", '["127.0.0.1"]')  # the LRS on loopback
    monkeypatch.setenv("BLENDKIT_XAPI_USERNAME", USERNAME)
    monkeypatch.setenv("BLENDKIT_XAPI_PASSWORD", PASSWORD)


def test_every_command_has_help() -> None:
    runner = CliRunner()
    for args in (
        ["outbox", "--help"],
        ["outbox", "status", "--help"],
        ["outbox", "flush", "--help"],
        ["outbox", "retry-dead", "--help"],
        ["outbox", "run", "--help"],
        ["statements", "export", "--help"],
        ["statements", "import", "--help"],
    ):
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, args
        assert "Usage:" in result.output


def test_local_only_status_flush_and_export(tmp_path: Path) -> None:
    queued_outbox().emit([orjson.loads(line) for line in some(3, "local")])
    runner = CliRunner()
    status = runner.invoke(cli, ["outbox", "status"])
    assert status.exit_code == 0
    assert "pending: 3" in status.output
    assert "none configured" in status.output
    flush = runner.invoke(cli, ["outbox", "flush"])
    assert flush.exit_code == 1
    assert "no LRS configured" in flush.output
    target = tmp_path / "out.jsonl"
    exported = runner.invoke(cli, ["statements", "export", "--format", "jsonl", "-o", str(target)])
    assert exported.exit_code == 0
    assert [orjson.loads(line)["object"]["id"] for line in target.read_bytes().splitlines()] == [
        f"https://tool.example.edu/xapi/module/local-{i}" for i in range(3)
    ]


def test_import_reports_bad_lines_by_number_and_delivers_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_ralph: Ralph
) -> None:
    good = some(4, "import")
    lines = [good[0], b"{not json", good[1], b"", good[2], b'{"verb": {"id": "x"}}', good[3]]
    source = tmp_path / "from-other-lrs.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    use_lrs(monkeypatch, fresh_ralph)
    result = CliRunner().invoke(cli, ["statements", "import", str(source)])
    assert result.exit_code == 2  # some lines were bad
    assert "line 2: statement: not valid JSON" in result.output
    assert "line 6: statement." in result.output
    assert "queued 4 statement(s); rejected 2 line(s)" in result.output
    assert "delivered 4" in result.output
    assert sorted(fresh_ralph.stored_ids()) == sorted(orjson.loads(g)["id"] for g in good)


def test_flush_delivers_and_exits_zero_then_status_counts(
    monkeypatch: pytest.MonkeyPatch, ralph: Ralph
) -> None:
    queued_outbox().emit([orjson.loads(line) for line in some(120, "flush")])
    use_lrs(monkeypatch, ralph)
    runner = CliRunner()
    flush = runner.invoke(cli, ["outbox", "flush"])
    assert flush.exit_code == 0, flush.output
    assert "delivered 120, dead 0, still pending 0" in flush.output
    status = runner.invoke(cli, ["outbox", "status"])
    assert "pending: 0" in status.output
    assert "delivered: 120" in status.output


def test_flush_fails_while_the_lrs_is_down_and_retry_dead_requeues(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    box = queued_outbox()
    box.emit([orjson.loads(line) for line in some(2, "down")])
    monkeypatch.setenv("BLENDKIT_XAPI_ENDPOINT", "http://127.0.0.1:9/xAPI/")
    monkeypatch.setenv("BLENDKIT_HTTP_ALLOWED_HOSTS", '["127.0.0.1"]')
    monkeypatch.setenv("BLENDKIT_XAPI_TIMEOUT_SECONDS", "0.5")
    flush = CliRunner().invoke(cli, ["outbox", "flush", "--max-seconds", "1"])
    assert flush.exit_code == 1
    assert "could not be reached" in flush.output
    assert box.status().pending == 2
    retry = CliRunner().invoke(cli, ["outbox", "retry-dead"])
    assert retry.exit_code == 0
    assert "queued 0 dead letter(s) again" in retry.output
