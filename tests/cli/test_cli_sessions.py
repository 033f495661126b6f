"""``blendkit sessions plan`` and ``blendkit sessions providers``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from blendkit.cli import cli

TERM = ["--from", "2026-03-02", "--to", "2026-04-30"]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "zones.csv"
    path.write_text(text, encoding="utf-8")
    return path


def run(zones: Path, *extra: str) -> Result:
    return CliRunner().invoke(cli, ["sessions", "plan", "--zones", str(zones), *TERM, *extra])


def plan_json(zones: Path, *extra: str) -> Any:
    result = run(zones, "--json", *extra)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_json_lists_ranked_slots_with_outside_learners_and_dates(tmp_path: Path) -> None:
    zones = write(tmp_path, "learner,time_zone\nny,America/New_York\nberlin,Europe/Berlin\n")
    plan = plan_json(zones, "--minutes", "60", "--top", "336")
    assert plan["learners"] == 2
    slots = plan["slots"]
    # Slots nobody can attend (nights, and weekends in both zones) are not offered.
    assert 0 < len(slots) < 7 * 48
    assert all(s["average_inside"] > 0 for s in slots)
    assert slots[0]["worst_week_inside"] == 2
    assert slots[0]["outside"] == []
    ranks = [(s["worst_week_inside"], s["average_inside"]) for s in slots]
    assert ranks == sorted(ranks, reverse=True)
    partial = next(s for s in slots if s["outside"])
    assert set(partial) >= {"weekday", "utc_start", "worst_week_inside", "average_inside"}
    entry = partial["outside"][0]
    assert set(entry) == {"learner_id", "time_zone", "dates"}
    assert entry["dates"]


def test_new_york_early_slot_reports_the_week_before_its_switch(tmp_path: Path) -> None:
    # Tuesday 12:30 UTC is 07:30 EST on 3 March (outside) and 08:30 EDT after 8 March.
    zones = write(tmp_path, "learner,time_zone\nny,America/New_York\n")
    slots = plan_json(zones, "--minutes", "60", "--top", "336")["slots"]
    tuesday = next(s for s in slots if s["weekday"] == 1 and s["utc_start"] == "12:30")
    assert tuesday["outside"] == [
        {"learner_id": "ny", "time_zone": "America/New_York", "dates": ["2026-03-03"]}
    ]
    assert tuesday["worst_week_inside"] == 0
    assert tuesday["inside_every_week"] == 0


def test_unknown_zone_is_reported_by_line_number(tmp_path: Path) -> None:
    zones = write(tmp_path, "learner,time_zone\na,Europe/Paris\n\nb,Europe/Pariss\n")
    result = run(zones, "--minutes", "60")
    assert result.exit_code == 2
    assert "line 4" in result.output
    assert "Europe/Pariss" in result.output


def test_bad_header_and_duplicate_learner_exit_2(tmp_path: Path) -> None:
    result = run(write(tmp_path, "name,zone\na,UTC\n"), "--minutes", "60")
    assert result.exit_code == 2
    assert "line 1" in result.output
    result = run(write(tmp_path, "learner,time_zone\na,UTC\na,Europe/Oslo\n"), "--minutes", "60")
    assert result.exit_code == 2
    assert "line 3" in result.output
    assert "line 2" in result.output


def test_bad_dates_are_rejected_by_the_option(tmp_path: Path) -> None:
    zones = write(tmp_path, "learner,time_zone\na,UTC\n")
    result = CliRunner().invoke(
        cli,
        [
            "sessions",
            "plan",
            "--zones",
            str(zones),
            "--from",
            "March",
            "--to",
            "2026-04-01",
            "--minutes",
            "60",
        ],
    )
    assert result.exit_code == 2
    assert "is not a date" in result.output


def test_human_output_is_a_table_with_the_recommendation(tmp_path: Path) -> None:
    zones = write(
        tmp_path, "learner,time_zone\nt,Asia/Tokyo\nn,America/New_York\nl,America/Los_Angeles\n"
    )
    result = run(zones, "--minutes", "240", "--min-share", "0.9")
    assert result.exit_code == 0, result.output
    assert "Best single slots" in result.output
    assert "asynchronously" in result.output
    assert "Suggested office hours" in result.output


def test_help_and_providers() -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["sessions", "plan", "--help"]).exit_code == 0
    listed = runner.invoke(cli, ["sessions", "providers"])
    assert listed.exit_code == 0
    assert "fake" in listed.output.split()


COHORT = "learner,time_zone\naiko,Asia/Tokyo\nben,America/New_York\nclara,Europe/Berlin\n"


def test_weekdays_are_counted_in_each_learners_zone(tmp_path: Path) -> None:
    # Sunday 23:00 UTC is Monday 08:00 in Tokyo but Sunday evening in New York.
    zones = write(tmp_path, COHORT)
    slots = plan_json(zones, "--minutes", "60", "--top", "336")["slots"]
    sunday = next(s for s in slots if s["weekday"] == 6 and s["utc_start"] == "23:00")
    assert {c["time_zone"]: c["attending"] for c in sunday["coverage"]} == {
        "Asia/Tokyo": ["aiko"],
        "America/New_York": [],
        "Europe/Berlin": [],
    }
    weekend = plan_json(zones, "--minutes", "60", "--top", "336", "--weekdays", "sat,sun")
    saturday_ny = next(
        s for s in weekend["slots"] if s["weekday"] == 5 and s["utc_start"] == "16:00"
    )
    assert "ben" in next(
        c["attending"] for c in saturday_ny["coverage"] if c["time_zone"] == "America/New_York"
    )
    assert weekend["weekdays"] == [5, 6]


def test_own_hours_column_and_course_hours(tmp_path: Path) -> None:
    zones = write(
        tmp_path,
        "learner,time_zone,hours\nday,Europe/Berlin,\nnight,Europe/Berlin,18:00-21:00\n",
    )
    plan = plan_json(zones, "--minutes", "60", "--hours", "09:00-17:00", "--per-week", "2")
    assert plan["covered"] == 2
    served = sorted(tuple(slot["coverage"][0]["attending"]) for slot in plan["chosen"])
    assert served == [("day",), ("night",)]
    for slot in plan["chosen"]:
        start = int(slot["utc_start"][:2])
        # Berlin is UTC+1 then UTC+2: evening slots start at 16:00 UTC or later.
        assert (start >= 16) is (slot["coverage"][0]["attending"] == ["night"])


def test_bad_own_hours_are_reported_by_line_number(tmp_path: Path) -> None:
    zones = write(tmp_path, "learner,time_zone,hours\na,UTC,09:00-17:00\nb,UTC,evenings\n")
    result = run(zones, "--minutes", "60")
    assert result.exit_code == 2
    assert "line 3" in result.output
    assert "09:00-17:00" in result.output


def test_human_output_prints_who_can_attend_per_zone(tmp_path: Path) -> None:
    result = run(write(tmp_path, COHORT), "--minutes", "60", "--top", "3")
    assert result.exit_code == 0, result.output
    assert "on mon,tue,wed,thu,fri in each learner's own zone" in result.output
    assert "can attend" in result.output
    lines = [line for line in result.output.splitlines() if line.startswith("#1 ")]
    assert len(lines) == 3  # one line per zone
    assert any("2 of" not in line and "1 of 1 can attend" in line for line in lines)
