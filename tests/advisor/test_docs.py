"""The advisor's docs: the rules table matches the rules, and the examples run as written."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from blendkit.advisor import ADVISOR_RULES
from tests.docs_blocks import DOCS, run_python_blocks

PAGE = "progression/advisor.md"


def test_the_rules_table_lists_every_rule_in_order() -> None:
    text = (DOCS / PAGE).read_text()
    rows = re.findall(r"^\| `([a-z_.]+)` \| (.+?) \| (.+?) \| (.+?) \|$", text, flags=re.M)
    decision = [row for row in rows if "." in row[0]]
    assert [(r.id, r.condition, r.mode.replace("_", " "), r.why) for r in ADVISOR_RULES] == (
        decision
    )


def test_the_page_example_prints_what_the_page_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run_python_blocks(PAGE, tmp_path, monkeypatch, count=1)
    printed = (DOCS / PAGE).read_text().rsplit("```text\n", 1)[1].split("```", 1)[0]
    assert capsys.readouterr().out == printed


def test_runnable_example_reproduces_the_three_rules() -> None:
    spec = importlib.util.spec_from_file_location(
        "course_advisor", DOCS / "examples" / "course_advisor.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    outcome = module.main()
    assert outcome["rules"] == {
        "vision": "global.office_hours",
        "feedback-drill": "skill.micro",
        "one-on-ones": "micro.kind",
        "kickoff": "live.global",
        "kickoff-1": "live.global",
    }
    assert outcome["findings"] == ["lecture_trap", "recording_uncaptioned"]
    assert outcome["office_hours"] == 2
