"""Live sessions of a course: provider meetings, personal join links, attendance, recordings.

Attendance is merged by :func:`blendkit.sessions.build_attendance_report` (registrant id first,
then provider user id, then e-mail; never names) and each learner's figure becomes progression
evidence through :meth:`CourseService.record`, so a session attended unlocks what follows it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update

from blendkit.courses._models import (
    AttendanceRow,
    Course,
    LiveSessionRecord,
    RecordingRow,
    RecordOutcome,
    UnmatchedRow,
    aware,
)
from blendkit.courses._series import SessionSeries, session_record
from blendkit.courses._service import CourseService
from blendkit.courses._session_moves import SessionMoves
from blendkit.courses._timeline import item_locked
from blendkit.courses._transcript_imports import TranscriptImports
from blendkit.errors import BlendkitError, CourseInputInvalid, CoursesError, NotFound
from blendkit.notify._intent import NotificationSink
from blendkit.progression import AttendanceRecorded, RecordingWatched
from blendkit.sessions import (
    AttendanceReport,
    JoinLink,
    Learner,
    MeetingEnded,
    MeetingProvider,
    Occurrence,
    ParticipantRecord,
    Recording,
    RecordingCompleted,
    SessionEvent,
    SessionSpec,
    build_attendance_report,
)
from blendkit.sessions._answers import provider_answers
from blendkit.store._tables_courses import (
    course_attendance,
    course_join_links,
    course_recordings,
    course_sessions,
    course_unmatched,
)
from blendkit.xapi import Agent, Statement

__all__ = ["LiveSessionService"]

# Built once: the course page runs them on every visit.
_COURSE_SESSIONS = (
    select(course_sessions)
    .where(
        course_sessions.c.course_id == bindparam("course_id"),
        course_sessions.c.cancelled.is_(False),
    )
    .order_by(course_sessions.c.start_utc)
)
_COURSE_RECORDINGS = (
    select(course_recordings)
    .join(course_sessions, course_sessions.c.id == course_recordings.c.session_id)
    .where(course_sessions.c.course_id == bindparam("course_id"))
    .order_by(course_recordings.c.id)
)
_LONGEST_SITTING = timedelta(days=1)
_SESSION_RECORDINGS = _COURSE_RECORDINGS.where(
    course_recordings.c.session_id == bindparam("session_id")
)


class LiveSessionService(SessionSeries, SessionMoves, TranscriptImports):
    """Schedules sessions (one sitting or a weekly series) at a provider and turns what
    happened in them into evidence.

    With ``notifications`` (the notification queue), moving or rescheduling a sitting cancels
    its pending reminders, schedules the new ones and a "moved" notice per learner.
    """

    def __init__(
        self,
        courses: CourseService,
        provider: MeetingProvider,
        *,
        notifications: NotificationSink | None = None,
    ) -> None:
        self.courses = courses
        self.store = courses.store
        self.provider = provider
        self.notifications = notifications
        # Called with the course after each attendance import (attendance grades queue here).
        self.after_attendance_import: list[Callable[[Course], object]] = []

    # --- scheduling ------------------------------------------------------------------------

    def schedule(
        self,
        course: Course,
        *,
        title: str,
        start_utc: datetime,
        time_zone: str,
        duration_minutes: int,
        item: str | None = None,
        agenda: str = "",
    ) -> LiveSessionRecord:
        """Create the meeting at the provider and keep it (linked to path item ``item``)."""
        self._check_item(course, item)
        spec = SessionSpec(
            title=title,
            start_utc=start_utc,
            time_zone=time_zone,
            duration_minutes=duration_minutes,
            agenda=agenda,
        )
        with provider_answers(self.provider):
            meeting = self.provider.create_session(spec)
        first = meeting.occurrences[0] if meeting.occurrences else None
        session_id = uuid.uuid4().hex[:16]
        with self.store.transaction() as s:
            s.execute(
                insert(course_sessions).values(
                    id=session_id, course_id=course.id, item=item, title=title,
                    start_utc=spec.start_utc, time_zone=spec.time_zone,
                    duration_minutes=duration_minutes, provider=meeting.provider,
                    provider_meeting_id=meeting.meeting_id,
                    occurrence_id=first.occurrence_id if first else None,
                    join_url=meeting.join_url, attendance_imported=False,
                    created_at=self.courses.clock(),
                )
            )  # fmt: skip
        return self.session(course, session_id)

    def _check_item(self, course: Course, item: str | None) -> None:
        if item is not None:
            try:
                kind = course.path.item(item).kind
            except KeyError:
                raise CourseInputInvalid(
                    f"the course path has no item {item!r} to link the session to",
                    code="courses.unknown_item",
                    http_status=400,
                ) from None
            if kind not in ("live_session", "office_hours"):
                raise CourseInputInvalid(
                    f"item {item!r} is a {kind}, not a live session or office hours",
                    code="courses.not_a_session_item",
                    http_status=400,
                )

    def sessions(self, course: Course) -> list[LiveSessionRecord]:
        """The course's sessions (each sitting of a series, cancelled ones left out), earliest
        first."""
        with self.store.transaction() as s:
            rows = s.execute(_COURSE_SESSIONS, {"course_id": course.id}).all()
        return [session_record(r) for r in rows]

    def session(self, course: Course, session_id: str) -> LiveSessionRecord:
        """One session of the course (``NotFound`` otherwise)."""
        with self.store.transaction() as s:
            row = s.execute(
                select(course_sessions).where(
                    course_sessions.c.id == session_id, course_sessions.c.course_id == course.id
                )
            ).first()
        if row is None:
            raise NotFound(f"live session {session_id!r} is not part of {course.title!r}")
        return session_record(row)

    # --- join links ------------------------------------------------------------------------

    def join_link(self, course: Course, session_id: str, sub: str) -> str:
        """The learner's personal join URL (registered at the provider once, then kept).

        Refused (``courses.item_locked``) while the session's own path item is locked for the
        learner: the gate decides who may join, whatever page the request came from.
        """
        record = self.session(course, session_id)
        if record.cancelled:
            raise CoursesError(
                "this sitting was cancelled, so it has no join link; join the next one",
                code="courses.session_cancelled",
                http_status=409,
            )
        if (
            record.item is not None
            and self.courses.learner_path(course, sub).state(record.item) == "locked"
        ):
            raise item_locked(record.item)
        with self.store.transaction() as s:
            url = s.execute(
                select(course_join_links.c.url).where(
                    course_join_links.c.session_id == session_id, course_join_links.c.sub == sub
                )
            ).scalar_one_or_none()
        if url:
            return str(url)
        person = self.courses.enrolment(course, sub)
        with provider_answers(self.provider):
            link = self.provider.join_link(
                record.provider_meeting_id,
                Learner(id=sub, name=person.name, email=person.email),
            )
        insert_new = self.store.insert_ignoring_conflicts(course_join_links, "session_id", "sub")
        with self.store.transaction() as s:
            stored = s.execute(
                insert_new.values(
                    session_id=session_id, sub=sub, url=link.url,
                    registrant_id=link.registrant_id, created_at=self.courses.clock(),
                ).returning(course_join_links.c.id)
            ).first()  # fmt: skip
        if stored is None:  # another request registered the same learner first: use theirs
            return self.join_link(course, session_id, sub)
        return link.url

    def _join_links(self, record: LiveSessionRecord) -> list[JoinLink]:
        with self.store.transaction() as s:
            rows = s.execute(
                select(course_join_links).where(course_join_links.c.session_id == record.id)
            ).all()
        # Rows the store already holds: built without validating again, so a link kept before
        # a provider's links were checked still matches its attendance.
        return [
            JoinLink.model_construct(
                meeting_id=record.provider_meeting_id,
                learner_id=r.sub,
                url=r.url,
                registrant_id=r.registrant_id,
            )
            for r in rows
        ]

    # --- attendance ------------------------------------------------------------------------

    def import_attendance(
        self,
        course: Course,
        session_id: str,
        records: Sequence[ParticipantRecord] | None = None,
    ) -> AttendanceReport:
        """Merge the session's participants (fetched from the provider when not given), store
        them per learner and record each learner's attendance as evidence."""
        record = self.session(course, session_id)
        if records is None:
            with provider_answers(self.provider):
                records = self.provider.fetch_attendance(
                    record.provider_meeting_id, _attendance_ref(record)
                )
        people = self.courses.enrolments(course)
        roster = [Learner(id=p.sub, name=p.name, email=p.email) for p in people]
        occurrence = Occurrence(
            index=0,
            start_utc=record.start_utc,
            end_utc=record.end_utc,
            occurrence_id=record.occurrence_id,
        )
        report = build_attendance_report(
            records,
            roster,
            occurrence,
            meeting_id=record.provider_meeting_id,
            join_links=self._join_links(record),
        )
        # Staff are on the roster so that a host is matched rather than reported as a stranger,
        # but attendance is learner evidence: no row, no evidence, no statement for them.
        staff = {p.sub for p in people if "instructor" in p.roles}
        report = report.model_copy(
            update={"attendance": tuple(a for a in report.attendance if a.learner_id not in staff)}
        )
        opened: list[tuple[str, RecordOutcome]] = []
        with self.store.transaction() as s:
            s.execute(delete(course_attendance).where(course_attendance.c.session_id == record.id))
            s.execute(delete(course_unmatched).where(course_unmatched.c.session_id == record.id))
            for row in report.attendance:
                s.execute(
                    insert(course_attendance).values(
                        session_id=record.id, sub=row.learner_id, minutes=row.minutes_present,
                        percent=row.percent_present, first_join=row.first_join,
                        last_leave=row.last_leave,
                        matched_by=row.matched_by.value if row.matched_by else None,
                    )
                )  # fmt: skip
            for person in report.unmatched:
                s.execute(
                    insert(course_unmatched).values(
                        session_id=record.id, display_name=person.display_name or "(no name)",
                        email=person.email, reason=person.reason.value,
                        minutes=person.minutes_present,
                    )
                )  # fmt: skip
            s.execute(
                update(course_sessions)
                .where(course_sessions.c.id == record.id)
                .values(attendance_imported=True)
            )
            if record.item is not None:
                for row in report.attendance:
                    if row.minutes_present <= 0:
                        continue
                    outcome = self.courses.record(
                        course,
                        row.learner_id,
                        AttendanceRecorded(
                            item=record.item,
                            minutes=row.minutes_present,
                            percent=row.percent_present,
                            at=row.last_leave or record.end_utc,
                        ),
                        statements=self._attended(record, row.minutes_present * 60),
                        session=s,
                        when_locked="hold",  # stored; never counts while the item was locked
                    )
                    if self.courses.notifications is not None and outcome.unlocked():
                        opened.append((row.learner_id, outcome))
        for sub, outcome in opened:  # committed: the queue may now be told
            self.courses.announce_unlocked(course, self.courses.enrolment(course, sub), outcome)
        for follow_up in self.after_attendance_import:
            follow_up(course)
        return report

    def _attended(self, record: LiveSessionRecord, seconds: float) -> Any:
        def describe(actor: Agent, key: str) -> list[Statement]:
            return [
                self.courses.statements.live_session(
                    "terminated",
                    actor,
                    live_session_id=record.id,
                    course_id=key,
                    occurrence=_attendance_ref(record) or "0",
                    attended=timedelta(seconds=seconds),
                    name=record.title,
                    at=record.end_utc,
                )
            ]

        return describe

    def attendance(self, course: Course) -> list[AttendanceRow]:
        """Every stored attendance figure of the course's sessions."""
        with self.store.transaction() as s:
            rows = s.execute(
                select(course_attendance)
                .join(course_sessions, course_sessions.c.id == course_attendance.c.session_id)
                .where(course_sessions.c.course_id == course.id)
            ).all()
        return [
            AttendanceRow(
                session_id=r.session_id,
                sub=r.sub,
                minutes=r.minutes,
                percent=r.percent,
                first_join=r.first_join,
                last_leave=r.last_leave,
                matched_by=r.matched_by,
            )
            for r in rows
        ]

    def unmatched(self, course: Course) -> list[UnmatchedRow]:
        """Participants of the course's sessions no enrolment could be tied to."""
        with self.store.transaction() as s:
            rows = s.execute(
                select(course_unmatched)
                .join(course_sessions, course_sessions.c.id == course_unmatched.c.session_id)
                .where(course_sessions.c.course_id == course.id)
            ).all()
        return [
            UnmatchedRow(
                session_id=r.session_id,
                display_name=r.display_name,
                email=r.email,
                reason=r.reason,
                minutes=r.minutes,
            )
            for r in rows
        ]

    # --- recordings ------------------------------------------------------------------------

    def import_recordings(
        self,
        course: Course,
        session_id: str,
        recordings: Iterable[Recording] | None = None,
        *,
        transcripts: bool = True,
    ) -> list[RecordingRow]:
        """Keep the session's recording files (listed at the provider when not given).

        With ``transcripts`` and a provider that can download them, the session's transcript
        becomes its caption track (:meth:`import_transcripts`); a failed download is logged,
        never loses the recordings, and is tried again by :meth:`import_transcripts_due`.
        """
        record = self.session(course, session_id)
        if recordings is not None:
            found = list(recordings)
        else:
            with provider_answers(self.provider):
                found = self.provider.list_recordings(record.provider_meeting_id)
        with self.store.transaction() as s:
            known = set(
                s.execute(
                    select(course_recordings.c.provider_id).where(
                        course_recordings.c.session_id == record.id
                    )
                ).scalars()
            )
            for file in found:
                if file.provider_id in known:
                    continue
                known.add(file.provider_id)
                s.execute(
                    insert(course_recordings).values(
                        session_id=record.id, provider_id=file.provider_id, kind=file.kind.value,
                        title=file.title or record.title, play_url=file.play_url,
                        duration_seconds=file.duration_seconds,
                    )
                )  # fmt: skip
        if transcripts:
            self.import_transcripts(course, session_id, found)
        return self.recordings(course, session_id)

    def recordings(self, course: Course, session_id: str | None = None) -> list[RecordingRow]:
        """Recording files of one session or of every session of the course."""
        with self.store.transaction() as s:
            if session_id is None:
                rows = s.execute(_COURSE_RECORDINGS, {"course_id": course.id}).all()
            else:
                params = {"course_id": course.id, "session_id": session_id}
                rows = s.execute(_SESSION_RECORDINGS, params).all()
        return [
            RecordingRow(
                session_id=r.session_id,
                provider_id=r.provider_id,
                kind=r.kind,
                title=r.title,
                play_url=r.play_url,
                duration_seconds=r.duration_seconds,
                id=r.id,
                media_url=r.media_url,
            )
            for r in rows
        ]

    def recording_watched(
        self,
        course: Course,
        session_id: str,
        sub: str,
        percent: float,
        *,
        idempotency_key: str | None = None,
    ) -> RecordOutcome:
        """Record how much of the session's recording the learner watched (catching up).

        Only for a session of the course that has a recording, linked to a path item the
        learner may open (``courses.item_locked`` otherwise, nothing stored). With
        ``idempotency_key`` it is recorded once (see :meth:`CourseService.record`).
        """
        record = self.session(course, session_id)
        if record.item is None:
            raise CourseInputInvalid(
                "this session is not linked to a path item, so watching its recording counts "
                "for nothing; link it when scheduling",
                code="courses.session_without_item",
                http_status=400,
            )
        if not any(r.kind in ("video", "audio") for r in self.recordings(course, session_id)):
            raise CoursesError(
                "this session has no video or audio recording yet, so there is nothing to watch; "
                "recordings "
                "appear once the provider reports them (or `blendkit sessions import-ended`)",
                code="courses.no_recording",
                http_status=404,
            )
        return self.courses.record(
            course,
            sub,
            RecordingWatched(item=record.item, percent=percent, at=self.courses.clock()),
            idempotency_key=idempotency_key,
        )

    # --- sweeping ended sessions ------------------------------------------------------------

    def import_ended(
        self, *, now: datetime, grace_minutes: int = 15
    ) -> list[tuple[LiveSessionRecord, AttendanceReport | BlendkitError]]:
        """Import attendance and recordings of every session of this provider that ended at
        least ``grace_minutes`` ago and has no attendance yet.

        For providers that send no "meeting ended" event (Teams) and as a safety net for missed
        webhooks; run it from cron (``blendkit sessions import-ended``). A failure for one
        session is returned with it and the others still run. Transcripts are fetched after it
        by :meth:`import_transcripts_due` (the command runs both), so each is tried once a run.
        """
        _require_aware(now, "import_ended")
        with self.store.transaction() as s:
            rows = s.execute(
                select(course_sessions.c.id, course_sessions.c.course_id).where(
                    course_sessions.c.provider == self.provider.name,
                    course_sessions.c.attendance_imported.is_(False),
                    course_sessions.c.cancelled.is_(False),
                )
            ).all()
        outcomes: list[tuple[LiveSessionRecord, AttendanceReport | BlendkitError]] = []
        for row in rows:
            course = self.courses.course_by_id(row.course_id)
            record = self.session(course, row.id)
            if record.end_utc + timedelta(minutes=grace_minutes) > now:
                continue
            try:
                report = self.import_attendance(course, record.id)
                self.import_recordings(course, record.id, transcripts=False)
            except BlendkitError as exc:  # provider down, meeting gone: report, keep going
                outcomes.append((record, exc))
                continue
            outcomes.append((record, report))
        return outcomes

    def meetings_with_sittings_after(self, since: datetime) -> list[str]:
        """Provider meeting ids of this provider's sessions with a sitting (not cancelled) that
        ends after ``since``, each once, in start order: the sessions whose event subscriptions
        a :class:`~blendkit.sessions.SessionSubscriber` keeps (``blendkit sessions
        import-ended`` passes them)."""
        _require_aware(since, "meetings_with_sittings_after")
        # No sitting is longer than a day (SessionSpec), so those starting earlier have ended.
        earliest = (since - _LONGEST_SITTING).astimezone(UTC)
        query = select(
            course_sessions.c.provider_meeting_id,
            course_sessions.c.start_utc,
            course_sessions.c.duration_minutes,
        ).where(
            course_sessions.c.provider == self.provider.name,
            course_sessions.c.cancelled.is_(False),
            course_sessions.c.start_utc > earliest,
        )
        with self.store.transaction() as s:
            rows = s.execute(query.order_by(course_sessions.c.start_utc)).all()
        ending_later = (
            row.provider_meeting_id
            for row in rows
            if aware(row.start_utc) + timedelta(minutes=row.duration_minutes) > since
        )
        return list(dict.fromkeys(ending_later))

    # --- provider events -------------------------------------------------------------------

    def handle_events(self, events: Iterable[SessionEvent]) -> int:
        """Act on verified webhook events: import attendance when a meeting ended, keep
        recordings when they are ready. Returns how many events matched a known session."""
        handled = 0
        for event in events:
            if not isinstance(event, MeetingEnded | RecordingCompleted) or not event.meeting_id:
                continue
            with self.store.transaction() as s:
                rows = s.execute(
                    select(
                        course_sessions.c.id,
                        course_sessions.c.course_id,
                        course_sessions.c.start_utc,
                        course_sessions.c.occurrence_id,
                    ).where(
                        course_sessions.c.provider == event.provider,
                        course_sessions.c.provider_meeting_id == event.meeting_id,
                        course_sessions.c.cancelled.is_(False),
                    )
                ).all()
            for row in _sittings_of(rows, event):
                course = self.courses.course_by_id(row.course_id)
                if isinstance(event, MeetingEnded):
                    self.import_attendance(course, row.id)
                else:
                    self.import_recordings(course, row.id, event.recordings)
                handled += 1
        return handled


def _require_aware(moment: datetime, method: str) -> None:
    if moment.tzinfo is None:
        raise CourseInputInvalid(
            f"{method} needs a timezone-aware time (UTC)",
            code="courses.naive_datetime",
            http_status=500,
        )


def _attendance_ref(record: LiveSessionRecord) -> str | None:
    """How to ask the provider for one sitting's attendance: its id, else (in a series) the
    start it was held at, so a moved sitting's participants map to it."""
    if record.occurrence_id or record.series_id is None:
        return record.occurrence_id
    return record.start_utc.isoformat()


def _sittings_of(rows: Sequence[Any], event: SessionEvent) -> list[Any]:
    """The stored sittings an event of a meeting is about.

    One-off sessions: every row. A series' meeting has a row per sitting: the one whose
    occurrence id the event names, else the one held nearest before the event (attendance of
    the others is imported when they end).
    """
    if len(rows) <= 1:
        return list(rows)
    named = [r for r in rows if event.occurrence_id and r.occurrence_id == event.occurrence_id]
    if named:
        return named
    at = event.occurred_at
    if at is None:
        return []
    held = [r for r in rows if aware(r.start_utc) <= at]
    return [max(held, key=lambda r: aware(r.start_utc))] if held else []
