"""``[tool] log_format = "json"``: one JSON object per line, credentials in URLs redacted."""

from __future__ import annotations

import io
import json
import logging
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from blendkit import Settings
from blendkit.integrations.access_log import SENSITIVE_QUERY_PARAMETERS
from blendkit.operations import JsonLogFormatter, configure_logging


def _record(message: str, *args: object, exc_info: object = None) -> logging.LogRecord:
    return logging.LogRecord("blendkit.test", logging.WARNING, __file__, 1, message, args, exc_info)  # type: ignore[arg-type]


def test_a_record_is_one_line_of_json_with_time_level_logger_and_message() -> None:
    line = JsonLogFormatter().format(_record("outbox %s: %d pending", "lrs", 3))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "blendkit.test"
    assert entry["message"] == "outbox lrs: 3 pending"
    assert entry["time"].endswith("+00:00")
    assert "exception" not in entry


def test_an_exception_is_one_field_of_the_same_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        line = JsonLogFormatter().format(_record("failed", exc_info=sys.exc_info()))
    entry = json.loads(line)
    assert "ValueError: boom" in entry["exception"]


@given(
    name=st.sampled_from(sorted(SENSITIVE_QUERY_PARAMETERS)),
    value=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=8, max_size=40),
)
def test_sensitive_url_parameters_never_reach_a_json_line(name: str, value: str) -> None:
    line = JsonLogFormatter().format(
        _record('"GET /course?page=2&%s=%s HTTP/1.1" 200', name, value)
    )
    assert value not in line
    assert f"{name}=[redacted]" in json.loads(line)["message"]


def test_configure_logging_switches_the_root_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    root = logging.getLogger()
    before = list(root.handlers), root.level
    try:
        configure_logging("text")
        handler = configure_logging("json")  # replaces the first: one line per record
        logging.getLogger("blendkit.flask").warning("refused on /item?launch=abcdef123456")
        lines = stream.getvalue().splitlines()
        assert len(lines) == 1
        assert json.loads(lines[0])["message"] == "refused on /item?launch=[redacted]"
        assert handler in root.handlers
    finally:
        root.handlers[:] = before[0]
        root.setLevel(before[1])


def test_log_format_is_a_setting_with_two_values() -> None:
    assert Settings().tool.log_format == "text"
    assert Settings(tool={"log_format": "json"}).tool.log_format == "json"
    with pytest.raises(ValidationError):
        Settings(tool={"log_format": "xml"})
