"""Each learner's own hours for live sessions, kept per course for the slot planner."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import delete, insert, select

from blendkit.courses._models import Course
from blendkit.sessions import Availability
from blendkit.store import Store
from blendkit.store._tables_planner import planner_session_hours

__all__ = ["SessionHours"]


class SessionHours:
    """Learners' own local windows for live sessions (e.g. ``18:00-21:00``), per course.

    The planner uses them instead of the course's hours for the learners who set them; the
    weekdays stay the course's (in each learner's own zone).
    """

    def __init__(self, store: Store) -> None:
        self.store = store

    def set(self, course: Course, sub: str, hours: str | None) -> str | None:
        """Keep ``sub``'s hours (normalised), or forget them when ``hours`` is empty.

        Raises :class:`~blendkit.errors.ScheduleError` when the text is not a list of windows.
        """
        kept = Availability.parse(hours).hours if hours else None
        key = planner_session_hours.c
        with self.store.transaction() as s:
            s.execute(
                delete(planner_session_hours).where(key.course_id == course.id, key.sub == sub)
            )
            if kept is not None:
                s.execute(
                    insert(planner_session_hours).values(
                        course_id=course.id, sub=sub, hours=kept, updated_at=datetime.now(UTC)
                    )
                )
        return kept

    def get(self, course: Course, sub: str) -> str | None:
        """``sub``'s hours, or None when they keep the course's."""
        return self.for_course(course).get(sub)

    def for_course(self, course: Course) -> dict[str, str]:
        """Every learner's own hours in ``course``, by sub."""
        key = planner_session_hours.c
        with self.store.transaction() as s:
            rows = s.execute(select(key.sub, key.hours).where(key.course_id == course.id))
            return {row.sub: row.hours for row in rows}

    def availability(
        self, course: Course, weekdays: Iterable[int], subs: Iterable[str]
    ) -> dict[str, Availability]:
        """The planner's ``availability`` for ``subs``: own hours on the course's weekdays."""
        days = tuple(weekdays)
        own = self.for_course(course)
        return {sub: Availability.parse(own[sub], days) for sub in subs if sub in own}
