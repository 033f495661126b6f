"""Path documents: JSON/YAML round trips and errors that name the place in the document."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings

from blendkit.errors import PathInvalid, ProgressionError
from blendkit.progression import Path, dump_path, parse_evidence, parse_path, path_from_dict
from tests.progression import strategies as s


def doc(*items: dict[str, object], modules: int = 1) -> dict[str, object]:
    mods: list[dict[str, object]] = [{"id": f"m{n}", "items": []} for n in range(modules)]
    mods[-1]["items"] = list(items)
    if modules > 1:
        mods[0]["items"] = [{"id": "first"}]
    return {"id": "p", "modules": mods}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            doc(
                {
                    "id": "a",
                    "conditions": {
                        "all": [
                            {"type": "group"},
                            {"type": "group"},
                            {"type": "score", "item": "first", "min": 150},
                        ]
                    },
                },
                modules=2,
            ),
            "modules[1].items[0].conditions.all[2].min: must be between 0 and 100",
        ),
        (
            doc({"id": "a", "conditions": {"type": "score", "item": "ghost", "min": 50}}),
            "modules[0].items[0].conditions.item: unknown item id 'ghost'",
        ),
        (
            doc({"id": "a", "conditions": {"any": [{"type": "group"}, {"not": {"type": "nope"}}]}}),
            "modules[0].items[0].conditions.any[1].not.type: unknown condition type 'nope'",
        ),
        (
            doc(
                {"id": "a", "conditions": {"type": "completion", "item": "b"}},
                {"id": "b", "conditions": {"type": "completion", "item": "a"}},
            ),
            "dependency cycle: a → b → a",
        ),
        (doc({"id": "a"}, {"id": "a"}), "modules[0].items[1].id: duplicate item id 'a'"),
        (
            doc({"id": "a", "complete_when": {"type": "score", "item": "a", "attempt": "latest"}}),
            "modules[0].items[0].complete_when: a completion criterion may only use",
        ),
        (doc({"id": "a", "kind": "podcast"}), "modules[0].items[0].kind: Input should be"),
        (
            doc({"id": "a", "due": "2026-01-01T10:00:00"}),
            "modules[0].items[0].due: datetime must carry a timezone",
        ),
    ],
)
def test_errors_name_the_location(document: dict[str, object], message: str) -> None:
    with pytest.raises(PathInvalid) as caught:
        path_from_dict(document)
    assert message in caught.value.message
    # the same document as YAML text gives the same location
    with pytest.raises(PathInvalid, match=r"modules|cycle"):
        parse_path(json.dumps(document), "yaml")


def test_syntax_errors() -> None:
    with pytest.raises(PathInvalid, match="line 1 column"):
        parse_path('{"id": ', "json")
    with pytest.raises(PathInvalid, match="YAML"):
        parse_path("id: [unclosed", "yaml")
    with pytest.raises(PathInvalid, match="mapping"):
        parse_path("- a\n- b\n")


def test_self_previous_reference() -> None:
    with pytest.raises(PathInvalid, match="'@previous' has no previous item"):
        path_from_dict(doc({"id": "a", "conditions": {"type": "completion", "item": "@previous"}}))
    path = path_from_dict(
        doc({"id": "a"}, {"id": "b", "conditions": {"type": "completion", "item": "@previous"}})
    )
    assert path.gate("b")[0].item == "a"  # type: ignore[attr-defined]


@settings(max_examples=30, deadline=None)
@given(s.paths())
def test_json_and_yaml_round_trip(path: Path) -> None:
    assert parse_path(dump_path(path, "json")) == path
    assert parse_path(dump_path(path, "yaml"), "yaml") == path


def test_evidence_document() -> None:
    ev = parse_evidence(
        '{"learner": "ann", "videos": {"v": 50}, "scores": {"q": '
        '[{"score": 70, "at": "2026-01-01T00:00:00Z"}]}}'
    )
    assert ev.scores["q"][0].score == 70
    with pytest.raises(ProgressionError, match=r"videos\.v: must be between 0 and 100") as caught:
        parse_evidence('{"videos": {"v": 150}}')
    assert caught.value.code == "progression.evidence_invalid"


def test_evidence_pieces_from_json() -> None:
    from blendkit.progression import AttendanceRecorded, piece_from_dict

    piece = piece_from_dict({"kind": "attendance", "item": "live", "minutes": 42, "percent": 70})
    assert piece == AttendanceRecorded(item="live", minutes=42, percent=70)
    with pytest.raises(ProgressionError, match="evidence piece") as caught:
        piece_from_dict({"kind": "score", "item": "q", "score": 50})
    assert "at" in caught.value.message
