"""Stored reminder settings: a course's lead times, a learner's preferences and unsubscribes.

Every row belongs to a course row; a learner is ``(course_id, sub)``. Reads answer defaults when
nothing was chosen, so a course or learner without a row behaves as before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select, update

from blendkit.courses._models import Course
from blendkit.courses._records import invalid
from blendkit.errors import AccessDenied
from blendkit.notify._local_time import QuietHours, parse_clock
from blendkit.notify._planning import Offset, parse_offsets
from blendkit.notify._preferences import LearnerPreferences
from blendkit.store import Store
from blendkit.store._tables_courses import course_courses, course_enrolments
from blendkit.store._tables_reminders import (
    reminder_course_settings,
    reminder_preferences,
    reminder_resubscribes,
    reminder_unsubscribes,
)

__all__ = ["DEFAULT_DEADLINE_OFFSETS", "DEFAULT_SESSION_OFFSETS", "ReminderSettings", "tenant_key"]

DEFAULT_DEADLINE_OFFSETS = "48h,2h"
DEFAULT_SESSION_OFFSETS = "24h,15m"


def tenant_key(course: Course | Any) -> str:
    """What an unsubscribe token is bound to: the course row (a :class:`Course` or a
    ``course_courses`` row) and its tenant."""
    parts = (course.issuer, course.client_id or "", course.deployment_id or "", course.context_id)
    return "\0".join((str(course.id), *parts))


@dataclass(frozen=True, slots=True)
class CourseOffsets:
    """A course's reminder lead times."""

    deadline: tuple[Offset, ...]
    session: tuple[Offset, ...]


