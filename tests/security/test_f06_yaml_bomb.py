"""Finding 6: a 1.5 KB path document with YAML aliases became 24 MB stored.

Path documents (and every JSON/YAML document blendkit parses) refuse YAML anchors and aliases
and are capped in size, depth and number of values, as text and as stored; each refusal is the
library's error naming the line or node.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from blendkit import PathInvalid
from blendkit.cli import cli
from blendkit.limits import DOCUMENT_LIMITS, DocumentLimits, load_json, load_yaml
from blendkit.progression import parse_evidence, parse_path, path_from_dict
from blendkit.progression._documents import parse_document

HEAD = """\
id: bomb
title: Bomb
modules:
- id: m
  title: M
  items:
  - id: a
    title: A
  - id: b
    title: B
"""


def alias_bomb(levels: int = 6, fan: int = 10) -> str:
    """A valid-looking path whose gate condition expands to fan**levels leaves through aliases."""
    lines = [HEAD, "    conditions:\n", "      type: all\n", "      all:\n"]
    lines.append("      - &c0 {type: completion, item: a}\n")
    for level in range(1, levels + 1):
        refs = ", ".join([f"*c{level - 1}"] * fan)
        lines.append(f"      - &c{level} {{type: all, all: [{refs}]}}\n")
    return "".join(lines)


def test_the_alias_bomb_is_refused_at_its_first_anchor() -> None:
    bomb = alias_bomb()
    assert len(bomb) < 1_500
    with pytest.raises(PathInvalid) as refused:
        parse_path(bomb)
    assert refused.value.code == "document.yaml_alias"
    assert "line 14 column 9" in refused.value.message


@pytest.mark.parametrize(
    "document",
    [
        "a: &x 1\n",  # an anchor alone
        "a: [1, 2]\nb: *x\n",  # an alias to nothing
        "base: &b {k: 1}\nother:\n  <<: *b\n",  # a merge key needs an alias
        "--- &top\n- 1\n",  # an anchored document root
    ],
)
def test_every_anchor_or_alias_is_refused(document: str) -> None:
    with pytest.raises(PathInvalid) as refused:
        parse_document(document, "yaml")
    assert refused.value.code in {"document.yaml_alias", "progression.path_invalid"}
    if "&" in document:
        assert refused.value.code == "document.yaml_alias"


def test_deep_yaml_and_json_are_refused_naming_the_line() -> None:
    deep_yaml = "".join(f"{'  ' * i}k{i}:\n" for i in range(200)) + "  " * 200 + "x: 1\n"
    with pytest.raises(PathInvalid) as refused:
        parse_path(deep_yaml)
    assert refused.value.code == "document.too_deep"
    assert "line 64 " in refused.value.message
    deep_json = "[" * 3000 + "]" * 3000
    with pytest.raises(PathInvalid) as refused:
        parse_path(deep_json)
    assert refused.value.code == "document.too_deep"
    assert "line 1 column 65" in refused.value.message


def test_too_many_values_and_too_many_bytes_are_refused() -> None:
    many = "items: [" + ", ".join("1" for _ in range(DOCUMENT_LIMITS.max_nodes + 1)) + "]\n"
    with pytest.raises(PathInvalid) as refused:
        parse_path(many)
    assert refused.value.code == "document.too_many_nodes"
    with pytest.raises(PathInvalid) as refused:
        parse_path(json.dumps({"items": list(range(DOCUMENT_LIMITS.max_nodes + 1))}))
    assert refused.value.code == "document.too_many_nodes"
    huge = "title: " + "x" * (DOCUMENT_LIMITS.max_bytes + 1) + "\n"
    with pytest.raises(PathInvalid) as refused:
        parse_path(huge)
    assert refused.value.code == "document.too_large"


def test_a_path_too_large_to_store_is_refused_before_it_is_stored() -> None:
    data = yaml.safe_load(HEAD)
    data["modules"][0]["items"][0]["title"] = "t" * (DOCUMENT_LIMITS.max_bytes + 1)
    with pytest.raises(PathInvalid) as refused:
        path_from_dict(data)
    assert refused.value.code == "document.too_large"


def test_evidence_documents_get_the_same_caps() -> None:
    with pytest.raises(PathInvalid) as refused:
        parse_evidence("learner: ana\npieces: &p []\n")
    assert refused.value.code == "document.yaml_alias"


def test_cli_validate_names_the_line_and_exits_2(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(alias_bomb(), encoding="utf-8")
    result = CliRunner().invoke(cli, ["path", "validate", str(bomb)])
    assert result.exit_code == 2
    assert "document.yaml_alias" in result.output
    assert "line 14 column 9" in result.output


# --- properties ----------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=40,
)


@given(json_values)
def test_documents_within_the_caps_load_as_they_are(value: object) -> None:
    assert load_json(json.dumps(value), what="test", error=PathInvalid) == value
    assert load_yaml(yaml.safe_dump(value), what="test", error=PathInvalid) == value


@given(json_values, st.integers(1, 6), st.integers(1, 30))
def test_caps_hold_for_any_tree(value: object, depth: int, nodes: int) -> None:
    limits = DocumentLimits(max_depth=depth, max_nodes=nodes)
    for text, load in ((json.dumps(value), load_json), (yaml.safe_dump(value), load_yaml)):
        codes = set()
        try:
            load(text, what="test", error=PathInvalid, limits=limits)
        except PathInvalid as exc:
            codes.add(exc.code)
        assert codes <= {"document.too_deep", "document.too_many_nodes"}


@given(st.binary(max_size=300) | st.text(max_size=300).map(lambda t: t.encode("utf-8", "replace")))
def test_any_bytes_give_a_path_or_the_librarys_error(data: bytes) -> None:
    with contextlib.suppress(PathInvalid):
        parse_path(data)


shared = st.lists(st.integers(), min_size=1, max_size=3) | st.dictionaries(
    st.text(max_size=3), st.integers(), min_size=1, max_size=3
)


@given(shared)
def test_yaml_that_repeats_an_object_is_refused_not_expanded(value: object) -> None:
    text = yaml.safe_dump({"a": value, "b": value})  # PyYAML writes &id001 and *id001
    assert "&id001" in text
    with pytest.raises(PathInvalid) as refused:
        load_yaml(text, what="test", error=PathInvalid)
    assert refused.value.code == "document.yaml_alias"
