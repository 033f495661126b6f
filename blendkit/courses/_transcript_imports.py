"""Caption tracks from the transcripts a meeting provider keeps (Zoom, Teams, the fake).

When a session's recording files are kept and the provider is a
:class:`~blendkit.sessions.TranscriptSource`, its transcript file is downloaded and becomes the
session's caption track (the same storage as captions imported by hand, which are never
replaced). A failed download keeps the recording, is reported, and is tried again by
:meth:`TranscriptImports.import_transcripts_due` (``blendkit sessions import-ended`` runs it).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict
from sqlalchemy import exists, select

from blendkit.courses._caption_store import save_caption_track
from blendkit.courses._captions import captions_from_transcript
from blendkit.courses._models import Course, LiveSessionRecord
from blendkit.errors import BlendkitError
from blendkit.sessions import Recording, RecordingKind, TranscriptSource
from blendkit.sessions._answers import provider_answers
from blendkit.store._tables_courses import course_recordings, course_sessions
from blendkit.store._tables_recordings import recording_captions

if TYPE_CHECKING:
    from collections.abc import Callable

    from blendkit.courses._service import CourseService
    from blendkit.sessions import MeetingProvider
    from blendkit.store import Store

__all__ = ["TranscriptImport", "TranscriptImports"]

log = logging.getLogger("blendkit.courses")

_SITTING_WINDOW = timedelta(hours=12)
"""A transcript belongs to a sitting when its recording started within this distance of it."""
_LABELS = {"en": "English"}


class TranscriptImport(BaseModel):
    """What became of one transcript file of a session: kept as captions, or why not."""

    model_config = ConfigDict(frozen=True)

    session_id: str
    provider_id: str
    """The provider's id of the transcript file ("" when the files could not be listed)."""
    imported: bool
    language: str | None = None
    cues: int = 0
    error_code: str | None = None
    reason: str | None = None


class TranscriptImports:
    """Provider transcripts as caption tracks, for :class:`~blendkit.courses.LiveSessionService`."""

    courses: CourseService
    store: Store
    provider: MeetingProvider
    session: Callable[[Course, str], LiveSessionRecord]

    def import_transcripts(
        self, course: Course, session_id: str, recordings: Iterable[Recording] | None = None
    ) -> list[TranscriptImport]:
        """Download the session's transcript and keep it as its caption track.

        Only transcript files already kept among the session's recordings and recorded during
        this sitting count (``recordings`` as the provider listed them; listed now when not
        given). Nothing is fetched when the provider cannot download transcripts or the session
        already has captions (an instructor's upload is never replaced). The first file that
        reads wins; each failure is returned with the provider's reason and logged.
        """
        if not isinstance(self.provider, TranscriptSource):
            return []
        record = self.session(course, session_id)
        if self._has_captions(record.id):
            return []
        if recordings is not None:
            found = list(recordings)
        else:
            with provider_answers(self.provider):
                found = self.provider.list_recordings(record.provider_meeting_id)
        kept = self._kept_transcripts(record.id)
        files = sorted(
            (f for f in found if f.provider_id in kept and _during(f, record)),
            key=lambda f: (f.start_utc is None, f.start_utc, f.provider_id),
        )
        outcomes: list[TranscriptImport] = []
        for file in files:
            try:
                with provider_answers(self.provider):
                    transcript = self.provider.fetch_transcript(record.provider_meeting_id, file)
                track = captions_from_transcript(transcript)
            except BlendkitError as exc:  # provider down, file gone, not WebVTT: retried later
                log.warning(
                    "transcript %s of session %s not imported: %s",
                    file.provider_id, record.id, exc.code,
                )  # fmt: skip
                outcomes.append(
                    TranscriptImport(
                        session_id=record.id, provider_id=file.provider_id, imported=False,
                        error_code=exc.code, reason=exc.message,
                    )
                )  # fmt: skip
                continue
            language = transcript.language or "en"
            save_caption_track(
                self.store, record.id, track, language=language,
                label=_LABELS.get(language, language), source=self.provider.name,
                now=self.courses.clock(),
            )  # fmt: skip
            outcomes.append(
                TranscriptImport(
                    session_id=record.id, provider_id=file.provider_id, imported=True,
                    language=language, cues=len(track.cues),
                )
            )  # fmt: skip
            break
        return outcomes

    def import_transcripts_due(self) -> list[tuple[LiveSessionRecord, TranscriptImport]]:
        """Try again every session of this provider that has a transcript file kept but no
        caption track yet (a download that failed before, or recordings kept without
        fetching). Run after :meth:`LiveSessionService.import_ended`; a failure for one
        session is returned with it and the others still run."""
        if not isinstance(self.provider, TranscriptSource):
            return []
        captioned = exists().where(recording_captions.c.session_id == course_sessions.c.id)
        with self.store.transaction() as s:
            rows = s.execute(
                select(course_sessions.c.id, course_sessions.c.course_id)
                .join(course_recordings, course_recordings.c.session_id == course_sessions.c.id)
                .where(
                    course_sessions.c.provider == self.provider.name,
                    course_sessions.c.cancelled.is_(False),
                    course_recordings.c.kind == RecordingKind.TRANSCRIPT.value,
                    ~captioned,
                )
                .distinct()
                .order_by(course_sessions.c.id)
            ).all()
        outcomes: list[tuple[LiveSessionRecord, TranscriptImport]] = []
        for row in rows:
            course = self.courses.course_by_id(row.course_id)
            record = self.session(course, row.id)
            try:
                results = self.import_transcripts(course, record.id)
            except BlendkitError as exc:  # the files could not even be listed
                results = [
                    TranscriptImport(
                        session_id=record.id, provider_id="", imported=False,
                        error_code=exc.code, reason=exc.message,
                    )
                ]  # fmt: skip
            outcomes.extend((record, result) for result in results)
        return outcomes

    def _has_captions(self, session_id: str) -> bool:
        with self.store.transaction() as s:
            found = s.execute(
                select(recording_captions.c.id)
                .where(recording_captions.c.session_id == session_id)
                .limit(1)
            ).first()
        return found is not None

    def _kept_transcripts(self, session_id: str) -> set[str]:
        with self.store.transaction() as s:
            return set(
                s.execute(
                    select(course_recordings.c.provider_id).where(
                        course_recordings.c.session_id == session_id,
                        course_recordings.c.kind == RecordingKind.TRANSCRIPT.value,
                    )
                ).scalars()
            )


def _during(file: Recording, record: LiveSessionRecord) -> bool:
    """Whether a file was recorded at this sitting (a series lists every sitting's files)."""
    if file.start_utc is None:
        return True
    return record.start_utc - _SITTING_WINDOW <= file.start_utc <= record.end_utc + _SITTING_WINDOW