class ReminderSettings:
    """Reads and writes reminder settings of one store (a :class:`PreferenceSource` too)."""

    def __init__(
        self, store: Store, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.store = store
        self.clock = clock

    # --- per course -------------------------------------------------------------------------

    def offsets(self, course_id: int) -> CourseOffsets:
        """The course's lead times (``48h,2h`` before deadlines, ``24h,15m`` before sessions
        unless the course chose others)."""
        with self.store.transaction() as s:
            row = s.execute(
                select(reminder_course_settings).where(
                    reminder_course_settings.c.course_id == course_id
                )
            ).first()
        deadline = row.deadline_offsets if row else DEFAULT_DEADLINE_OFFSETS
        session = row.session_offsets if row else DEFAULT_SESSION_OFFSETS
        return CourseOffsets(parse_offsets(deadline), parse_offsets(session))

    def set_offsets(self, course: Course, *, deadline: str, session: str) -> CourseOffsets:
        """Keep the course's lead times (``"48h,2h"``; refused with the part that is wrong)."""
        try:
            parsed = CourseOffsets(parse_offsets(deadline), parse_offsets(session))
        except ValueError as exc:
            raise invalid(str(exc), "reminders.offsets_invalid") from None
        values = {
            "deadline_offsets": ",".join(o.label for o in parsed.deadline),
            "session_offsets": ",".join(o.label for o in parsed.session),
            "updated_at": self.clock(),
        }
        with self.store.transaction() as s:
            done = s.execute(
                update(reminder_course_settings)
                .where(reminder_course_settings.c.course_id == course.id)
                .values(**values)
            )
            if done.rowcount == 0:
                s.execute(reminder_course_settings.insert().values(course_id=course.id, **values))
        return parsed

    # --- per learner ------------------------------------------------------------------------

    def preferences(self, course_id: int, sub: str) -> LearnerPreferences:
        """The learner's choices, their zone from the enrolment, and their unsubscribes."""
        with self.store.transaction() as s:
            row = s.execute(
                select(reminder_preferences).where(
                    reminder_preferences.c.course_id == course_id,
                    reminder_preferences.c.sub == sub,
                )
            ).first()
            zone = s.execute(
                select(course_enrolments.c.time_zone).where(
                    course_enrolments.c.course_id == course_id, course_enrolments.c.sub == sub
                )
            ).scalar_one_or_none()
            gone = s.execute(
                select(reminder_unsubscribes.c.channel, reminder_unsubscribes.c.at).where(
                    reminder_unsubscribes.c.course_id == course_id,
                    reminder_unsubscribes.c.sub == sub,
                )
            ).all()
        unsubscribed = {g.channel: _aware(g.at) for g in gone}
        if row is None:
            return LearnerPreferences(time_zone=zone or "UTC", unsubscribed=unsubscribed)
        quiet = None
        if row.quiet_start and row.quiet_end:
            quiet = QuietHours(parse_clock(row.quiet_start), parse_clock(row.quiet_end))
        return LearnerPreferences(
            time_zone=zone or "UTC",
            channel=row.channel,
            quiet=quiet,
            digest=row.digest,
            digest_hour=row.digest_hour,
            unsubscribed=unsubscribed,
        )

    def set_preferences(
        self,
        course: Course,
        sub: str,
        *,
        channel: str | None,
        quiet_start: str | None,
        quiet_end: str | None,
        digest: bool,
        digest_hour: int = 8,
        available: tuple[str, ...] | list[str] = (),
    ) -> LearnerPreferences:
        """Keep a learner's choices; refused (``reminders.preferences_invalid``) with the field
        that is wrong."""
        if channel is not None and channel not in available:
            raise invalid(
                f"{channel!r} is not a channel of this tool; choose one of "
                f"{', '.join(available) or '(none installed)'}",
                "reminders.preferences_invalid",
            )
        if not 0 <= digest_hour <= 23:
            raise invalid("the digest hour is 0 to 23", "reminders.preferences_invalid")
        if bool(quiet_start) != bool(quiet_end):
            raise invalid(
                "quiet hours need both a start and an end", "reminders.preferences_invalid"
            )
        try:
            if quiet_start and quiet_end:
                QuietHours(parse_clock(quiet_start), parse_clock(quiet_end))
        except ValueError as exc:
            raise invalid(str(exc), "reminders.preferences_invalid") from None
        values = {
            "channel": channel,
            "quiet_start": parse_clock(quiet_start).strftime("%H:%M") if quiet_start else None,
            "quiet_end": parse_clock(quiet_end).strftime("%H:%M") if quiet_end else None,
            "digest": digest,
            "digest_hour": digest_hour,
            "updated_at": self.clock(),
        }
        with self.store.transaction() as s:
            done = s.execute(
                update(reminder_preferences)
                .where(
                    reminder_preferences.c.course_id == course.id,
                    reminder_preferences.c.sub == sub,
                )
                .values(**values)
            )
            if done.rowcount == 0:
                s.execute(
                    reminder_preferences.insert().values(course_id=course.id, sub=sub, **values)
                )
        return self.preferences(course.id, sub)

    def unsubscribe(
        self, course_id: int, sub: str, channel: str = "*", *, issued_at: datetime | None = None
    ) -> datetime:
        """Record the learner's unsubscribe from ``channel`` (``*``: all); again: no change.
        Returns when they unsubscribed. ``issued_at``: when the link asking it was issued; a
        link issued before the learner last subscribed again is revoked
        (``notify.unsubscribe_revoked``, 403) and changes nothing."""
        with self.store.transaction() as s:
            if issued_at is not None:
                self._check_not_revoked(s, course_id, sub, issued_at)
            known = s.execute(
                select(reminder_unsubscribes.c.at).where(
                    reminder_unsubscribes.c.course_id == course_id,
                    reminder_unsubscribes.c.sub == sub,
                    reminder_unsubscribes.c.channel == channel,
                )
            ).scalar_one_or_none()
            if known is not None:
                return _aware(known)
            now = self.clock()
            insert_new = self.store.insert_ignoring_conflicts(
                reminder_unsubscribes, "course_id", "sub", "channel"
            )
            s.execute(insert_new.values(course_id=course_id, sub=sub, channel=channel, at=now))
        return now

    def check_link(self, course_id: int, sub: str, issued_at: datetime) -> None:
        """Refuse (``notify.unsubscribe_revoked``, 403) a link issued before the learner last
        subscribed again."""
        with self.store.transaction() as s:
            self._check_not_revoked(s, course_id, sub, issued_at)

    def resubscribe(self, course: Course, sub: str) -> int:
        """Undo every unsubscribe of the learner in the course, and revoke every unsubscribe
        link issued until now; returns how many unsubscribes there were."""
        now = self.clock()
        with self.store.transaction() as s:
            done = s.execute(
                delete(reminder_unsubscribes).where(
                    reminder_unsubscribes.c.course_id == course.id,
                    reminder_unsubscribes.c.sub == sub,
                )
            )
            add = self.store.insert_ignoring_conflicts(reminder_resubscribes, "course_id", "sub")
            s.execute(add.values(course_id=course.id, sub=sub, at=now))
            mark = reminder_resubscribes.c
            s.execute(
                update(reminder_resubscribes)
                .where(mark.course_id == course.id, mark.sub == sub)
                .values(at=now)
            )
        return int(done.rowcount or 0)

    @staticmethod
    def _check_not_revoked(s: Any, course_id: int, sub: str, issued_at: datetime) -> None:
        mark = reminder_resubscribes.c
        since = s.execute(
            select(mark.at).where(mark.course_id == course_id, mark.sub == sub)
        ).scalar_one_or_none()
        # Links carry whole seconds: one issued in the second of the resubscribe is revoked too.
        if since is not None and issued_at <= _aware(since):
            raise AccessDenied(
                "this unsubscribe link was revoked when you subscribed again; use the link of a "
                "message sent since, or change your notification settings from the course",
                code="notify.unsubscribe_revoked",
                http_status=403,
            )

    def tenant_of(self, course_id: int) -> str | None:
        """The tenant key of a course row (None when there is none): what tokens check."""
        with self.store.transaction() as s:
            row = s.execute(select(course_courses).where(course_courses.c.id == course_id)).first()
        return None if row is None else tenant_key(row)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
