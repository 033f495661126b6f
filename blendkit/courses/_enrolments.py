"""The base of :class:`~blendkit.courses._records.CourseRecords`: its store wiring and the
enrolments it keeps (who is in a course, from launches and the roster, and their time zones).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from blendkit.courses._models import (
    ZONE_PRECEDENCE,
    Course,
    Enrolment,
    TimeZoneSource,
    aware,
    check_zone,
    zone_replaces,
)
from blendkit.courses._reminder_links import ReminderLinks
from blendkit.errors import CourseInputInvalid, NotFound
from blendkit.notify._intent import NotificationSink
from blendkit.store import Store
from blendkit.store._tables_courses import course_enrolments
from blendkit.xapi import Outbox, StatementFactory

__all__ = ["EnrolmentRecords", "invalid"]

# Built once, as the launch and page hot path runs it (see _records).
_ENROLMENT = select(course_enrolments).where(
    course_enrolments.c.course_id == bindparam("course_id"),
    course_enrolments.c.sub == bindparam("sub"),
)


def invalid(message: str, code: str = "courses.invalid") -> CourseInputInvalid:
    return CourseInputInvalid(message, code=code)


class EnrolmentRecords:
    """Enrolments of one store, and the wiring every part of :class:`CourseRecords` shares."""

    def __init__(
        self,
        store: Store,
        *,
        outbox: Outbox,
        statements: StatementFactory,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        notifications: NotificationSink | None = None,
        reminder_links: ReminderLinks | None = None,
    ) -> None:
        if notifications is not None and reminder_links is None:
            raise ValueError("notifications need reminder_links: where messages point")
        self.store = store
        self.outbox = outbox
        self.statements = statements
        self.clock = clock
        # Where unlock notices and moved deadlines go (None: nothing is sent, as before).
        self.notifications = notifications
        self.reminder_links = reminder_links
        # Built once: every first launch of a person runs it.
        self._enrol_new = store.insert_ignoring_conflicts(
            course_enrolments, "course_id", "sub"
        ).returning(course_enrolments.c.id)

    # --- enrolments ------------------------------------------------------------------------

    @staticmethod
    def _enrolment(row: Any) -> Enrolment:
        return Enrolment(
            sub=row.sub,
            name=row.name,
            email=row.email,
            time_zone=row.time_zone,
            time_zone_source=row.time_zone_source,
            enrolled_at=aware(row.enrolled_at),
            groups=tuple(json.loads(row.groups)),
            roles=tuple(json.loads(row.roles)),
            source=row.source,
            launched_at=aware(row.launched_at) if row.launched_at else None,
            active=bool(row.active),
            roster_status=row.roster_status,
        )

    def enrol(self, course: Course, person: Enrolment, *, keep_zone: bool = True) -> Enrolment:
        """Add or refresh a person as their launch tells (``enrolled_at`` and, with
        ``keep_zone``, the zone are kept); a person the roster knew becomes launched and active.

        Two first launches of one person at once are fine: the insert that loses the race does
        nothing (no error, so it can run inside a unit of work) and that launch refreshes the
        winner's row instead.
        """
        with self.store.transaction() as s:
            row = s.execute(_ENROLMENT, {"course_id": course.id, "sub": person.sub}).first()
            return self._enrol(s, course, person, keep_zone, row)

    def _enrol(
        self, s: Connection, course: Course, person: Enrolment, keep_zone: bool, row: Any
    ) -> Enrolment:
        """enrol's work, given the enrolment row already read (None when absent)."""
        now = self.clock()
        key = {"course_id": course.id, "sub": person.sub}
        values: dict[str, Any] = {
            "name": person.name,
            "email": person.email,
            "groups": json.dumps(sorted(person.groups)),
            "roles": json.dumps(sorted(person.roles)),
        }
        if row is None:
            enrolled_at = person.enrolled_at or now
            inserted = s.execute(
                self._enrol_new,
                {
                    **key,
                    "time_zone": person.time_zone,
                    "time_zone_source": person.time_zone_source,
                    "enrolled_at": enrolled_at,
                    "launched_at": now,
                    **values,
                },
            ).first()
            if inserted is not None:
                return person.model_copy(
                    update={
                        "enrolled_at": enrolled_at,
                        "groups": tuple(sorted(person.groups)),
                        "roles": tuple(sorted(person.roles)),
                        "source": "launch",
                        "launched_at": now,
                        "active": True,
                    }
                )
            row = s.execute(_ENROLMENT, key).one()  # enrolled by a concurrent launch
        if not keep_zone and zone_replaces(person.time_zone_source, row.time_zone_source):
            values["time_zone"] = person.time_zone
            values["time_zone_source"] = person.time_zone_source
        if not person.email and row.email:
            values["email"] = row.email  # the roster's address stays when a launch sends none
        current = {k: getattr(row, k) for k in values}
        if row.launched_at is None or not row.active:
            # On the roster but never launched, or dropped and back: this launch says present.
            values["launched_at"] = row.launched_at or now
            values["active"] = True
        elif current == values:
            return self._enrolment(row)  # nothing changed: no second read
        s.execute(
            update(course_enrolments).where(course_enrolments.c.id == row.id).values(**values)
        )
        return self._enrolment(s.execute(_ENROLMENT, key).one())

    def set_time_zone(
        self, course: Course, sub: str, zone: str, *, source: TimeZoneSource = "learner"
    ) -> Enrolment:
        """Change the zone a person's times are shown in (ValueError-free: names the problem).

        ``learner`` (their own choice, the default) wins over every later launch; ``browser``
        (the zone their browser reported, which they confirmed) yields to a platform's zone and
        changes nothing once the learner chose one, so a stale offer sent late is harmless.
        """
        try:
            key = check_zone(zone)
        except ValueError as exc:
            raise invalid(str(exc), "courses.bad_time_zone") from None
        below = [name for name in ZONE_PRECEDENCE if zone_replaces(source, name)]
        with self.store.transaction() as s:
            s.execute(
                update(course_enrolments)
                .where(
                    course_enrolments.c.course_id == course.id,
                    course_enrolments.c.sub == sub,
                    course_enrolments.c.time_zone_source.in_(below),
                )
                .values(time_zone=key, time_zone_source=source)
            )
        return self.enrolment(course, sub)

    def enrolment(self, course: Course, sub: str) -> Enrolment:
        """One person (``NotFound`` when neither a launch nor the roster brought them)."""
        with self.store.transaction() as s:
            row = s.execute(_ENROLMENT, {"course_id": course.id, "sub": sub}).first()
        if row is None:
            raise NotFound(f"{sub!r} is not enrolled in {course.title!r}")
        return self._enrolment(row)

    def enrolments(
        self, course: Course, *, learners_only: bool = False, include_inactive: bool = False
    ) -> list[Enrolment]:
        """Everyone in the course, launched or known from the roster (learners only: people
        without an instructor role); people the platform dropped only with
        ``include_inactive``."""
        query = select(course_enrolments).where(course_enrolments.c.course_id == course.id)
        if not include_inactive:
            query = query.where(course_enrolments.c.active.is_(True))
        with self.store.transaction() as s:
            rows = s.execute(
                query.order_by(course_enrolments.c.name, course_enrolments.c.sub)
            ).all()
        people = [self._enrolment(r) for r in rows]
        if learners_only:
            people = [p for p in people if "instructor" not in p.roles]
        return people
