"""``blendkit path``: check, import-moodle, export-moodle, template, validate, risks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from blendkit.cli import cli

EVIDENCE = {
    "learner": "ann",
    "videos": {"prework-video": 95},
    "scores": {"readiness-quiz": [{"score": 55, "at": "2026-01-04T10:00:00Z"}]},
}


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    runner = CliRunner()
    made = runner.invoke(
        cli, ["path", "template", "flipped-classroom", "--start", "2026-01-05T09:00:00Z"]
    )
    assert made.exit_code == 0, made.output
    course = tmp_path / "course.yaml"
    course.write_text(made.output)
    evidence = tmp_path / "ev.json"
    evidence.write_text(json.dumps(EVIDENCE))
    return {"path": course, "evidence": evidence, "dir": tmp_path}


def test_check_json(files: dict[str, Path]) -> None:
    result = CliRunner().invoke(
        cli,
        ["path", "check", str(files["path"]), "--evidence", str(files["evidence"]),
         "--at", "2026-01-04T12:00:00Z", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    items = json.loads(result.output)["items"]
    by_id = {item["id"]: item for item in items}
    # 55% is below the pass: the readiness quiz stays open for another try
    assert by_id["readiness-quiz"]["state"] == "in_progress"
    assert by_id["live-session"] == {
        "id": "live-session",
        "state": "locked",
        "reasons": ["Score at least 60% on Readiness quiz — your best is 55%"],
    }


def test_check_table(files: dict[str, Path]) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "path",
            "check",
            str(files["path"]),
            "--evidence",
            str(files["evidence"]),
            "--at",
            "2026-01-04T12:00:00Z",
        ],
    )
    assert result.exit_code == 0
    assert "live-session" in result.output
    assert "your best is 55%" in result.output


def test_check_rejects_naive_time_and_bad_paths(files: dict[str, Path]) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "path",
            "check",
            str(files["path"]),
            "--evidence",
            str(files["evidence"]),
            "--at",
            "2026-01-04T12:00:00",
        ],
    )
    assert result.exit_code == 2
    assert "no timezone" in result.output
    bad = files["dir"] / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "id": "p",
                "modules": [
                    {
                        "id": "m",
                        "items": [
                            {"id": "a", "conditions": {"type": "score", "item": "a", "min": 101}}
                        ],
                    }
                ],
            }
        )
    )
    result = CliRunner().invoke(
        cli, ["path", "check", str(bad), "--evidence", str(files["evidence"])]
    )
    assert result.exit_code == 2
    assert "modules[0].items[0].conditions.min: must be between 0 and 100" in result.output


def test_moodle_import_export(tmp_path: Path) -> None:
    doc = {
        "op": "&",
        "c": [{"type": "grade", "id": 3, "min": 70.0}, {"type": "group"}],
        "showc": [True, False],
    }
    source = tmp_path / "moodle.json"
    source.write_text(json.dumps(doc))
    runner = CliRunner()
    imported = runner.invoke(cli, ["path", "import-moodle", str(source)])
    assert imported.exit_code == 0, imported.output
    condition = json.loads(imported.output)
    assert condition["all"][0] == {"type": "score", "item": "grade:3", "min": 70.0}
    blend = tmp_path / "condition.json"
    blend.write_text(imported.output)
    exported = runner.invoke(cli, ["path", "export-moodle", str(blend)])
    assert exported.exit_code == 0, exported.output
    assert json.loads(exported.output) == doc


def test_moodle_import_with_id_mapping(tmp_path: Path) -> None:
    source = tmp_path / "m.json"
    source.write_text(
        json.dumps({"op": "&", "c": [{"type": "completion", "cm": 8, "e": 1}], "showc": [True]})
    )
    ids = tmp_path / "ids.yaml"
    ids.write_text("cm:\n  8: reading-1\n")
    result = CliRunner().invoke(cli, ["path", "import-moodle", str(source), "--ids", str(ids)])
    assert json.loads(result.output)["all"][0]["item"] == "reading-1"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            {
                "op": "&",
                "c": [{"type": "grade", "id": 1}, {"op": "|", "c": [{"type": "xyz"}]}],
                "showc": [True, True],
            },
            'c[1].c[0]: unknown condition type "xyz"',
        ),
        (
            {"op": "&", "c": [{"type": "date", "d": "<", "t": "soon"}], "showc": [True]},
            "c[0]: 't' must be an integer",
        ),
    ],
)
def test_bad_moodle_documents_exit_2_naming_the_node(
    tmp_path: Path, document: object, message: str
) -> None:
    source = tmp_path / "bad.json"
    source.write_text(json.dumps(document))
    result = CliRunner().invoke(cli, ["path", "import-moodle", str(source)])
    assert result.exit_code == 2
    assert message in result.output


def test_export_of_unsupported_condition_exits_2(tmp_path: Path) -> None:
    source = tmp_path / "c.json"
    source.write_text(json.dumps({"all": [{"type": "attended", "item": "cm:4", "percent": 50}]}))
    result = CliRunner().invoke(cli, ["path", "export-moodle", str(source)])
    assert result.exit_code == 2
    assert (
        "all[0]: condition type 'attended' has no Moodle availability equivalent" in result.output
    )
    source.write_text(json.dumps({"all": [{"type": "nope"}]}))
    result = CliRunner().invoke(cli, ["path", "export-moodle", str(source)])
    assert result.exit_code == 2
    assert "all[0].type: unknown condition type 'nope'" in result.output


def test_validate_and_risks(files: dict[str, Path]) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["path", "validate", str(files["path"])])
    assert result.exit_code == 0
    assert "4 items" in result.output
    result = runner.invoke(
        cli,
        [
            "path",
            "risks",
            str(files["path"]),
            "--evidence",
            str(files["evidence"]),
            "--at",
            "2026-01-20T00:00:00Z",
        ],
    )
    assert result.exit_code == 0
    assert "behind_pace:" in result.output
    assert "missed_live_session: Missed Live session" in result.output


def test_template_json_and_help() -> None:
    runner = CliRunner()
    result = runner.invoke(
        cli,
        ["path", "template", "mastery-loop", "--format", "json", "--start", "2026-01-05T00:00:00Z"],
    )
    assert json.loads(result.output)["id"] == "mastery-loop"
    for command in ("check", "import-moodle", "export-moodle", "template", "validate", "risks"):
        assert runner.invoke(cli, ["path", command, "--help"]).exit_code == 0
