"""Canvas modules (as the Canvas modules API returns them) to a blendkit path.

``GET /api/v1/courses/:id/modules?include[]=items&include[]=content_details`` gives modules with
``prerequisite_module_ids``, ``unlock_at``, ``require_sequential_progress`` and items with a
``completion_requirement``; with ``content_details`` an item also carries its ``due_at``, which
becomes the item's due date. A module whose required items have due dates becomes a milestone
over those items, due at the latest of them (Canvas completes a module when all its requirements
are met: the milestone's "done"). See docs/progression/moodle-canvas.md for the full mapping.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from blendkit.errors import PathInvalid
from blendkit.progression._conditions import AllOf, Condition
from blendkit.progression._context_conditions import DateCondition
from blendkit.progression._documents import error_lines
from blendkit.progression._leaves import CompletionCondition, ScoreCondition, ViewedCondition
from blendkit.progression._path import Item, Milestone, Module, Path

__all__ = ["canvas_item_id", "import_canvas_modules"]

_KINDS = {
    "Quiz": "quiz",
    "Assignment": "assignment",
    "Discussion": "assignment",
    "Page": "reading",
    "File": "reading",
    "ExternalUrl": "external_link",
    "ExternalTool": "lti_link",
}


def canvas_item_id(module_item_id: int | str) -> str:
    """The blendkit id given to a Canvas module item."""
    return f"canvas:{module_item_id}"


def _criterion(item_id: str, raw: Mapping[str, Any], where: str) -> Condition | None:
    requirement = raw.get("completion_requirement")
    if not requirement:
        return None
    kind = requirement.get("type")
    if kind == "must_view":
        return ViewedCondition(item=item_id)
    if kind in ("must_submit", "must_contribute", "must_mark_done"):
        return None  # the platform's completion record completes it
    if kind == "min_percentage":
        return ScoreCondition(item=item_id, min=float(requirement["min_percentage"]))
    if kind == "min_score":
        points = (raw.get("content_details") or {}).get("points_possible")
        if not points:
            raise PathInvalid(
                f"{where}.completion_requirement: min_score needs the item's points_possible; "
                "fetch modules with include[]=content_details"
            )
        return ScoreCondition(
            item=item_id, min=min(100.0, 100.0 * requirement["min_score"] / points)
        )
    raise PathInvalid(f"{where}.completion_requirement: unknown requirement type {kind!r}")


def _moment(value: object) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _milestone(
    raw_module: Mapping[str, Any], module_id: str, dues: Mapping[str, datetime]
) -> Milestone | None:
    """The module as a milestone: its required items, due at the latest of their due dates;
    None without a dated requirement, or when Canvas needs only one requirement of several."""
    if raw_module.get("requirement_count") == 1 or not dues:
        return None
    return Milestone(
        id=module_id,
        title=str(raw_module.get("name", "")),
        items=tuple(dues),
        due=max(dues.values()),
    )


def import_canvas_modules(
    modules: Sequence[Mapping[str, Any]], *, path_id: str = "canvas-course", title: str = ""
) -> Path:
    """A path gated like the Canvas modules: prerequisites, unlock dates, order, requirements,
    item due dates, and a milestone per module whose required items are due."""
    required: dict[Any, list[str]] = {}
    milestones: list[Milestone] = []
    ordered = sorted(enumerate(modules), key=lambda pair: (pair[1].get("position", 0), pair[0]))
    built: list[Module] = []
    for index, raw_module in ordered:
        where = f"[{index}]"
        items: list[Item] = []
        with_requirement: list[str] = []
        dues: dict[str, datetime] = {}
        for n, raw in enumerate(raw_module.get("items") or ()):
            if raw.get("type") == "SubHeader":
                continue
            item_where = f"{where}.items[{n}]"
            item_id = canvas_item_id(raw["id"])
            gate: list[Condition] = []
            due_at = (raw.get("content_details") or {}).get("due_at")
            due = _moment(due_at) if due_at else None
            if raw_module.get("require_sequential_progress"):
                gate += [
                    CompletionCondition(item=prev, id="sequential") for prev in with_requirement
                ]
            try:
                items.append(
                    Item(
                        id=item_id,
                        title=str(raw.get("title", "")),
                        kind=_KINDS.get(str(raw.get("type")), "reading"),
                        conditions=AllOf(all=tuple(gate)) if gate else None,
                        complete_when=_criterion(item_id, raw, item_where),
                        due=due,
                        url=raw.get("external_url") or raw.get("html_url"),
                    )
                )
            except ValidationError as exc:
                raise PathInvalid(f"{item_where}: {error_lines(exc)[0]}") from None
            if raw.get("completion_requirement"):
                with_requirement.append(item_id)
                if due is not None:
                    dues[item_id] = due
        required[raw_module.get("id")] = with_requirement
        gate_parts: list[Condition] = []
        for prerequisite in raw_module.get("prerequisite_module_ids") or ():
            if prerequisite not in required:
                raise PathInvalid(
                    f"{where}.prerequisite_module_ids: module {prerequisite} is not earlier in "
                    "the course (Canvas prerequisites must come first)"
                )
            gate_parts += [CompletionCondition(item=i) for i in required[prerequisite]]
        if raw_module.get("unlock_at"):
            gate_parts.append(DateCondition(from_=_moment(raw_module["unlock_at"])))
        module_id = f"canvas-module:{raw_module.get('id', index)}"
        try:
            milestone = _milestone(raw_module, module_id, dues)
        except ValidationError as exc:
            raise PathInvalid(f"{where}: {error_lines(exc)[0]}") from None
        if milestone is not None:
            milestones.append(milestone)
        built.append(
            Module(
                id=module_id,
                title=str(raw_module.get("name", "")),
                items=tuple(items),
                conditions=AllOf(all=tuple(gate_parts)) if gate_parts else None,
            )
        )
    try:
        return Path(id=path_id, title=title, modules=tuple(built), milestones=tuple(milestones))
    except ValidationError as exc:
        raise PathInvalid(f"canvas modules: {error_lines(exc)[0]}") from None
