"""Recordings of live sessions: the provider's files kept per session, and learners watching
them to catch up (evidence on the session's path item)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, insert, select

from blendkit.courses._models import Course, RecordingRow, RecordOutcome
from blendkit.courses._transcript_imports import TranscriptImports
from blendkit.errors import CourseInputInvalid, CoursesError
from blendkit.progression import RecordingWatched
from blendkit.sessions import Recording
from blendkit.sessions._answers import provider_answers
from blendkit.store._tables_courses import course_recordings, course_sessions

if TYPE_CHECKING:
    from collections.abc import Callable

    from blendkit.courses._models import LiveSessionRecord

__all__ = ["SessionRecordings"]

# Built once: the course page runs them on every visit.
_COURSE_RECORDINGS = (
    select(course_recordings)
    .join(course_sessions, course_sessions.c.id == course_recordings.c.session_id)
    .where(course_sessions.c.course_id == bindparam("course_id"))
    .order_by(course_recordings.c.id)
)
_SESSION_RECORDINGS = _COURSE_RECORDINGS.where(
    course_recordings.c.session_id == bindparam("session_id")
)


class SessionRecordings(TranscriptImports):
    """Recording operations of :class:`~blendkit.courses.LiveSessionService`; the transcripts of
    kept recordings become caption tracks (:class:`TranscriptImports`)."""

    session: Callable[[Course, str], LiveSessionRecord]

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
