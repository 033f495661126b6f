"""A peer-workshop course in the example tool, set up through the instructor's own pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from blendkit.progression import peer_workshop
from blendkit.review import rubric_to_text
from blendkit.review._starter import STARTER_RUBRIC
from blendkit.store._tables_courses import course_courses
from tests.app.conftest import INSTRUCTOR, Tool

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SETTINGS = {
    "reviewers": "2",
    "rubric": rubric_to_text(STARTER_RUBRIC),
    "blind": "double",
    "kinds": ["text", "link", "file"],
    "max_file_kb": "500",
    "submit_by": "",
    "review_by": "",
    "peer_weight": "50",
    "submit_item": "submission",
}


def peer_course(tool: Tool, context: str = "bio-101") -> str:
    """The peer-workshop template (its review phase already open) with the peer review set up
    by an instructor through the settings page; the instructor's launch id."""
    from blendkit_examples.flask_app.app import services

    teacher = tool.launch("teach", roles=(INSTRUCTOR,), context=context)
    assert tool.get("/course", teacher).status_code == 200
    with tool.app.app_context():
        svc = services()
        with tool.store.transaction() as s:
            course_id = s.execute(
                select(course_courses.c.id).where(course_courses.c.context_id == context)
            ).scalar_one()
        path = peer_workshop(datetime.now(UTC) - timedelta(days=8), reviews=2)
        svc.courses.set_path(svc.courses.course_by_id(course_id), path)
    page = tool.get("/teach/reviews/reviews/settings", teacher)
    assert page.status_code == 200
    assert "criterion clarity" in page.get_data(as_text=True)
    saved = tool.post("/teach/reviews/reviews/settings", teacher, SETTINGS)
    assert saved.status_code == 302, saved.get_data(as_text=True)
    return teacher


def learner(tool: Tool, sub: str, context: str = "bio-101") -> str:
    """A learner who read the brief (the submission is open)."""
    launch_id = tool.launch(sub, name=sub.title(), context=context)
    assert tool.post("/item/brief/done", launch_id).status_code == 302
    return launch_id


def submit(tool: Tool, launch_id: str, **fields: Any) -> Any:
    if "file" in fields:
        name, data = fields.pop("file")
        from io import BytesIO

        fields = {"kind": "file", "file": (BytesIO(data), name)}
        return tool.post(
            "/review/reviews/submit", launch_id, fields, content_type="multipart/form-data"
        )
    kind = next(iter(fields))
    return tool.post("/review/reviews/submit", launch_id, {"kind": kind, **fields})


def tasks(tool: Tool, launch_id: str) -> list[int]:
    page = tool.get("/review/reviews", launch_id).get_data(as_text=True)
    return [int(n) for n in re.findall(r"/review/reviews/task/(\d+)", page)]


REVIEW = {
    "level-clarity": "2",
    "comment-clarity": "Clear structure",
    "level-evidence": "1",
    "comment-evidence": "Add sources",
}


def review(tool: Tool, launch_id: str, task: int, general: str) -> Any:
    return tool.post(f"/review/reviews/task/{task}", launch_id, {**REVIEW, "general": general})
