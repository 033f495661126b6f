"""Moodle availability JSON (core_availability, availability_relativedate) to and from conditions.

Roots follow Moodle's ``core_availability\\tree``: ``&`` and ``!|`` carry ``showc`` (one flag per
child), ``|`` and ``!&`` carry ``show``. ``!&``/``!|`` become NOT trees. A ``showc`` or ``show``
of false becomes ``hidden: true`` on the child or tree, so the round trip is lossless.
"""

from __future__ import annotations

import json
import math
import reprlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from blendkit.errors import MoodleFormatError
from blendkit.limits import check_tree, load_json
from blendkit.progression._conditions import AllOf, AnyOf, Condition, Not
from blendkit.progression._context_conditions import (
    DateCondition,
    DripCondition,
    GroupCondition,
    GroupingCondition,
    ProfileCondition,
    RelativeDateCondition,
)
from blendkit.progression._documents import error_lines
from blendkit.progression._leaves import PREVIOUS, CompletionCondition, ScoreCondition

__all__ = ["MoodleIds", "export_moodle", "import_moodle"]

_E_STATE = {0: "incomplete", 1: "complete", 2: "passed", 3: "failed"}
_STATE_E = {v: k for k, v in _E_STATE.items()}
_UNITS = ("minutes", "hours", "days", "weeks", "months")
_ANCHORS = (
    "course_start", "before_course_end", "enrolment", "enrolment_end",
    "after_course_end", "before_course_start", "completion",
)  # fmt: skip
_SHOWC_OPS = ("&", "!|")
_ID_RANGE = range(-(2**63), 2**63)  # Moodle ids are signed 64-bit database ids
_LAST_TIME = 253402300799  # 9999-12-31T23:59:59Z, the last second a datetime can hold
_SHOW = reprlib.Repr()
_SHOW.maxlevel, _SHOW.maxstring, _SHOW.maxother, _SHOW.maxlong = 2, 40, 40, 24
_OPS = ("&", "|", "!&", "!|")


class MoodleIds(BaseModel):
    """Moodle ids → blendkit ids; unmapped ones become ``cm:<id>``, ``grade:<id>`` and so on."""

    model_config = ConfigDict(frozen=True)

    cm: dict[int, str] = Field(default_factory=dict)
    grade: dict[int, str] = Field(default_factory=dict)
    group: dict[int, str] = Field(default_factory=dict)
    grouping: dict[int, str] = Field(default_factory=dict)

    def to_blendkit(self, kind: str, moodle_id: int) -> str:
        """The blendkit id for a Moodle id of ``kind`` (cm, grade, group, grouping)."""
        if kind == "cm" and moodle_id == -1:
            return PREVIOUS
        table: dict[int, str] = getattr(self, kind)
        return table.get(moodle_id, f"{kind}:{moodle_id}")

    def to_moodle(self, kind: str, blendkit_id: str, where: str) -> int:
        """The Moodle id for a blendkit id; MoodleFormatError when there is none."""
        if kind == "cm" and blendkit_id == PREVIOUS:
            return -1
        table: dict[int, str] = getattr(self, kind)
        for moodle_id, mapped in table.items():
            if mapped == blendkit_id:
                return moodle_id
        prefix = f"{kind}:"
        if blendkit_id.startswith(prefix) and blendkit_id[len(prefix) :].lstrip("-").isdigit():
            return int(blendkit_id[len(prefix) :])
        raise MoodleFormatError(
            f"{where}: {blendkit_id!r} has no Moodle {kind} id; name it '{prefix}<id>' or pass "
            f"a MoodleIds mapping with {kind}={{<id>: {blendkit_id!r}}}"
        )


def _fail(where: str, message: str) -> MoodleFormatError:
    return MoodleFormatError(f"{where or '(root)'}: {message}")


def _show(value: object) -> str:
    """A short, safe rendering of any decoded value (huge numbers and deep trees are cut)."""
    return _SHOW.repr(value)


def _int(node: Mapping[str, Any], key: str, where: str, default: int | None = None) -> int:
    value = node.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(where, f"{key!r} must be an integer, got {_show(value)}")
    if value not in _ID_RANGE:
        raise _fail(where, f"{key!r} is out of signed 64-bit range, got {_show(value)}")
    return value


def _timestamp(node: Mapping[str, Any], where: str) -> datetime:
    seconds = _int(node, "t", where)
    if not 0 <= seconds <= _LAST_TIME:
        raise _fail(
            where, f'date "t" must be a Unix time from 0 to {_LAST_TIME}, got {_show(seconds)}'
        )
    return datetime.fromtimestamp(seconds, UTC)


def _number(node: Mapping[str, Any], key: str, where: str) -> float | None:
    value = node.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _fail(where, f"{key!r} must be a number, got {_show(value)}")
    return value


def _build(cls: type[Condition], where: str, **fields: Any) -> Condition:
    try:
        return cls.model_validate(fields)
    except ValidationError as exc:
        raise _fail(where, f"{fields.get('type', 'condition')}: {error_lines(exc)[0]}") from None


