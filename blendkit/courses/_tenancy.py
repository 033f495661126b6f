"""Courses belong to a deployment: the key of a course, its xAPI activity key, and the courses
from before deployment tenancy that wait for an administrator to assign them.

A course is (issuer, client_id, deployment_id, context_id): on Canvas Cloud every school shares
the issuer and, with an inherited developer key, the client id, so only the deployment keeps one
school's learners, evidence, sessions and grades out of another's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, and_, bindparam, or_, select, update

from blendkit.courses._models import Course
from blendkit.errors import AlreadyExists, CourseInputInvalid, CourseUnassigned, NotFound
from blendkit.lti import StorePlatformRegistry, Tenant
from blendkit.store import Store
from blendkit.store._tables_core import lti_launches
from blendkit.store._tables_courses import course_courses

__all__ = [
    "TENANT_KEY",
    "CourseAssignments",
    "activity_key",
    "check_tenant",
    "unassigned_course",
]

TENANT_KEY = (
    course_courses.c.issuer == bindparam("issuer"),
    course_courses.c.client_id == bindparam("client_id"),
    course_courses.c.deployment_id == bindparam("deployment_id"),
    course_courses.c.context_id == bindparam("context_id"),
)
"""Where-clauses selecting the course of one context in one deployment (bind parameters)."""


def activity_key(tenant: Tenant, context_id: str) -> str:
    """The xAPI course key of a new course: ``<issuer host>:<deployment key>:<context id>``.

    The deployment key (:attr:`Tenant.key`) makes it unique per deployment, so two schools on
    one Canvas Cloud issuer never share a course activity in the LRS; it is a hash, so it is
    the same in every process. Courses created before deployment tenancy keep the key they
    had (``<issuer host>:<context id>``), stored on their row, so their LRS history continues.
    """
    host = urlsplit(tenant.issuer).netloc or tenant.issuer
    return f"{host}:{tenant.key}:{context_id}"


def check_tenant(tenant: object) -> None:
    """Refuse the call shapes from before deployment tenancy (an issuer string in its place)."""
    if not isinstance(tenant, Tenant):
        raise TypeError(
            "courses are looked up by the launch's tenant (launch.tenant: issuer, client id and "
            f"deployment id), not by {type(tenant).__name__}"
        )


def unassigned_course(s: Connection, tenant: Tenant, context_id: str) -> None:
    """Refuse to start a new course where a course from before deployment tenancy waits.

    Such a course (deployment NULL) may hold this deployment's learners: a fresh course next to
    it would split them. The administrator assigns it first (or to another deployment).
    """
    waiting = s.execute(
        select(course_courses.c.id).where(
            course_courses.c.issuer == tenant.issuer,
            course_courses.c.context_id == context_id,
            course_courses.c.deployment_id.is_(None),
            or_(
                course_courses.c.client_id.is_(None),
                course_courses.c.client_id == tenant.client_id,
            ),
        )
    ).first()
    if waiting is not None:
        raise CourseUnassigned(
            f"course {waiting.id} of this context was created before courses belonged to a "
            "deployment and is not assigned to one yet; a tool administrator runs `blendkit "
            f"courses assign-deployment {waiting.id} --client-id … --deployment-id …` to give "
            "it to the right deployment, then this launch works",
            code="courses.unassigned",
            http_status=409,
        )


class CourseAssignments:
    """Courses without a deployment (from before deployment tenancy), and assigning them."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def courses(self, *, unassigned_only: bool = False) -> list[Course]:
        """Every course (or only those no launch can reach until assigned), oldest first."""
        from blendkit.courses._records import CourseRecords

        query = select(course_courses).order_by(course_courses.c.id)
        if unassigned_only:
            query = query.where(course_courses.c.deployment_id.is_(None))
        with self.store.transaction() as s:
            rows = s.execute(query).all()
        return [CourseRecords._course(row) for row in rows]

    def unassigned(self) -> list[Course]:
        """The courses waiting for an administrator to name their deployment."""
        return self.courses(unassigned_only=True)

    def launched_from(self, course: Course) -> list[Tenant]:
        """The deployments of the stored launches into this course's issuer and context: what
        an administrator weighs before assigning an unassigned course."""
        query = select(lti_launches.c.client_id, lti_launches.c.deployment_id).where(
            lti_launches.c.issuer == course.issuer,
            lti_launches.c.context_id == course.context_id,
        )
        if course.client_id is not None:
            query = query.where(lti_launches.c.client_id == course.client_id)
        with self.store.transaction() as s:
            rows = s.execute(query.distinct()).all()
        return sorted(
            (Tenant(issuer=course.issuer, client_id=c, deployment_id=d) for c, d in rows),
            key=str,
        )

    def assign(self, course_id: int, tenant: Tenant) -> Course:
        """Give an unassigned course to ``tenant``'s deployment (its registration must exist).

        The course keeps its activity key (its LRS history continues) and everything hanging
        off it; launches of that deployment into its context reach it from now on.
        """
        from blendkit.courses._records import CourseRecords

        check_tenant(tenant)
        self._check_registered(tenant)
        with self.store.transaction() as s:
            row = s.execute(select(course_courses).where(course_courses.c.id == course_id)).first()
            if row is None:
                raise NotFound(
                    f"course {course_id} does not exist; `blendkit courses list` names them"
                )
            self._check_assignable(s, row, tenant)
            s.execute(
                update(course_courses)
                .where(course_courses.c.id == course_id)
                .values(
                    client_id=tenant.client_id,
                    deployment_id=tenant.deployment_id,
                    updated_at=datetime.now(UTC),
                )
            )
            return CourseRecords._course(
                s.execute(select(course_courses).where(course_courses.c.id == course_id)).one()
            )

    def _check_registered(self, tenant: Tenant) -> None:
        platform = StorePlatformRegistry(self.store).get(tenant.issuer, tenant.client_id)
        if tenant.deployment_id not in platform.deployment_ids and not (
            platform.accept_new_deployments
        ):
            raise NotFound(
                f"deployment {tenant.deployment_id!r} is not registered for {tenant.issuer} "
                f"client {tenant.client_id}; add it to the registration first"
            )

    @staticmethod
    def _check_assignable(s: Connection, row: Any, tenant: Tenant) -> None:
        if row.issuer != tenant.issuer or (row.client_id not in (None, tenant.client_id)):
            raise CourseInputInvalid(
                f"course {row.id} belongs to {row.issuer} client {row.client_id}; assign it to "
                "a deployment of that registration",
                code="courses.wrong_registration",
                http_status=400,
            )
        if row.deployment_id is not None:
            raise AlreadyExists(
                f"course {row.id} already belongs to deployment {row.deployment_id!r}; only "
                "unassigned courses (`blendkit courses list --unassigned`) can be assigned",
                code="courses.already_assigned",
            )
        taken = s.execute(
            select(course_courses.c.id).where(
                and_(
                    course_courses.c.issuer == tenant.issuer,
                    course_courses.c.client_id == tenant.client_id,
                    course_courses.c.deployment_id == tenant.deployment_id,
                    course_courses.c.context_id == row.context_id,
                )
            )
        ).first()
        if taken is not None:
            raise AlreadyExists(
                f"deployment {tenant.deployment_id!r} already has course {taken.id} for context "
                f"{row.context_id!r}; a deployment has one course per context",
                code="courses.deployment_taken",
            )
