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
    assert len(slots) == 7 * 48
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
