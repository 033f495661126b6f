"""A course's recordings as learners get them: the course's recording policy, the file the
tool's player plays, and caption tracks made from the providers' transcripts."""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select, update

from blendkit._links import page_link_problem
from blendkit.courses._caption_store import save_caption_track
from blendkit.courses._captions import Cue, captions_from_transcript, cues_of
from blendkit.courses._live import LiveSessionService
from blendkit.courses._models import Course, RecordingRow
from blendkit.errors import CourseInputInvalid, NotFound
from blendkit.store._tables_courses import course_recordings, course_sessions
from blendkit.store._tables_recordings import recording_captions, recording_policies

__all__ = ["PLAYABLE", "CaptionInfo", "RecordingLibrary", "RecordingPolicy"]

PLAYABLE = ("video", "audio")


class RecordingPolicy(BaseModel):
    """A course's rules for recordings: the share that counts as watched, and whether learners
    see only recordings with captions."""

    model_config = ConfigDict(frozen=True)

    watched_percent: float = 80.0
    captions_required: bool = False


class CaptionInfo(BaseModel):
    """A caption track of a session's recording."""

    model_config = ConfigDict(frozen=True)

    session_id: str
    language: str
    label: str
    source: str
    cues: int


def _row(r: Any) -> RecordingRow:
    return RecordingRow.model_validate(r, from_attributes=True)