def _leaf(node: Mapping[str, Any], where: str, ids: MoodleIds) -> Condition:
    kind = node["type"]
    if kind == "date":
        if node.get("d") not in (">=", "<"):
            got = _show(node.get("d"))
            raise _fail(where, f'date condition needs "d" of ">=" or "<", got {got}')
        moment = _timestamp(node, where)
        bound = "from" if node["d"] == ">=" else "until"
        return _build(DateCondition, where, type="date", **{bound: moment})
    if kind == "grade":
        item = ids.to_blendkit("grade", _int(node, "id", where))
        low, high = _number(node, "min", where), _number(node, "max", where)
        return _build(ScoreCondition, where, type="score", item=item, min=low, max=high)
    if kind == "completion":
        e = _int(node, "e", where)
        if e not in _E_STATE:
            raise _fail(where, f'completion "e" must be 0, 1, 2 or 3, got {e}')
        item = ids.to_blendkit("cm", _int(node, "cm", where))
        return _build(CompletionCondition, where, type="completion", item=item, state=_E_STATE[e])
    if kind == "group":
        group = ids.to_blendkit("group", _int(node, "id", where)) if "id" in node else None
        return _build(GroupCondition, where, type="group", group=group)
    if kind == "grouping":
        if "id" not in node:
            raise _fail(
                where,
                'grouping condition needs an "id" (the activity-grouping form is not supported)',
            )
        grouping = ids.to_blendkit("grouping", _int(node, "id", where))
        return _build(GroupingCondition, where, type="grouping", grouping=grouping)
    if kind == "profile":
        return _profile(node, where)
    if kind == "relativedate":
        return _relative(node, where, ids)
    raise _fail(where, f"unknown condition type {json.dumps(kind)}")


def _profile(node: Mapping[str, Any], where: str) -> Condition:
    if ("sf" in node) == ("cf" in node):
        raise _fail(where, 'profile condition needs exactly one of "sf" or "cf"')
    field = node.get("sf", node.get("cf"))
    if not isinstance(field, str):
        raise _fail(where, f"profile field name must be a string, got {_show(field)}")
    value = node.get("v")
    if value is not None and not isinstance(value, str):
        raise _fail(where, f'profile "v" must be a string, got {_show(value)}')
    return _build(
        ProfileCondition, where, type="profile", field=field, custom="cf" in node,
        op=node.get("op"), value=value,
    )  # fmt: skip


def _relative(node: Mapping[str, Any], where: str, ids: MoodleIds) -> Condition:
    n, d = _int(node, "n", where, 1), _int(node, "d", where, 2)
    s, m = _int(node, "s", where, 1), _int(node, "m", where, 0)
    if not 0 <= d < len(_UNITS):
        raise _fail(where, f'relativedate "d" must be 0-4 (minutes..months), got {d}')
    if not 1 <= s <= len(_ANCHORS):
        raise _fail(where, f'relativedate "s" must be 1-7, got {s}')
    item = ids.to_blendkit("cm", m) if m != 0 else None
    return _build(
        RelativeDateCondition, where, type="relative_date", amount=n, unit=_UNITS[d],
        anchor=_ANCHORS[s - 1], item=item,
    )  # fmt: skip


def _node(node: object, where: str, ids: MoodleIds, root: bool) -> Condition:
    if not isinstance(node, Mapping):
        raise _fail(where, f"expected an object, got {type(node).__name__}")
    if "type" in node:
        if root:
            raise _fail(where, 'the root must be a tree with "op" and "c", not a condition')
        if not isinstance(node["type"], str):
            raise _fail(where, f'condition "type" must be a string, got {_show(node["type"])}')
        return _leaf(node, where, ids)
    op, children = node.get("op"), node.get("c")
    if op not in _OPS:
        raise _fail(where, f'tree "op" must be one of & | !& !|, got {_show(op)}')
    if not isinstance(children, list):
        raise _fail(where, 'tree needs a "c" array of children')
    prefix = f"{where}." if where else ""
    kids = [_node(child, f"{prefix}c[{i}]", ids, False) for i, child in enumerate(children)]
    hidden_tree = False
    if root:
        showc, show = node.get("showc"), node.get("show")
        if op in _SHOWC_OPS or (showc is not None and show is None):
            if not isinstance(showc, list) or not all(isinstance(v, bool) for v in showc):
                raise _fail(where, f'a root with op {op!r} needs "showc": a list of booleans')
            if len(showc) != len(kids):
                raise _fail(where, f'"showc" has {len(showc)} flags for {len(kids)} children')
            kids = [
                k.model_copy(update={"hidden": not v}) for k, v in zip(kids, showc, strict=True)
            ]
        else:
            if not isinstance(show, bool):
                raise _fail(where, f'a root with op {op!r} needs "show": true or false')
            hidden_tree = not show
    inner: Condition = AllOf(all=tuple(kids)) if op in ("&", "!&") else AnyOf(any=tuple(kids))
    if op.startswith("!"):
        return Not(not_=inner, hidden=hidden_tree)
    return inner.model_copy(update={"hidden": hidden_tree}) if hidden_tree else inner


