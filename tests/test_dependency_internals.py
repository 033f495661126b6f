"""Where blendkit leans on a dependency's internals, the bounds that keep it safe, and the tests.

* ``Store``'s begin-at-first-write hook tells a locking read (``SELECT … FOR UPDATE``) from a
  plain one by ``Select._for_update_arg``: SQLAlchemy has no public accessor, and the
  alternatives (parsing the SQL text, or marking every locking query by hand) are more fragile.
  The PostgreSQL behaviour is tested in tests/store/test_begin_at_first_write.py; the hook
  itself runs here on every run, whatever the database.
* The xAPI values (``blendkit.xapi``) keep their JSON bytes in pydantic's documented
  ``__pydantic_private__`` attribute, and the hot builders assemble values by setting the four
  attributes ``model_construct`` sets (``model_construct`` itself costs about 5 us more per value,
  several values per statement). The tests below compare assembled values with validated ones.

pyproject bounds both libraries below their next minor release, so a release that changes these
internals fails here (after raising the bound) before a user meets it.
"""

from __future__ import annotations

import importlib.metadata
import tomllib
from pathlib import Path
from types import SimpleNamespace

import pytest
from packaging.requirements import Requirement
from sqlalchemy import column, select, table, update

from blendkit.store._engine import _BEGIN_AT_FIRST_WRITE, _begin_at_first_write
from blendkit.xapi import StatementContext, StatementScore
from blendkit.xapi._assembly import _assemble, _trusted
from tests.xapi.test_builders import _catalogue

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
THINGS = table("things", column("id"), column("name"))


def dependency(name: str) -> Requirement:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    return next(r for r in map(Requirement, project["dependencies"]) if r.name == name)


@pytest.mark.parametrize("name", ["pydantic", "sqlalchemy"])
def test_dependencies_read_privately_have_an_upper_bound_the_installed_version_meets(
    name: str,
) -> None:
    requirement = dependency(name)
    assert any(spec.operator == "<" for spec in requirement.specifier), (
        f"{name} is used through a private attribute: bound it below the next minor release"
    )
    assert requirement.specifier.contains(importlib.metadata.version(name))


def run_hook(statement: object, *, begin_at_first_write: bool = True) -> bool:
    """Whether the hook took the driver out of autocommit (i.e. BEGIN goes before ``statement``)."""
    raw = SimpleNamespace(autocommit=True)
    context = SimpleNamespace(
        root_connection=SimpleNamespace(info={_BEGIN_AT_FIRST_WRITE: begin_at_first_write}),
        compiled=SimpleNamespace(statement=statement),
    )
    _begin_at_first_write(SimpleNamespace(connection=raw), context)
    return not raw.autocommit


def test_a_plain_select_stays_outside_the_transaction() -> None:
    assert not run_hook(select(THINGS.c.id).where(THINGS.c.name == "a"))


@pytest.mark.parametrize(
    "locking",
    [
        select(THINGS.c.id).with_for_update(),
        select(THINGS.c.id).with_for_update(read=True),
        select(THINGS.c.id).with_for_update(skip_locked=True, of=THINGS),
    ],
    ids=["for-update", "for-share", "skip-locked"],
)
def test_a_locking_select_opens_the_transaction(locking: object) -> None:
    assert run_hook(locking)


def test_writes_open_the_transaction_and_autocommit_blocks_are_left_alone() -> None:
    assert run_hook(update(THINGS).values(name="b"))
    assert not run_hook(update(THINGS).values(name="b"), begin_at_first_write=False)


def test_an_assembled_value_is_the_validated_value() -> None:
    fields = {"scaled": 0.5, "raw": 5.0, "min": 0.0, "max": 10.0}
    assembled = _assemble(StatementScore, dict(fields), set(fields))
    validated = StatementScore.model_validate(fields)
    assert assembled == validated
    assert assembled.model_fields_set == validated.model_fields_set
    assert assembled.model_dump() == validated.model_dump()
    assert assembled.to_json() == validated.to_json()
    assert assembled.model_extra is None


def test_a_trusted_value_leaves_the_unset_fields_unset() -> None:
    trusted = _trusted(StatementContext, platform="blendkit", language="en")
    assert trusted == StatementContext(platform="blendkit", language="en")
    assert trusted.model_fields_set == {"platform", "language"}


def test_the_json_cache_is_kept_per_value_and_dropped_by_a_copy() -> None:
    score = StatementScore(scaled=0.5, raw=5, min=0, max=10)
    first = score.to_json()
    assert score.to_json() is first  # computed once
    copied = score.model_copy(update={"raw": 6.0})
    assert b'"raw":6.0' in copied.to_json()
    assert score.to_json() is first


@pytest.mark.parametrize("name", sorted(_catalogue()))
def test_every_built_statement_survives_validation_unchanged(name: str) -> None:
    built, _ = _catalogue()[name]
    again = type(built).model_validate_json(built.to_json())
    assert again == built
    assert again.to_json() == built.to_json()
