"""Courses: a course belongs to one deployment of a registration, and keeps its xAPI activity key.

Before this revision a course was keyed by (issuer, context_id), so two schools behind one
issuer (Canvas Cloud) shared a course when their context ids matched. From now on the key is
(issuer, client_id, deployment_id, context_id), and ``activity_key`` stores the course's id in
xAPI statements.

Each existing course keeps the activity key it used so far (``<issuer host>:<context id>``) so
its statements in the LRS continue, and is assigned to a deployment by this rule:

1. the registrations of its issuer (only the one of its client id when the course has one)
   hold exactly one deployment in ``lti_deployments``: that deployment;
2. otherwise the stored launches (``lti_launches``) into its issuer and context id (and client
   id, when known) all came through one deployment: that deployment;
3. otherwise (no evidence, or launches from several deployments, which means two institutions
   already shared the course) the course stays unassigned: ``deployment_id`` is NULL, no launch
   reaches it, and ``blendkit courses assign-deployment`` gives it to a deployment.

Revision ID: courses_0002
Revises: courses_0001
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations

revision = "courses_0002"
down_revision = "courses_0001"
branch_labels = None
depends_on = "core_0002"

_OLD_UNIQUE = "uq_course_courses_issuer_context"
_NEW_UNIQUE = "uq_course_courses_tenant_context"
_TENANT_COLUMNS = ["issuer", "client_id", "deployment_id", "context_id"]


def _old_activity_key(issuer: str, context_id: str) -> str:
    """What ``CourseService.course_key`` returned before this revision."""
    return f"{urlsplit(issuer).netloc or issuer}:{context_id}"


def _only(rows: Sequence[sa.Row[Any, Any]]) -> tuple[str, str] | None:
    found = {(str(r[0]), str(r[1])) for r in rows}
    return found.pop() if len(found) == 1 else None


_platforms = sa.table("lti_platforms", sa.column("id"), sa.column("issuer"), sa.column("client_id"))
_deployments = sa.table("lti_deployments", sa.column("platform_id"), sa.column("deployment_id"))
_launches = sa.table(
    "lti_launches",
    sa.column("issuer"),
    sa.column("client_id"),
    sa.column("deployment_id"),
    sa.column("context_id"),
)


def _deployment_of(
    bind: sa.Connection, issuer: str, client_id: str | None, context_id: str
) -> tuple[str, str] | None:
    """(client_id, deployment_id) for one existing course by the rule above, or None."""
    registered = (
        sa.select(_platforms.c.client_id, _deployments.c.deployment_id)
        .join_from(_platforms, _deployments, _deployments.c.platform_id == _platforms.c.id)
        .where(_platforms.c.issuer == issuer)
    )
    if client_id is not None:
        registered = registered.where(_platforms.c.client_id == client_id)
    if (only := _only(bind.execute(registered).all())) is not None:
        return only
    launched = (
        sa.select(_launches.c.client_id, _launches.c.deployment_id)
        .where(_launches.c.issuer == issuer, _launches.c.context_id == context_id)
        .distinct()
    )
    if client_id is not None:
        launched = launched.where(_launches.c.client_id == client_id)
    return _only(bind.execute(launched).all())


def _dependents_sqlite(bind: sa.Connection) -> list[str]:
    """Tables that reference course_courses, directly or through each other, parents first."""
    names = [
        r[0]
        for r in bind.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    children: dict[str, list[str]] = {}
    for name in names:
        for fk in bind.exec_driver_sql(f'PRAGMA foreign_key_list("{name}")'):
            children.setdefault(fk[2], []).append(name)
    order: list[str] = []
    queue = deque(children.get("course_courses", []))
    while queue:
        name = queue.popleft()
        if name in order:
            order.remove(name)  # referenced again further down: restore it after that parent
        order.append(name)
        queue.extend(children.get(name, []))
    return order


def _rebuild(alter: Callable[[BatchOperations], None]) -> None:
    """Apply batch operations to course_courses without losing rows that reference it.

    SQLite changes a constraint by copying the table and dropping the old one, and with foreign
    keys enforced that drop cascades into every table referencing course_courses. On SQLite
    those tables are saved to temporary copies first and put back afterwards (same ids).
    """
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    saved = _dependents_sqlite(bind) if sqlite else []
    # Table names below come from sqlite_master, never from input.
    for name in saved:
        bind.exec_driver_sql(f'CREATE TEMP TABLE "_save_{name}" AS SELECT * FROM "{name}"')  # noqa: S608
    with op.batch_alter_table("course_courses") as batch:
        alter(batch)
    for name in reversed(saved):
        bind.exec_driver_sql(f'DELETE FROM "{name}"')  # noqa: S608
    for name in saved:
        bind.exec_driver_sql(f'INSERT INTO "{name}" SELECT * FROM "_save_{name}"')  # noqa: S608
        bind.exec_driver_sql(f'DROP TABLE "_save_{name}"')


def upgrade() -> None:
    with op.batch_alter_table("course_courses") as batch:
        batch.add_column(sa.Column("deployment_id", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("activity_key", sa.String(length=1024), nullable=True))
    bind = op.get_bind()
    courses = bind.execute(
        sa.text("SELECT id, issuer, client_id, context_id FROM course_courses")
    ).all()
    for course_id, issuer, client_id, context_id in courses:
        values = {"id": course_id, "key": _old_activity_key(issuer, context_id)}
        assigned = _deployment_of(bind, issuer, client_id, context_id)
        if assigned is None:
            values.update(client_id=client_id, deployment_id=None)
        else:
            values.update(client_id=assigned[0], deployment_id=assigned[1])
        bind.execute(
            sa.text(
                "UPDATE course_courses SET activity_key = :key, client_id = :client_id, "
                "deployment_id = :deployment_id WHERE id = :id"
            ),
            values,
        )

    def tenant_key(batch: BatchOperations) -> None:
        batch.alter_column("activity_key", existing_type=sa.String(length=1024), nullable=False)
        batch.drop_constraint(_OLD_UNIQUE, type_="unique")
        batch.create_unique_constraint(_NEW_UNIQUE, _TENANT_COLUMNS)

    _rebuild(tenant_key)


def downgrade() -> None:
    bind = op.get_bind()
    shared = bind.execute(
        sa.text(
            "SELECT issuer, context_id FROM course_courses "
            "GROUP BY issuer, context_id HAVING COUNT(*) > 1"
        )
    ).first()
    if shared is not None:
        raise RuntimeError(
            "cannot go back to one course per issuer and context: several deployments have a "
            f"course for context {shared[1]!r} of {shared[0]}; remove all but one first"
        )

    def context_key(batch: BatchOperations) -> None:
        batch.drop_constraint(_NEW_UNIQUE, type_="unique")
        batch.create_unique_constraint(_OLD_UNIQUE, ["issuer", "context_id"])
        batch.drop_column("activity_key")
        batch.drop_column("deployment_id")

    _rebuild(context_key)