def import_moodle(
    document: str | bytes | Mapping[str, Any], ids: MoodleIds | None = None
) -> Condition:
    """The blendkit condition equal to a Moodle availability document (a tree root).

    Any input either converts or raises :class:`MoodleFormatError` naming the node (or the line,
    for text that is not JSON); documents are held to :data:`blendkit.limits.DOCUMENT_LIMITS`.
    """
    what = "Moodle availability"
    if isinstance(document, str | bytes):
        document = load_json(document, what=what, error=MoodleFormatError)
    else:
        check_tree(document, what=what, error=MoodleFormatError)
    return _node(document, "", ids or MoodleIds(), True)


# --- export --------------------------------------------------------------------------------------


def _export_leaf(condition: Condition, where: str, ids: MoodleIds) -> dict[str, Any]:
    if isinstance(condition, DateCondition):
        parts = []
        if condition.from_ is not None:
            parts.append({"type": "date", "d": ">=", "t": math.floor(condition.from_.timestamp())})
        if condition.until is not None:
            parts.append({"type": "date", "d": "<", "t": math.floor(condition.until.timestamp())})
        return parts[0] if len(parts) == 1 else {"op": "&", "c": parts}
    if isinstance(condition, ScoreCondition):
        if condition.attempt != "best":
            raise _fail(
                where, "Moodle grade conditions read the gradebook grade: use attempt 'best'"
            )
        out: dict[str, Any] = {"type": "grade", "id": ids.to_moodle("grade", condition.item, where)}
        if condition.min is not None:
            out["min"] = condition.min
        if condition.max is not None:
            out["max"] = condition.max
        return out
    if isinstance(condition, CompletionCondition):
        cm = ids.to_moodle("cm", condition.item, where)
        return {"type": "completion", "cm": cm, "e": _STATE_E[condition.state]}
    if isinstance(condition, GroupCondition):
        if condition.group is None:
            return {"type": "group"}
        return {"type": "group", "id": ids.to_moodle("group", condition.group, where)}
    if isinstance(condition, GroupingCondition):
        return {"type": "grouping", "id": ids.to_moodle("grouping", condition.grouping, where)}
    if isinstance(condition, ProfileCondition):
        out = {"type": "profile", "cf" if condition.custom else "sf": condition.field}
        out["op"] = condition.op
        if condition.value is not None:
            out["v"] = condition.value
        return out
    if isinstance(condition, RelativeDateCondition):
        m = ids.to_moodle("cm", condition.item, where) if condition.item else 0
        return {
            "type": "relativedate", "n": condition.amount, "d": _UNITS.index(condition.unit),
            "s": _ANCHORS.index(condition.anchor) + 1, "m": m,
        }  # fmt: skip
    if isinstance(condition, DripCondition) and float(condition.days).is_integer():
        return {"type": "relativedate", "n": int(condition.days), "d": 2, "s": 3, "m": 0}
    raise _fail(where, f"condition type {condition.type!r} has no Moodle availability equivalent")


def _export(condition: Condition, where: str, ids: MoodleIds) -> dict[str, Any]:
    if isinstance(condition, AllOf | AnyOf):
        op = "&" if isinstance(condition, AllOf) else "|"
        key = "all" if op == "&" else "any"
        kids = condition.children()
        return {"op": op, "c": [_export(k, f"{where}.{key}[{i}]", ids) for i, k in enumerate(kids)]}
    if isinstance(condition, Not):
        inner = condition.not_
        if isinstance(inner, AllOf | AnyOf):
            body = _export(inner, f"{where}.not", ids)
            return {"op": "!" + body["op"], "c": body["c"]}
        return {"op": "!&", "c": [_export(inner, f"{where}.not", ids)]}
    return _export_leaf(condition, where or "(root)", ids)


def export_moodle(condition: Condition, ids: MoodleIds | None = None) -> dict[str, Any]:
    """The Moodle availability document (a tree root) equal to ``condition``."""
    ids = ids or MoodleIds()
    tree = _export(condition, "", ids)
    if "type" in tree or condition.type not in ("all", "any", "not"):
        kids: tuple[Condition, ...] = (condition,)
        tree = {"op": "&", "c": [tree]}
    elif isinstance(condition, Not):
        inner = condition.not_
        kids = inner.children() if isinstance(inner, AllOf | AnyOf) else (inner,)
        if tree["op"] == "!&":
            return {**tree, "show": not condition.hidden}
    else:
        kids = condition.children()
        if tree["op"] == "|":
            return {**tree, "show": not condition.hidden}
    hide_all = condition.hidden and tree["op"] == "&"
    return {**tree, "showc": [not (k.hidden or hide_all) for k in kids]}
