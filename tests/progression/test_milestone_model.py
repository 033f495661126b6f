"""The milestone model and its checks when a path is built."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from blendkit.errors import PathInvalid
from blendkit.progression import Item, Milestone, Module, Path, dump_path, parse_path

DUE = datetime(2026, 3, 1, tzinfo=UTC)


def _path(*milestones: Milestone) -> Path:
    return Path(
        id="p",
        modules=(
            Module(id="m1", items=(Item(id="a"), Item(id="b"))),
            Module(id="m2", items=(Item(id="c"),)),
        ),
        milestones=milestones,
    )


def test_a_milestone_needs_exactly_one_due_field() -> None:
    with pytest.raises(ValidationError, match="exactly one"):
        Milestone(id="w1", items=("a",))
    with pytest.raises(ValidationError, match="exactly one"):
        Milestone(id="w1", items=("a",), due=DUE, due_after_enrolment_days=7)
    with pytest.raises(ValidationError):
        Milestone(id="w1", items=("a",), due_after_enrolment_days=-1)


def test_a_milestone_covers_at_least_one_item_or_module() -> None:
    with pytest.raises(ValidationError, match="covers nothing"):
        Milestone(id="w1", due=DUE)


def test_unknown_ids_are_named() -> None:
    with pytest.raises(ValidationError, match="unknown item id 'zz'"):
        _path(Milestone(id="w1", due=DUE, items=("a", "zz")))
    with pytest.raises(ValidationError, match="unknown module id 'm9'"):
        _path(Milestone(id="w1", due=DUE, modules=("m9",)))


def test_milestone_ids_are_unique() -> None:
    with pytest.raises(ValidationError, match="duplicate milestone id 'w1'"):
        _path(Milestone(id="w1", due=DUE, items=("a",)), Milestone(id="w1", due=DUE, items=("b",)))


def test_covered_items_are_listed_in_path_order_once() -> None:
    milestone = Milestone(id="w1", due_after_enrolment_days=7, items=("c", "a"), modules=("m1",))
    path = _path(milestone)
    assert path.milestone_items(milestone) == ("a", "b", "c")


def test_milestones_survive_a_document_round_trip() -> None:
    path = _path(
        Milestone(id="w1", title="Week 1", due=DUE, modules=("m1",)),
        Milestone(id="w2", due_after_enrolment_days=14, items=("c",)),
    )
    for fmt in ("json", "yaml"):
        assert parse_path(dump_path(path, fmt), fmt) == path


def test_a_document_error_names_the_milestone_location() -> None:
    text = (
        '{"id": "p", "modules": [{"id": "m", "items": [{"id": "a"}]}],'
        ' "milestones": [{"id": "w", "due_after_enrolment_days": 3, "items": ["x"]}]}'
    )
    with pytest.raises(PathInvalid, match=r"milestones\[0\]\.items\[0\].*unknown item id 'x'"):
        parse_path(text, "json")


def test_a_milestone_over_empty_modules_is_refused() -> None:
    with pytest.raises(ValidationError, match="covers no items"):
        Path(
            id="p",
            modules=(Module(id="empty"), Module(id="m", items=(Item(id="a"),))),
            milestones=(Milestone(id="w", due=DUE, modules=("empty",)),),
        )
