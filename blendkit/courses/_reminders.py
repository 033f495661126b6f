"""Reminder planning from what a course stores: the planner hook of ``blendkit notify run``.

:class:`ReminderPlanner` reads a course's dated events (item deadlines with each learner's
extension, sittings of live sessions and series, recordings of sittings held) into a
:class:`~blendkit.notify.ReminderPlan` and asks it what falls due before ``now + horizon``.
Booked office-hours slots are reminded like sittings (one event per booking, see
:mod:`blendkit.courses._booking_reminders`).
Work per learner happens only for events that are due: who completed a deadline's item, each
learner's personal join link for a sitting about to start (:func:`sitting_links`, carried by
``PlannedEvent.personal``, so no recipient's message is built). Once a day per course it adds
the at-risk nudges and the instructors' digest.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from blendkit.courses._analytics import risks
from blendkit.courses._booking_reminders import booking_events
from blendkit.courses._live import LiveSessionService
from blendkit.courses._models import Course, Enrolment, LiveSessionRecord
from blendkit.courses._reminder_links import ReminderLinks
from blendkit.courses._reminder_store import ReminderSettings
from blendkit.courses._service import CourseService
from blendkit.errors import BlendkitError, ProviderError
from blendkit.notify._contexts import (
    AtRiskLearner,
    AtRiskNudge,
    DeadlineApproaching,
    InstructorDigest,
    RecordingReady,
    SessionStarting,
    UpcomingSession,
)
from blendkit.notify._intent import ReminderIntent
from blendkit.notify._planning import Addressee, Offset, Personal, PlannedEvent, ReminderPlan
from blendkit.progression import Item

log = logging.getLogger("blendkit.notify")

__all__ = ["ReminderPlanner", "addressees", "sitting_links"]

_AT_ONCE = (Offset("0", timedelta(0)),)
_PLACEHOLDER = "learner"
_SITTING = "session:"


def addressees(people: Iterable[Enrolment]) -> list[Addressee]:
    """People as the planner greets them: their name (or id) and their own zone."""
    return [Addressee(p.sub, p.display_name, p.time_zone) for p in people]


class ReminderPlanner:
    """``planner(now) -> [ReminderIntent]`` over the courses a store keeps."""

    def __init__(
        self,
        courses: CourseService,
        live: LiveSessionService | None,
        links: ReminderLinks,
        *,
        settings: ReminderSettings | None = None,
        horizon: timedelta = timedelta(hours=48),
        catch_up: timedelta = timedelta(days=7),
        course_ids: Callable[[], Iterable[int]] | None = None,
    ) -> None:
        self.courses = courses
        self.live = live
        self.links = links
        self.settings = settings or ReminderSettings(courses.store, clock=courses.clock)
        self.horizon = horizon
        self.catch_up = catch_up
        self.course_ids = course_ids
        self._daily_done: dict[int, date] = {}

    def __call__(self, now: datetime) -> list[ReminderIntent]:
        """Everything due before ``now + horizon`` in every course."""
        ids = self.course_ids() if self.course_ids is not None else self._all_course_ids()
        intents: list[ReminderIntent] = []
        for course_id in ids:
            course = self.courses.course_by_id(course_id)
            intents.extend(self.plan_course(course, now))
            if self._daily_done.get(course_id) != now.date():
                intents.extend(self.daily(course, now))
                self._daily_done[course_id] = now.date()
        return intents

    def _all_course_ids(self) -> list[int]:
        from sqlalchemy import select

        from blendkit.store._tables_courses import course_courses

        with self.courses.store.transaction() as s:
            return list(
                s.execute(select(course_courses.c.id).order_by(course_courses.c.id)).scalars()
            )

    # --- one course -------------------------------------------------------------------------

    def plan(self, course: Course, now: datetime) -> ReminderPlan:
        """The course's dated events, indexed (no per-learner work beyond reading the roll)."""
        learners = self.courses.enrolments(course, learners_only=True)
        return ReminderPlan(course.id, addressees(learners), self.events(course, learners, now))

    def plan_course(self, course: Course, now: datetime) -> list[ReminderIntent]:
        """What falls due in the course before ``now + horizon``, each sitting's reminders
        with the learner's own join link (worked out for the due sittings alone)."""
        plan = self.plan(course, now)
        states = _LearnerStates(self, course, now)
        return plan.due(now, self.horizon, skip=states.skip, personal=self.join_links(course))

    def events(self, course: Course, people: list[Enrolment], now: datetime) -> list[PlannedEvent]:
        offsets = self.settings.offsets(course.id)
        events = list(self._deadlines(course, people, offsets.deadline))
        events.extend(booking_events(self.courses, course, offsets.session, now))
        if self.live is not None:
            sessions = self.live.sessions(course)
            events.extend(self.sitting_events(course, sessions, offsets.session, now))
            events.extend(self._recordings(course, sessions, people, now))
        return events

    def _deadlines(
        self, course: Course, people: list[Enrolment], offsets: tuple[Offset, ...]
    ) -> Iterable[PlannedEvent]:
        extended: dict[str, dict[str, datetime]] = {}
        for o in self.courses.overrides(course):
            if o.action == "extend" and o.until is not None:
                mine = extended.setdefault(o.item, {})
                mine[o.sub] = max(o.until, mine.get(o.sub, o.until))
        for item in course.path.items():
            if item.due is not None and people and item.id not in extended:
                # The same moment for everyone: the audience is the roll the plan is built on.
                yield self._deadline(course, item, item.due, offsets, None)
                continue
            moments: dict[str, datetime] = {}
            if item.due is not None:
                moments = {p.sub: item.due for p in people}
            elif item.due_after_enrolment_days is not None:
                span = timedelta(days=item.due_after_enrolment_days)
                moments = {p.sub: p.enrolled_at + span for p in people if p.enrolled_at}
            if not moments:
                continue
            for sub, until in extended.get(item.id, {}).items():
                if sub in moments and until > moments[sub]:
                    moments[sub] = until
            by_moment: dict[datetime, list[str]] = {}
            for sub, moment in moments.items():
                by_moment.setdefault(moment, []).append(sub)
            for moment, subs in by_moment.items():
                yield self._deadline(course, item, moment, offsets, tuple(subs))

    def _deadline(
        self,
        course: Course,
        item: Item,
        moment: datetime,
        offsets: tuple[Offset, ...],
        recipients: tuple[str, ...] | None,
    ) -> PlannedEvent:
        """An item's deadline at ``moment`` for ``recipients`` (None: every learner)."""
        return PlannedEvent(
            event=f"deadline:{item.id}",
            version=moment.isoformat(),
            moment=moment,
            offsets=offsets,
            context=DeadlineApproaching(
                recipient_name=_PLACEHOLDER,
                course_title=course.title[:200],
                item_title=(item.title or item.id)[:200],
                item_url=self.links.item_url(course, item.id),
                due=moment,
                time_zone="UTC",
            ),
            recipients=recipients,
            per_recipient=True,
        )

    def sitting_events(
        self,
        course: Course,
        sessions: list[LiveSessionRecord],
        offsets: tuple[Offset, ...],
        now: datetime,
    ) -> Iterable[PlannedEvent]:
        for record in sessions:
            if record.start_utc <= now:
                continue
            yield PlannedEvent(
                event=f"{_SITTING}{record.id}",
                version=record.start_utc.isoformat(),
                moment=record.start_utc,
                offsets=offsets,
                context=SessionStarting(
                    recipient_name=_PLACEHOLDER, course_title=course.title[:200],
                    session_title=record.title[:200], starts=record.start_utc,
                    time_zone="UTC", join_url=record.join_url,
                ),
            )  # fmt: skip

    def _recordings(
        self,
        course: Course,
        sessions: list[LiveSessionRecord],
        people: list[Enrolment],
        now: datetime,
    ) -> Iterable[PlannedEvent]:
        assert self.live is not None
        held = [s for s in sessions if s.attendance_imported and s.end_utc + self.catch_up > now]
        if not held:
            return
        present = {(r.session_id, r.sub) for r in self.live.attendance(course) if r.minutes > 0}
        for record in held:
            playable = [
                r
                for r in self.live.recordings(course, record.id)
                if r.kind in ("video", "audio") and r.play_url
            ]
            if not playable:
                continue
            missed = tuple(p.sub for p in people if (record.id, p.sub) not in present)
            yield PlannedEvent(
                event=f"recording:{record.id}",
                version=record.start_utc.isoformat(),
                moment=record.end_utc,
                offsets=_AT_ONCE,
                context=RecordingReady(
                    recipient_name=_PLACEHOLDER, course_title=course.title[:200],
                    session_title=record.title[:200], recording_url=playable[0].play_url,
                ),
                recipients=missed,
                expires=self.catch_up,
            )  # fmt: skip

    def join_links(self, course: Course) -> Personal | None:
        """Each due sitting's recipients' own join links, asked of the live-session service
        (None without one): see :func:`sitting_links`."""
        if self.live is None:
            return None
        return sitting_links(functools.partial(self.live.join_link, course))

    # --- once a day -------------------------------------------------------------------------

    def daily(self, course: Course, now: datetime) -> list[ReminderIntent]:
        """At-risk nudges for learners who are behind and each instructor's digest, keyed by
        the day (sent once a day however often the planner runs)."""
        day = now.astimezone(UTC).date()
        flagged = risks(self.courses, course, now)
        intents: list[ReminderIntent] = []
        for entry in flagged:
            person = entry.learner
            nudge = self._nudge(course, person, entry.signals, now)
            if nudge is not None:
                intents.append(
                    ReminderIntent(course.id, person.sub, f"at_risk:{day}", day.isoformat(),
                                   "0", now, nudge)
                )  # fmt: skip
        instructors = [p for p in self.courses.enrolments(course) if "instructor" in p.roles]
        if not instructors:
            return intents
        upcoming = tuple(
            UpcomingSession(title=s.title[:200], starts=s.start_utc)
            for s in (self.live.sessions(course) if self.live is not None else [])
            if now < s.start_utc <= now + timedelta(days=7)
        )
        completions = _completions_since(self.courses, course, now - timedelta(days=1))
        lines = tuple(
            AtRiskLearner(name=r.learner.display_name[:200], reason=r.signals[0].reason[:300])
            for r in flagged
        )
        for person in instructors:
            digest = InstructorDigest(
                recipient_name=person.display_name[:200], course_title=course.title[:200],
                day=day, time_zone=person.time_zone, completions=completions, at_risk=lines,
                upcoming=upcoming, course_url=self.links.course_url(course),
            )  # fmt: skip
            intents.append(
                ReminderIntent(course.id, person.sub, f"digest:{day}", day.isoformat(), "0",
                               now, digest)
            )  # fmt: skip
        return intents

    def _nudge(
        self, course: Course, person: Enrolment, signals: tuple[object, ...], now: datetime
    ) -> AtRiskNudge | None:
        result = self.courses.learner_path(course, person.sub, now)
        nxt = next(
            (s for s in result.items if s.state in ("available", "in_progress", "overdue")), None
        )
        if nxt is None:
            return None
        idle = [getattr(s, "details", {}).get("idle_days", 0) for s in signals]
        return AtRiskNudge(
            recipient_name=person.display_name[:200], course_title=course.title[:200],
            next_item_title=(nxt.title or nxt.id)[:200],
            next_item_url=self.links.item_url(course, nxt.id),
            days_inactive=int(max(idle, default=0)),
        )  # fmt: skip


