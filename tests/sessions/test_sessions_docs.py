"""The Python examples in docs/sessions/ run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs" / "sessions"
BLOCK = re.compile(r"```python\n(.*?)```", re.S)
# Pages whose blocks build on each other run in order in their own test module.
OWN_RUNNER = {
    "time-zones.md": "tests/sessions/test_time_zones_docs.py",
    "polls-and-qa.md": "tests/sessions/test_polls_docs.py",
    "recordings.md": "tests/courses/test_recordings_docs.py",
}


def examples() -> list[tuple[str, str]]:
    found = []
    for page in sorted(DOCS.glob("*.md")):
        if page.name in OWN_RUNNER:
            continue
        for n, code in enumerate(BLOCK.findall(page.read_text(encoding="utf-8"))):
            found.append((f"{page.name}#{n}", code))
    return found


@pytest.mark.parametrize(("where", "code"), examples(), ids=[w for w, _ in examples()])
def test_example_runs(where: str, code: str, capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(code, where, "exec"), {"__name__": "docs_example"})
    assert capsys.readouterr().out  # every example shows its result


def test_every_page_has_an_example() -> None:
    pages = {where.split("#")[0] for where, _ in examples()}
    assert pages == {"overview.md", "scheduling.md", "providers.md", "office-hours.md"}