class RecordingLibrary:
    """A course's recording files as learners get them: policy, playable media, captions."""

    def __init__(self, live: LiveSessionService) -> None:
        self.live = live
        self.courses = live.courses
        self.store = live.store

    # --- policy ----------------------------------------------------------------------------

    def policy(self, course: Course) -> RecordingPolicy:
        with self.store.transaction() as s:
            row = s.execute(
                select(recording_policies).where(recording_policies.c.course_id == course.id)
            ).first()
        if row is None:
            return RecordingPolicy()
        return RecordingPolicy(
            watched_percent=row.watched_percent, captions_required=row.captions_required
        )

    def set_policy(
        self, course: Course, *, watched_percent: float, captions_required: bool
    ) -> RecordingPolicy:
        """Change the course's recording policy (``watched_percent`` in 1..100)."""
        if not math.isfinite(watched_percent) or not 1 <= watched_percent <= 100:
            raise CourseInputInvalid(
                f"the share that counts as watched must be 1 to 100 percent, not {watched_percent}",
                code="recordings.policy_invalid",
                http_status=400,
            )
        values = {
            "watched_percent": float(watched_percent),
            "captions_required": bool(captions_required),
            "updated_at": self.courses.clock(),
        }
        upsert = self.store.insert_ignoring_conflicts(recording_policies, "course_id")
        with self.store.transaction() as s:
            s.execute(
                update(recording_policies)
                .where(recording_policies.c.course_id == course.id)
                .values(**values)
            )
            s.execute(upsert.values(course_id=course.id, **values))
        return self.policy(course)

    # --- recordings and captions ------------------------------------------------------------

    def recording(self, course: Course, recording_id: int) -> RecordingRow:
        """One recording file of the course's sessions (``NotFound`` for another course's)."""
        with self.store.transaction() as s:
            row = s.execute(
                select(course_recordings)
                .join(course_sessions, course_sessions.c.id == course_recordings.c.session_id)
                .where(
                    course_recordings.c.id == recording_id,
                    course_sessions.c.course_id == course.id,
                )
            ).first()
        if row is None:
            raise NotFound(f"recording {recording_id} is not part of {course.title!r}")
        return _row(row)

    def set_media(
        self, course: Course, recording_id: int, media_url: str, *, duration_seconds: int
    ) -> RecordingRow:
        """Name the file the tool's player plays for a recording, and its length in seconds
        (the provider's page in ``play_url`` cannot be embedded)."""
        self.recording(course, recording_id)
        if (
            not media_url.startswith(("https://", "http://", "/"))
            or page_link_problem(media_url) is not None
            or duration_seconds <= 0
        ):
            raise CourseInputInvalid(
                "a recording's media is an http(s) URL or a path on this site, with a length "
                "above 0 seconds",
                code="recordings.media_invalid",
                http_status=400,
            )
        with self.store.transaction() as s:
            s.execute(
                update(course_recordings)
                .where(course_recordings.c.id == recording_id)
                .values(media_url=media_url, duration_seconds=duration_seconds)
            )
        return self.recording(course, recording_id)

    def import_captions(
        self,
        course: Course,
        session_id: str,
        transcript: str | bytes,
        *,
        language: str = "en",
        label: str = "English",
        source: str = "upload",
        form: Literal["vtt", "srt"] = "vtt",
    ) -> CaptionInfo:
        """Make the session's caption track in ``language`` from a transcript (replacing one
        made before)."""
        self.live.session(course, session_id)
        if not language or len(language) > 35 or not language.replace("-", "").isalnum():
            raise CourseInputInvalid(
                f"{language[:40]!r} is not a language tag such as en or pt-BR",
                code="recordings.language_invalid",
                http_status=400,
            )
        track = captions_from_transcript(transcript, form=form)
        save_caption_track(
            self.store, session_id, track,
            language=language, label=label, source=source, now=self.courses.clock(),
        )  # fmt: skip
        return next(c for c in self.captions(course, session_id) if c.language == language)

    def captions(self, course: Course, session_id: str) -> list[CaptionInfo]:
        """The session's caption tracks (none for another course's session)."""
        with self.store.transaction() as s:
            rows = s.execute(
                select(
                    recording_captions.c.session_id, recording_captions.c.language,
                    recording_captions.c.label, recording_captions.c.source,
                    recording_captions.c.cues,
                )
                .join(course_sessions, course_sessions.c.id == recording_captions.c.session_id)
                .where(
                    recording_captions.c.session_id == session_id,
                    course_sessions.c.course_id == course.id,
                )
                .order_by(recording_captions.c.language)
            ).all()  # fmt: skip
        return [CaptionInfo.model_validate(r, from_attributes=True) for r in rows]

    def caption_vtt(self, course: Course, session_id: str, language: str) -> str:
        """The WebVTT text of a caption track of the course (``NotFound`` otherwise)."""
        with self.store.transaction() as s:
            vtt = s.execute(
                select(recording_captions.c.vtt)
                .join(course_sessions, course_sessions.c.id == recording_captions.c.session_id)
                .where(
                    recording_captions.c.session_id == session_id,
                    recording_captions.c.language == language,
                    course_sessions.c.course_id == course.id,
                )
            ).scalar_one_or_none()
        if vtt is None:
            raise NotFound(f"no {language!r} captions for session {session_id!r} of this course")
        return str(vtt)

    def transcript(self, course: Course, session_id: str, language: str) -> tuple[Cue, ...]:
        """The cues of a caption track, for the transcript shown beside the player."""
        return cues_of(self.caption_vtt(course, session_id, language))

    def hidden_reason(self, course: Course, recording: RecordingRow) -> str | None:
        """Why learners do not see a recording (None when they do)."""
        if recording.kind not in PLAYABLE:
            return f"it is a {recording.kind} file, not something to watch"
        if not recording.media_url:
            return "it has no file the tool's player can play yet"
        if not recording.duration_seconds:
            return "its length is unknown, so watching it could not be measured"
        if self.policy(course).captions_required and not self.captions(
            course, recording.session_id
        ):
            return "the course publishes recordings only with captions, and it has none yet"
        return None

    def published(self, course: Course, session_ids: set[str]) -> list[RecordingRow]:
        """The recordings of those sessions learners may watch in the tool's player."""
        return [
            r
            for r in self.live.recordings(course)
            if r.session_id in session_ids and self.hidden_reason(course, r) is None
        ]
