"""A course's calendars from the store: each learner's feed and the instructors' course feed.

Reads the course's sessions, series and path deadlines (never calls a meeting provider: a feed
is polled by calendar apps, so it shows the personal join link the learner already has, or the
link ``session_link`` gives, e.g. the app's own join page) and stamps each event's version.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select

from blendkit.calendar._models import (
    CalendarBooking,
    CalendarDeadline,
    CalendarFeed,
    CalendarItem,
    CalendarSeries,
    CalendarSession,
    MovedSitting,
)
from blendkit.calendar._render import render_calendar
from blendkit.calendar._tokens import FeedKind, FeedOwner, FeedTokens
from blendkit.calendar._versions import content_digest, reconcile_versions
from blendkit.courses import Course, CourseService, LiveSessionRecord
from blendkit.courses._series import session_record
from blendkit.errors import NotFound
from blendkit.sessions import Recurrence, SessionSpec, expand_occurrences
from blendkit.store._tables_courses import course_join_links, course_series, course_sessions

__all__ = ["BookingSource", "CalendarFeeds", "RenderedFeed", "SessionLink"]

BookingSource = Callable[[Course, str | None], Iterable[CalendarBooking]]
"""Bookings to show: ``(course, sub)`` for a learner's feed, ``(course, None)`` for the course's."""
SessionLink = Callable[[Course, LiveSessionRecord], str | None]
"""The link a session event opens when the learner has no personal join link yet."""

_PLACEHOLDER = datetime(2000, 1, 1).astimezone()


class RenderedFeed:
    """A rendered feed: its bytes and the time of its latest change (``Last-Modified``)."""

    __slots__ = ("body", "last_modified")

    def __init__(self, body: bytes, last_modified: datetime | None) -> None:
        self.body = body
        self.last_modified = last_modified


def _uid(kind: str, key: str, course: Course, domain: str) -> str:
    return f"{kind}-{key}.{course.id}@{domain}"  # session-…: see session_uid


class CalendarFeeds:
    """Feeds of a store's courses, their tokens, and the versions of their events."""

    def __init__(
        self,
        courses: CourseService,
        *,
        bookings: BookingSource | None = None,
        session_link: SessionLink | None = None,
        uid_domain: str = "blendkit",
        refresh_minutes: int = 60,
    ) -> None:
        self.courses = courses
        self.store = courses.store
        self.tokens = FeedTokens(courses.store, courses.clock)
        self.bookings = bookings
        self.session_link = session_link
        self.uid_domain = uid_domain
        self.refresh_minutes = refresh_minutes

    # --- tokens ----------------------------------------------------------------------------

    def issue_token(
        self, course: Course, sub: str | None = None, *, issued_by: str | None = None
    ) -> str:
        """A new secret token for a learner's feed (``sub``) or the course feed (no ``sub``;
        ``issued_by`` names the instructor who takes it, and the feed opens only while they are
        active staff of the course); the previous one stops working. Shown once: only its hash
        is stored."""
        owner = self._owner(course, sub).model_copy(update={"issued_by": issued_by or sub or ""})
        return self.tokens.issue(owner)

    def revoke_token(self, course: Course, sub: str | None = None) -> bool:
        """Revoke the learner's (or the course's) feed token; whether one was live."""
        return self.tokens.revoke(self._owner(course, sub))

    def has_token(self, course: Course, sub: str | None = None) -> bool:
        """Whether the learner (or the course) has a live feed token."""
        return self.tokens.active(self._owner(course, sub))

    @staticmethod
    def _owner(course: Course, sub: str | None) -> FeedOwner:
        kind: FeedKind = "course" if sub is None else "learner"
        return FeedOwner(course_id=course.id, kind=kind, sub=sub or "")

    # --- feeds -----------------------------------------------------------------------------

    def render_token(self, token: str) -> RenderedFeed | None:
        """The feed a token opens, rendered; None for an unknown or revoked token, a learner no
        longer enrolled, or a course feed whose issuer is no longer active staff of the course,
        so the answer cannot tell which."""
        owner = self.tokens.resolve(token)
        if owner is None:
            return None
        try:
            course = self.courses.course_by_id(owner.course_id)
            if owner.kind == "course" and not self._active_staff(course, owner.issued_by):
                return None
            sub = owner.sub if owner.kind == "learner" else None
            feed = self.feed(course, sub)
        except NotFound:
            return None
        return RenderedFeed(render_calendar(feed), feed.last_modified)

    def _active_staff(self, course: Course, sub: str) -> bool:
        """Whether ``sub`` is still an instructor of the course on its roster: the course feed
        token they took stops opening once they left the course or lost the role."""
        if not sub:
            return False
        person = self.courses.enrolment(course, sub)
        return person.active and "instructor" in person.roles

    def feed(self, course: Course, sub: str | None = None) -> CalendarFeed:
        """A learner's feed (``sub``) or the course feed, with every event's version.

        A learner who left the course (the roster made their enrolment inactive) has no feed
        (``NotFound``): their secret link stops opening until they are back on the roster."""
        if sub is None:
            items, zone, name = self._course_items(course), "UTC", f"{course.title} (course)"
        else:
            person = self.courses.enrolment(course, sub)
            if not person.active:
                raise NotFound(f"{sub!r} is no longer a member of {course.title!r}")
            items, zone, name = self._learner_items(course, sub, person.time_zone), \
                person.time_zone, course.title  # fmt: skip
        if self.bookings is not None:
            items.extend(self.bookings(course, sub))
        versioned = self._versioned(course, sub or "", items)
        return CalendarFeed(
            name=name, time_zone=zone, items=tuple(versioned),
            refresh_minutes=self.refresh_minutes,
        )  # fmt: skip

    def _learner_items(self, course: Course, sub: str, zone: str) -> list[CalendarItem]:
        path = self.courses.learner_path(course, sub)
        hidden = {s.id for s in path.items if not s.visible}
        links = self._personal_links(course, sub)
        items = self._session_items(
            course,
            lambda r: r.item not in hidden,
            lambda r: links.get(r.id) or self._link(course, r),
        )
        items += [
            CalendarDeadline(
                uid=_uid("deadline", status.id, course, self.uid_domain),
                title=f"Due: {status.title or status.id}", due=status.due,
                time_zone=zone, last_modified=_PLACEHOLDER,
            )
            for status in path.items
            if status.due is not None and status.visible
        ]  # fmt: skip
        return items

    def _course_items(self, course: Course) -> list[CalendarItem]:
        items = self._session_items(course, lambda r: True, lambda r: r.join_url)
        items += [
            CalendarDeadline(
                uid=_uid("deadline", item.id, course, self.uid_domain),
                title=f"Due: {item.title or item.id}", due=item.due,
                last_modified=_PLACEHOLDER,
            )
            for item in course.path.items()
            if item.due is not None
        ]  # fmt: skip
        return items

    def _link(self, course: Course, record: LiveSessionRecord) -> str | None:
        return self.session_link(course, record) if self.session_link is not None else None

    def _personal_links(self, course: Course, sub: str) -> dict[str, str]:
        with self.store.transaction() as s:
            rows = s.execute(
                select(course_join_links.c.session_id, course_join_links.c.url)
                .join(course_sessions, course_sessions.c.id == course_join_links.c.session_id)
                .where(course_sessions.c.course_id == course.id, course_join_links.c.sub == sub)
            ).all()
        return {r.session_id: r.url for r in rows}

    def _session_items(
        self,
        course: Course,
        shown: Callable[[LiveSessionRecord], bool],
        link: Callable[[LiveSessionRecord], str | None],
    ) -> list[CalendarItem]:
        with self.store.transaction() as s:
            rows = s.execute(
                select(course_sessions)
                .where(course_sessions.c.course_id == course.id)
                .order_by(course_sessions.c.original_start_utc, course_sessions.c.start_utc)
            ).all()
            series_rows = {
                r.id: r
                for r in s.execute(
                    select(course_series).where(course_series.c.course_id == course.id)
                )
            }
        records = [session_record(r) for r in rows]
        items: list[CalendarItem] = []
        sittings: dict[str, list[LiveSessionRecord]] = {}
        for record in records:
            if not shown(record):
                continue
            if record.series_id is None or record.series_id not in series_rows:
                if not record.cancelled:
                    items.append(self._single(course, record, link(record)))
                continue
            sittings.setdefault(record.series_id, []).append(record)
        for series_id, group in sittings.items():
            items.extend(self._series(course, series_rows[series_id], group, link))
        return items

    def _single(
        self, course: Course, record: LiveSessionRecord, url: str | None
    ) -> CalendarSession:
        return CalendarSession(
            uid=_uid("session", record.id, course, self.uid_domain), title=record.title,
            start_utc=record.start_utc, duration_minutes=record.duration_minutes,
            time_zone=record.time_zone, url=url, last_modified=_PLACEHOLDER,
        )  # fmt: skip

    def _series(
        self,
        course: Course,
        row: Any,
        group: Sequence[LiveSessionRecord],
        link: Callable[[LiveSessionRecord], str | None],
    ) -> list[CalendarItem]:
        """One series event; its sittings one by one when the rule no longer yields them."""
        rule = Recurrence.model_validate_json(row.recurrence)
        originals = sorted(r.original_start_utc or r.start_utc for r in group)
        expected = expand_occurrences(
            SessionSpec(
                title=row.title, start_utc=originals[0], time_zone=row.time_zone,
                duration_minutes=row.duration_minutes, recurrence=rule,
            )
        )  # fmt: skip
        if [o.start_utc for o in expected] != originals:
            return [self._single(course, r, link(r)) for r in group if not r.cancelled]
        live = [r for r in group if not r.cancelled]
        urls = [u for r in live if (u := link(r))]
        return [
            CalendarSeries(
                uid=_uid("series", row.id, course, self.uid_domain), title=row.title,
                first_start_utc=originals[0], duration_minutes=row.duration_minutes,
                time_zone=row.time_zone, recurrence=rule, url=urls[0] if urls else None,
                cancelled=tuple(r.original_start_utc or r.start_utc for r in group if r.cancelled),
                moved=tuple(
                    MovedSitting(
                        original_start_utc=r.original_start_utc or r.start_utc,
                        start_utc=r.start_utc, duration_minutes=r.duration_minutes,
                        url=link(r),
                    )
                    for r in live
                    if r.moved or r.duration_minutes != row.duration_minutes
                ),
                last_modified=_PLACEHOLDER,
            )
        ]  # fmt: skip

    def _versioned(
        self, course: Course, scope: str, items: list[CalendarItem]
    ) -> list[CalendarItem]:
        digests: dict[str, str] = {}
        for item in items:
            if isinstance(item, CalendarSeries):
                base = item.model_dump_json(exclude={"sequence", "last_modified", "moved"})
                digests[item.uid] = content_digest(base)
                for moved in item.moved:
                    content = moved.model_dump_json(exclude={"sequence", "last_modified"})
                    digests[_moved_key(item, moved)] = content_digest(content)
            else:
                content = item.model_dump_json(exclude={"sequence", "last_modified"})
                digests[item.uid] = content_digest(content)
        versions = reconcile_versions(self.store, course.id, scope, digests, self.courses.clock())
        out: list[CalendarItem] = []
        for item in items:
            version = versions[item.uid]
            update: dict[str, Any] = {
                "sequence": version.sequence, "last_modified": version.modified_at,
            }  # fmt: skip
            if isinstance(item, CalendarSeries):
                update["moved"] = tuple(
                    m.model_copy(
                        update={
                            "sequence": versions[_moved_key(item, m)].sequence + 1,
                            "last_modified": versions[_moved_key(item, m)].modified_at,
                        }
                    )
                    for m in item.moved
                )
            out.append(item.model_copy(update=update))
        return out


def _moved_key(series: CalendarSeries, moved: MovedSitting) -> str:
    return f"{series.uid}#{moved.original_start_utc.isoformat()}"