class _LearnerStates:
    """Each learner's item states, worked out the first time an event that needs them is due:
    who completed a deadline's item (no reminder), whose sitting item is locked (no recording:
    they could not watch it)."""

    def __init__(self, planner: ReminderPlanner, course: Course, now: datetime) -> None:
        self.courses = planner.courses
        self.live = planner.live
        self.course = course
        self.now = now
        self._by_state: dict[tuple[str, str], set[str]] | None = None

    def _with(self, state: str, item: str | None) -> Collection[str]:
        if item is None:
            return ()
        if self._by_state is None:
            self._by_state = {}
            for person in self.courses.enrolments(self.course, learners_only=True):
                result = self.courses.learner_path(self.course, person.sub, self.now)
                for status in result.items:
                    self._by_state.setdefault((status.state, status.id), set()).add(person.sub)
        return self._by_state.get((state, item), set())

    def skip(self, event: PlannedEvent) -> Collection[str]:
        kind, _, ref = event.event.partition(":")
        if kind == "deadline":
            return self._with("completed", ref)
        if kind == "recording" and self.live is not None:
            return self._with("locked", self.live.session(self.course, ref).item)
        return ()


def sitting_links(join_link: Callable[[str, str], str]) -> Personal:
    """The ``personal`` hook of :meth:`ReminderPlan.due` for sittings: each recipient of a due
    sitting gets ``join_link(session_id, sub)`` as their ``join_url``; a recipient whose link is
    refused (the sitting's item is locked for them, it was cancelled, the provider has none for
    them) gets no reminder of it. Other events are left as they are."""

    def links(event: PlannedEvent, subs: Sequence[str]) -> dict[str, dict[str, Any]] | None:
        if not isinstance(event.context, SessionStarting):
            return None
        session_id = event.event.removeprefix(_SITTING)
        own: dict[str, dict[str, Any]] = {}
        for sub in subs:
            try:
                own[sub] = {"join_url": join_link(session_id, sub)}
            except ProviderError as exc:  # down, or answered a link no page may carry
                provider_refused(exc, session_id, sub)
            except BlendkitError:
                continue
        return own

    return links


def provider_refused(error: ProviderError, session_id: str, sub: str) -> None:
    """Log (WARNING) that the provider gave ``sub`` no usable join link for the sitting: the
    reminder is skipped, the others are sent. The error names no link (it may hold a password)."""
    log.warning(
        "reminders: no join link for %r in sitting %s, reminder skipped: %s %s",
        sub, session_id, error.code, error.message,
    )  # fmt: skip


def _completions_since(courses: CourseService, course: Course, since: datetime) -> int:
    return sum(
        1
        for r in courses.records(course, kind="completion")
        if (r.recorded_at if r.recorded_at.tzinfo else r.recorded_at.replace(tzinfo=UTC)) >= since
    )
