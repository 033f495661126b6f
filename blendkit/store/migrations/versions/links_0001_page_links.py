"""Links: stored links a page would carry that are not http(s) or a path on the tool's site.

A path item's ``url`` and a recording's ``media_url`` are now checked when they are set
(``blendkit._links.page_link_problem``): no ``javascript:``, ``data:`` or ``vbscript:``, no
``//host`` dressed as a path. A link stored before the check would make its course's path fail
to load (items) or reach a learner's page (media), so this revision removes it: the item keeps
no link, the recording no media file, until an instructor sets a valid one.

Revision ID: links_0001

It depends on ``courses_0001`` (the tables it reads) and ``recordings_0001`` (which adds
``course_recordings.media_url``), not on the courses branch's head (see ``calendar_0001`` for
why).
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

from blendkit._links import page_link_problem

revision = "links_0001"
down_revision = None
branch_labels = ("links",)
depends_on = ("courses_0001", "recordings_0001")

_courses = sa.table("course_courses", sa.column("id"), sa.column("path"))
_recordings = sa.table("course_recordings", sa.column("id"), sa.column("media_url"))


def _media_problem(url: str) -> bool:
    return not url.startswith(("https://", "http://", "/")) or page_link_problem(url) is not None


def _without_bad_links(document: Any) -> bool:
    """Drop every item ``url`` a page may not carry from a decoded path; whether any was."""
    changed = False
    for module in document.get("modules") or []:
        for item in module.get("items") or []:
            url = item.get("url")
            if isinstance(url, str) and page_link_problem(url) is not None:
                del item["url"]
                changed = True
    return changed


def upgrade() -> None:
    bind = op.get_bind()
    for row in bind.execute(sa.select(_courses.c.id, _courses.c.path)).all():
        try:
            document = json.loads(row.path)
        except ValueError:
            continue  # not a JSON document: the path loader names the problem, as before
        if isinstance(document, dict) and _without_bad_links(document):
            text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
            bind.execute(_courses.update().where(_courses.c.id == row.id).values(path=text))
    rows = bind.execute(
        sa.select(_recordings.c.id, _recordings.c.media_url).where(
            _recordings.c.media_url.is_not(None)
        )
    ).all()
    bad = [r.id for r in rows if _media_problem(r.media_url)]
    if bad:
        bind.execute(_recordings.update().where(_recordings.c.id.in_(bad)).values(media_url=None))


def downgrade() -> None:
    """Nothing to undo: the removed links were never usable."""
