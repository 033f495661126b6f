"""The path fields the advisor reads (nature, expected length, planned interactions, the micro
kind) round-trip through path documents and stay out of the Moodle and Canvas conversions."""

from __future__ import annotations

import pytest

from blendkit.errors import PathInvalid
from blendkit.progression import (
    CompletionCondition,
    Item,
    Module,
    MoodleIds,
    Path,
    dump_path,
    export_moodle,
    import_canvas_modules,
    parse_path,
)

COURSE = Path(
    id="c",
    modules=(
        Module(
            id="m",
            items=(
                Item(id="tip", kind="micro", nature="practice", expected_minutes=5),
                Item(
                    id="live",
                    kind="live_session",
                    nature="discussion",
                    duration_minutes=90,
                    planned_interactions=9,
                    conditions=CompletionCondition(item="tip"),
                ),
            ),
        ),
    ),
)


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_new_fields_round_trip_through_documents(fmt: str) -> None:
    assert parse_path(dump_path(COURSE, fmt)) == COURSE  # type: ignore[arg-type]


def test_documents_without_them_still_load() -> None:
    course = parse_path("id: c\nmodules: [{id: m, items: [{id: a}]}]\n")
    item = course.item("a")
    assert (item.nature, item.expected_minutes, item.planned_interactions) == (None, None, None)


def test_nature_and_length_are_checked() -> None:
    with pytest.raises(PathInvalid, match="nature"):
        parse_path("id: c\nmodules: [{id: m, items: [{id: a, nature: boring}]}]\n")
    with pytest.raises(PathInvalid, match="expected_minutes"):
        parse_path("id: c\nmodules: [{id: m, items: [{id: a, expected_minutes: 0}]}]\n")


def test_moodle_export_ignores_the_new_fields() -> None:
    gate = COURSE.gate("live")[0]
    plain = Path(
        id="c",
        modules=(
            Module(
                id="m",
                items=(
                    Item(id="tip"),
                    Item(id="live", conditions=CompletionCondition(item="tip")),
                ),
            ),
        ),
    )
    assert gate == plain.gate("live")[0]
    exported = export_moodle(gate, MoodleIds(cm={7: "tip"}))
    assert exported == export_moodle(plain.gate("live")[0], MoodleIds(cm={7: "tip"}))
    assert "nature" not in str(exported)


def test_canvas_import_declares_no_nature_or_micro_kind() -> None:
    modules = [{"id": 1, "name": "Week 1", "items": [{"id": 11, "type": "Page", "title": "Read"}]}]
    course = import_canvas_modules(modules, path_id="c")
    (item,) = course.items()
    assert item.kind != "micro"
    assert (item.nature, item.expected_minutes) == (None, None)
