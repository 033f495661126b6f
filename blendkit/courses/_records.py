"""CourseRecords: courses and quizzes over the enrolments of its base (``_enrolments``), and the
statements and path caches courses are read with (the flow that records evidence is in
``_evidence_flow``)."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import Connection, CursorResult, and_, bindparam, select, update

from blendkit.courses._enrolments import EnrolmentRecords, invalid
from blendkit.courses._models import Course, Enrolment, OverrideRecord, aware
from blendkit.courses._quiz import Quiz
from blendkit.courses._tenancy import TENANT_KEY, activity_key, check_tenant, unassigned_course
from blendkit.errors import NotFound
from blendkit.lti import Tenant
from blendkit.progression import (
    CompiledPath,
    EvidencePiece,
    ExtensionGranted,
    Override,
    OverrideAdded,
    Path,
    compile_path,
    dump_path,
    parse_path,
)
from blendkit.store._tables_courses import (
    course_courses,
    course_enrolments,
    course_quizzes,
)
from blendkit.xapi import Agent, Statement

__all__ = ["CourseRecords", "StatementsFor", "check_item", "invalid", "new_id", "override_piece"]

StatementsFor = Callable[[Agent, str], Sequence[Statement]]
"""Builds the statements describing a piece of evidence, given the actor and the course key."""


# Statements of the launch and page hot path, built once: building a select over a wide table
# costs several times more than running it on SQLite.
_COURSE_OF_TENANT = select(course_courses).where(*TENANT_KEY)
# The course of a context with one person's enrolment in it (NULLs when not enrolled): the
# first page of a launch and the launch itself need both, and this is one round trip.
_ENROLMENT_PREFIX = "enrolment_"
_COURSE_WITH_ENROLMENT = (
    select(
        course_courses,
        *(c.label(_ENROLMENT_PREFIX + c.name) for c in course_enrolments.c),
    )
    .select_from(
        course_courses.outerjoin(
            course_enrolments,
            and_(
                course_enrolments.c.course_id == course_courses.c.id,
                course_enrolments.c.sub == bindparam("sub"),
            ),
        )
    )
    .where(*TENANT_KEY)
)


def _enrolment_part(row: Any) -> Any:
    """The enrolment columns of a _COURSE_WITH_ENROLMENT row, or None when not enrolled."""
    mapping = row._mapping
    if mapping[_ENROLMENT_PREFIX + "id"] is None:
        return None
    return SimpleNamespace(
        **{c.name: mapping[_ENROLMENT_PREFIX + c.name] for c in course_enrolments.c}
    )


@functools.lru_cache(maxsize=64)
def _parsed(path_json: str) -> Path:
    """Each stored path document is parsed once per process (the same text, the same value)."""
    return parse_path(path_json, "json")


_COMPILED: dict[int, tuple[Path, CompiledPath]] = {}


def _compiled(path: Path) -> CompiledPath:
    # Keyed by identity: paths come from _parsed, so one document compiles once per process.
    found = _COMPILED.get(id(path))
    if found is None or found[0] is not path:
        if len(_COMPILED) > 256:
            _COMPILED.clear()
        found = (path, compile_path(path))
        _COMPILED[id(path)] = found
    return found[1]


def _key(tenant: Tenant, context_id: str) -> dict[str, str]:
    """The bind parameters of TENANT_KEY (a tenant checked to be one, not an issuer string)."""
    check_tenant(tenant)
    return {
        "issuer": tenant.issuer,
        "client_id": tenant.client_id,
        "deployment_id": tenant.deployment_id,
        "context_id": context_id,
    }


def _no_course(tenant: Tenant, context_id: str) -> NotFound:
    return NotFound(
        f"no course for context {context_id!r} of {tenant}; launch the tool from that course "
        "once to create it"
    )


class CourseRecords(EnrolmentRecords):
    """Courses, quizzes, enrolments and evidence of one store, wired to the xAPI outbox."""

    # --- courses ---------------------------------------------------------------------------

    @staticmethod
    def _course(row: Any) -> Course:
        # Built without re-validation: every column was checked when it was written, and the
        # path is the validated document from _parsed (pydantic would re-run the path's whole
        # reference and cycle check on each page otherwise).
        return Course.model_construct(
            id=row.id,
            issuer=row.issuer,
            client_id=row.client_id,
            deployment_id=row.deployment_id,
            context_id=row.context_id,
            activity_key=row.activity_key,
            title=row.title,
            path=_parsed(row.path),
            ags=json.loads(row.ags) if row.ags else None,
        )

    def ensure_course(
        self,
        tenant: Tenant,
        context_id: str,
        *,
        title: str,
        path: Callable[[], Path] | Path,
        ags: dict[str, Any] | None = None,
    ) -> Course:
        """The course of ``context_id`` in the deployment ``tenant``, created with ``path`` on
        first use.

        Title and AGS endpoints are refreshed from each launch of that deployment; the path is
        kept. Another deployment's launch never reaches this course, even with the same issuer,
        client id and context id. Two first launches at once are fine: the insert that loses
        the race does nothing and that launch reads (and refreshes) the winner's row.
        """
        key = _key(tenant, context_id)
        with self.store.transaction() as s:
            row = s.execute(_COURSE_OF_TENANT, key).first()
            return self._ensure_course(s, row, tenant, key, title=title, path=path, ags=ags)

    def _ensure_course(
        self,
        s: Connection,
        row: Any,
        tenant: Tenant,
        key: dict[str, str],
        *,
        title: str,
        path: Callable[[], Path] | Path,
        ags: dict[str, Any] | None,
    ) -> Course:
        """ensure_course's work, given the course row already read (None when absent)."""
        now = self.clock()
        if row is None:
            unassigned_course(s, tenant, key["context_id"])
            chosen = path() if callable(path) else path
            insert_new = self.store.insert_ignoring_conflicts(
                course_courses, "issuer", "client_id", "deployment_id", "context_id"
            )
            s.execute(
                insert_new.values(
                    **key,
                    activity_key=activity_key(tenant, key["context_id"]),
                    title=title,
                    path=dump_path(chosen, "json"),
                    ags=json.dumps(ags) if ags else None,
                    created_at=now,
                    updated_at=now,
                )
            )
            # Ours, or the row of a concurrent first launch that won the insert.
            row = s.execute(_COURSE_OF_TENANT, key).one()
        changes: dict[str, Any] = {}
        if title and title != row.title:
            changes["title"] = title
        if ags and json.dumps(ags) != row.ags:
            changes["ags"] = json.dumps(ags)
        if not changes:
            return self._course(row)
        s.execute(
            update(course_courses)
            .where(course_courses.c.id == row.id)
            .values(updated_at=now, **changes)
        )
        return self._course(s.execute(_COURSE_OF_TENANT, key).one())

    def ensure_course_and_enrol(
        self,
        tenant: Tenant,
        context_id: str,
        person: Enrolment,
        *,
        title: str,
        path: Callable[[], Path] | Path,
        ags: dict[str, Any] | None = None,
        keep_zone: bool = True,
    ) -> tuple[Course, Enrolment]:
        """What a launch does: :meth:`ensure_course` then :meth:`enrol`, in one transaction and
        with one read for both when the course exists (the usual case)."""
        key = _key(tenant, context_id)
        with self.store.transaction() as s:
            row = s.execute(_COURSE_WITH_ENROLMENT, {**key, "sub": person.sub}).first()
            course = self._ensure_course(s, row, tenant, key, title=title, path=path, ags=ags)
            enrolled = None if row is None else _enrolment_part(row)  # a new course: nobody
            return course, self._enrol(s, course, person, keep_zone, enrolled)

    def course(self, tenant: Tenant, context_id: str) -> Course:
        """The course of ``context_id`` in the deployment ``tenant`` (``NotFound`` before its
        first launch)."""
        with self.store.transaction() as s:
            row = s.execute(_COURSE_OF_TENANT, _key(tenant, context_id)).first()
        if row is None:
            raise _no_course(tenant, context_id)
        return self._course(row)

    def course_and_enrolment(
        self, tenant: Tenant, context_id: str, sub: str
    ) -> tuple[Course, Enrolment | None]:
        """The course of ``context_id`` in the deployment ``tenant`` and ``sub``'s enrolment in
        it (None when they never launched into it), read in one statement. ``NotFound``
        without the course."""
        with self.store.transaction() as s:
            row = s.execute(
                _COURSE_WITH_ENROLMENT, {**_key(tenant, context_id), "sub": sub}
            ).first()
        if row is None:
            raise _no_course(tenant, context_id)
        enrolled = _enrolment_part(row)
        return self._course(row), None if enrolled is None else self._enrolment(enrolled)

    def course_by_id(self, course_id: int) -> Course:
        """The course with this id (``NotFound`` when absent)."""
        with self.store.transaction() as s:
            row = s.execute(select(course_courses).where(course_courses.c.id == course_id)).first()
        if row is None:
            raise NotFound(f"course {course_id} does not exist")
        return self._course(row)

    def set_path(self, course: Course, path: Path) -> Course:
        """Replace the course path (evidence is kept: it is keyed by item id)."""
        with self.store.transaction() as s:
            s.execute(
                update(course_courses)
                .where(course_courses.c.id == course.id)
                .values(path=dump_path(path, "json"), updated_at=self.clock())
            )
        return course.model_copy(update={"path": path})

    def compiled(self, course: Course) -> CompiledPath:
        """The compiled path (cached per path document)."""
        return _compiled(course.path)

    @staticmethod
    def course_key(course: Course) -> str:
        """The course id used in xAPI statements, fixed when the course was created (see
        :func:`activity_key`; courses older than deployment tenancy keep their old key)."""
        return course.activity_key

    # --- quizzes ---------------------------------------------------------------------------

    def set_quiz(self, course: Course, item: str, quiz: Quiz) -> None:
        """Attach the questions of quiz item ``item`` (replacing earlier ones)."""
        course.path.item(item)
        values = {"course_id": course.id, "item": item, "quiz": quiz.model_dump_json()}
        with self.store.transaction() as s:
            s.execute(
                self.store.insert_or_replace(
                    course_quizzes, ("course_id", "item"), values, ["quiz"]
                )
            )

    def quiz(self, course: Course, item: str) -> Quiz | None:
        """The questions of quiz item ``item``, or None when none were attached."""
        with self.store.transaction() as s:
            body = s.execute(
                select(course_quizzes.c.quiz).where(
                    course_quizzes.c.course_id == course.id, course_quizzes.c.item == item
                )
            ).scalar_one_or_none()
        return Quiz.model_validate_json(body) if body else None

    @staticmethod
    def _override(row: Any) -> OverrideRecord:
        return OverrideRecord(
            id=row.id,
            sub=row.sub,
            item=row.item,
            action=row.action,
            condition_id=row.condition_id,
            until=aware(row.until) if row.until else None,
            by=row.by,
            reason=row.reason,
            at=row.at,
        )


def override_piece(record: OverrideRecord) -> EvidencePiece:
    if record.action == "extend":
        assert record.until is not None
        return ExtensionGranted(item=record.item, until=record.until)
    return OverrideAdded(
        override=Override(
            item=record.item,
            action=record.action,
            condition_id=record.condition_id,
            by=record.by,
            at=record.at,
            reason=record.reason,
        )
    )


def new_id(result: Any) -> int:
    key = cast(CursorResult[Any], result).inserted_primary_key
    assert key is not None
    return int(key[0])


def check_item(course: Course, item: str | None) -> None:
    if item is None:
        return
    try:
        course.path.item(item)
    except KeyError:
        raise invalid(
            f"the course path has no item {item!r}; pick one of "
            f"{', '.join(i.id for i in course.path.items())}",
            "courses.unknown_item",
        ) from None
