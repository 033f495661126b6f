"""The runnable example of docs/lti/advantage.md runs and does what the page says."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "lti" / "advantage.md"


def test_runnable_example_posts_a_verified_score() -> None:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## A runnable example", 1)[1]
    (code,) = re.findall(r"```python\n(.*?)```", section, re.S)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(DOC), "exec"), {"__name__": "__docs__"})
    lines = out.getvalue().splitlines()
    assert lines[0] == "application/vnd.ims.lis.v1.score+json"
    given, timestamp = lines[1].split()
    assert given == "9.0"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$", timestamp)
