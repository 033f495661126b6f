"""``blendkit path advise``: recommendations and pitfalls of a path document, exit status."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from click.testing import CliRunner

from blendkit.cli import cli

COURSE = {
    "id": "leadership",
    "title": "Leadership",
    "course_start": "2026-03-02T08:00:00Z",
    "modules": [
        {
            "id": "m1",
            "items": [
                {"id": "vision", "nature": "conceptual"},
                {"id": "drill", "nature": "practice", "expected_minutes": 8},
                {"id": "talk", "kind": "live_session", "duration_minutes": 180},
            ],
        }
    ],
}


def _write(tmp_path: Path, course: dict[str, object]) -> str:
    target = tmp_path / "course.yaml"
    target.write_text(yaml.safe_dump(course))
    return str(target)


def test_json_names_rules_and_findings_and_exits_1(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["path", "advise", _write(tmp_path, COURSE), "--format", "json",
              "--zones", "Asia/Tokyo=3", "--zones", "America/New_York=3"],
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    out = json.loads(result.output)
    modes = {r["id"]: (r["mode"], r["rule"]) for r in out["recommendations"]}
    assert modes == {
        "vision": ("office_hours", "global.office_hours"),
        "drill": ("micro_learning", "skill.micro"),
        "talk": ("recording", "live.global"),
    }
    assert out["global_cohort"] is True
    assert out["learners"] == 6
    assert 1 <= len(out["office_hours"]) <= 2
    assert [f["rule"] for f in out["findings"]] == ["lecture_trap"]


def test_table_from_a_cohort_file_and_no_pitfalls_exits_0(tmp_path: Path) -> None:
    cohort = tmp_path / "cohort.csv"
    cohort.write_text("learner,time_zone\nann,Europe/London\nbob,Europe/Paris\n")
    calm = json.loads(json.dumps(COURSE))
    calm["modules"][0]["items"][2]["planned_interactions"] = 12
    result = CliRunner().invoke(
        cli, ["path", "advise", _write(tmp_path, calm), "--learners", str(cohort)]
    )
    assert result.exit_code == 0, result.output
    assert "conceptual.sync" in result.output
    assert "synchronous" in result.output
    assert "2 learners in 2 time zones; one weekly live slot serves 100%" in result.output
    assert "no pitfalls found" in result.output


def test_thresholds_are_options(tmp_path: Path) -> None:
    args = ["path", "advise", _write(tmp_path, COURSE), "--format", "json"]
    strict = CliRunner().invoke(cli, [*args, "--content-items", "3"])
    rules = [f["rule"] for f in json.loads(strict.output)["findings"]]
    assert rules == ["content_dumping", "lecture_trap"]
    lenient = CliRunner().invoke(cli, [*args, "--lecture-minutes", "240"])
    assert lenient.exit_code == 0, lenient.output


def test_bad_zones_are_refused_with_exit_2(tmp_path: Path) -> None:
    path = _write(tmp_path, COURSE)
    result = CliRunner().invoke(cli, ["path", "advise", path, "--zones", "Asia/Tokyo=many"])
    assert result.exit_code == 2
    assert "e.g. Asia/Tokyo=12" in result.output
    result = CliRunner().invoke(cli, ["path", "advise", path, "--zones", "Mars/Base=2"])
    assert result.exit_code == 2
    assert "not an IANA time zone" in result.output
