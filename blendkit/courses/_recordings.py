"""Recordings that are really watched, and their captions.

The tool's player reports the ranges it played; the server keeps their union per learner and
recording file, computes progress as covered seconds over the duration it knows, and records
that share as :class:`~blendkit.progression.RecordingWatched` evidence, so a condition "attended
or watched 80 % of the recording" means what it says. A report the server can prove impossible is
refused (see :mod:`blendkit.courses._segments` and ``docs/sessions/recordings.md`` for what it
can and cannot verify). Captions are WebVTT tracks made from the providers' transcripts; a
course may publish only captioned recordings to learners.
"""

from __future__ import annotations

import json
import math
import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, select, update
from sqlalchemy.orm import Session

from blendkit.courses._models import Course, RecordingRow, aware
from blendkit.courses._recording_library import RecordingLibrary, RecordingPolicy
from blendkit.courses._records import StatementsFor
from blendkit.courses._segments import (
    check_kept_segments,
    check_played_in_time,
    check_segments,
    covered_seconds,
    played_segments_text,
    union_segments,
)
from blendkit.courses._timeline import item_locked, serialise_learner
from blendkit.errors import CourseInputInvalid, CoursesError, NotFound
from blendkit.progression import RecordingWatched
from blendkit.store._tables_recordings import (
    recording_views,
)
from blendkit.xapi import Agent, Statement, lti_actor

__all__ = ["PlayerEvent", "RecordingService", "RecordingView"]

PlayerEvent = Literal["played", "paused", "seeked", "ended", "progress"]


class RecordingView(BaseModel):
    """What the server knows of one learner's watching of one recording file."""

    model_config = ConfigDict(frozen=True)

    recording_id: int
    sub: str
    opened_at: datetime
    segments: tuple[tuple[float, float], ...]
    covered_seconds: float
    progress: float
    """Covered share of the duration, 0..1."""
    watched_at: datetime | None

    @property
    def percent(self) -> float:
        return round(self.progress * 100, 1)


class RecordingService(RecordingLibrary):
    """Played segments, progress and captions of a course's recordings (see the module doc)."""

    # --- watching --------------------------------------------------------------------------

    def _gate(self, course: Course, recording_id: int, sub: str) -> tuple[RecordingRow, str]:
        recording = self.recording(course, recording_id)
        reason = self.hidden_reason(course, recording)
        if reason is not None:
            raise NotFound(f"recording {recording_id} is not published to learners: {reason}")
        item = self.live.session(course, recording.session_id).item
        if item is None:
            raise CourseInputInvalid(
                "this session is not linked to a path item, so watching its recording counts "
                "for nothing; link it when scheduling",
                code="courses.session_without_item",
                http_status=400,
            )
        if self.courses.learner_path(course, sub).state(item) == "locked":
            raise item_locked(item)
        return recording, item

    def open_player(self, course: Course, recording_id: int, sub: str) -> RecordingView:
        """The learner opens the player: the first time starts the clock reports are held to."""
        self._gate(course, recording_id, sub)
        self.courses.enrolment(course, sub)
        add = self.store.insert_ignoring_conflicts(recording_views, "recording_id", "sub")
        now = self.courses.clock()
        with self.store.transaction() as s:
            s.execute(
                add.values(
                    course_id=course.id, recording_id=recording_id, sub=sub, opened_at=now,
                    segments="[]", covered_seconds=0.0, progress=0.0, updated_at=now,
                )
            )  # fmt: skip
        view = self.view(course, recording_id, sub)
        assert view is not None  # stored just above
        return view

    def view(self, course: Course, recording_id: int, sub: str) -> RecordingView | None:
        with self.store.transaction() as s:
            row = self._view_row(s, course, recording_id, sub)
        return None if row is None else _view(row)

    def _view_row(
        self, s: Connection | Session, course: Course, recording_id: int, sub: str
    ) -> Any:
        return s.execute(
            select(recording_views).where(
                recording_views.c.course_id == course.id,
                recording_views.c.recording_id == recording_id,
                recording_views.c.sub == sub,
            )
        ).first()

    def report(
        self,
        course: Course,
        recording_id: int,
        sub: str,
        segments: object,
        *,
        event: PlayerEvent = "progress",
        position: float = 0.0,
        position_from: float | None = None,
    ) -> RecordingView:
        """Add the ranges a player reports as played; progress and evidence follow from the
        union. Refused: a recording the learner never opened (``recordings.not_opened``),
        impossible ranges (``recordings.segments_invalid``), more play than the time since the
        first opening allows (``recordings.implausible_report``), a locked item."""
        recording, item = self._gate(course, recording_id, sub)
        duration = float(recording.duration_seconds or 0)
        ranges = check_segments(segments, duration)
        for number in (position, position_from or 0.0):
            if not math.isfinite(number) or not 0 <= number <= duration + 2:
                raise CourseInputInvalid(
                    f"the player position {number} is outside the recording",
                    code="recordings.segments_invalid",
                    http_status=400,
                )
        policy = self.policy(course)
        now = self.courses.clock()
        with self.store.transaction() as s:
            serialise_learner(s, course.id, sub)
            row = self._view_row(s, course, recording_id, sub)
            if row is None:
                raise CoursesError(
                    "this recording was never opened in the tool's player, so no played "
                    "segment can count; open its page and play it there",
                    code="recordings.not_opened",
                    http_status=409,
                )
            before = _view(row)
            merged = union_segments([*before.segments, *ranges])
            check_kept_segments(merged)
            covered = covered_seconds(merged)
            check_played_in_time(covered, before.opened_at, now)
            progress = min(1.0, covered / duration)
            watched_now = before.watched_at is None and progress * 100 >= policy.watched_percent
            watched_at = now if watched_now else before.watched_at
            s.execute(
                update(recording_views)
                .where(recording_views.c.id == row.id)
                .values(
                    segments=json.dumps(merged), covered_seconds=covered, progress=progress,
                    watched_at=watched_at, updated_at=now,
                )
            )  # fmt: skip
            after = before.model_copy(
                update={"segments": merged, "covered_seconds": covered,
                        "progress": progress, "watched_at": watched_at}
            )  # fmt: skip
            statements = self._statements(
                course, recording, after, event, position, position_from, policy, watched_now
            )
            if _step(after.percent) > _step(before.percent) or watched_now:
                self.courses.record(
                    course, sub,
                    RecordingWatched(item=item, percent=after.percent, at=now),
                    details={"recording_id": recording_id, "covered_seconds": round(covered, 3)},
                    statements=statements,
                    session=s,
                )  # fmt: skip
            else:
                person = self.courses.enrolment(course, sub)
                actor = lti_actor(course.issuer, sub, name=person.name or None)
                queued = statements(actor, self.courses.course_key(course))
                if queued:
                    self.courses.outbox.emit(queued, session=s)
        return after

    def _statements(  # noqa: PLR0917
        self,
        course: Course,
        recording: RecordingRow,
        view: RecordingView,
        event: PlayerEvent,
        position: float,
        position_from: float | None,
        policy: RecordingPolicy,
        watched_now: bool,
    ) -> StatementsFor:
        duration = float(recording.duration_seconds or 0)
        builder = self.courses.statements
        segments = played_segments_text(view.segments)
        opened = aware(view.opened_at).isoformat()
        video_id = f"recording-{recording.id}"

        def describe(actor: Agent, key: str) -> list[Statement]:
            session_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{key}:{actor.model_dump_json()}:{opened}")
            progress = round(view.progress, 4)
            out: list[Statement] = []
            if event == "seeked" and position_from is not None:
                out.append(
                    builder.video(
                        "seeked", actor, video_id=video_id, session_id=session_id,
                        time=position, time_from=position_from, length=duration,
                        course_id=key, name=recording.title,
                    )
                )  # fmt: skip
            for verb in ("played", "paused", "completed"):
                if (
                    verb == event
                    or (verb, event) == ("paused", "ended")
                    or (verb == "completed" and watched_now)
                ):
                    out.append(
                        builder.video(
                            verb, actor, video_id=video_id, session_id=session_id,
                            time=position, length=duration, course_id=key, name=recording.title,
                            played_segments=(segments or None) if verb != "played" else None,
                            progress=progress,
                            completion_threshold=(
                                round(policy.watched_percent / 100, 4)
                                if verb == "completed" else None
                            ),
                        )
                    )  # fmt: skip
            return out

        return describe


def _step(percent: float) -> int:
    """Progress is recorded as evidence at each tenth watched (and when it counts as watched)."""
    return int(percent // 10)


def _view(row: Any) -> RecordingView:
    return RecordingView(
        recording_id=row.recording_id,
        sub=row.sub,
        opened_at=aware(row.opened_at),
        segments=tuple(tuple(p) for p in json.loads(row.segments)),
        covered_seconds=row.covered_seconds,
        progress=row.progress,
        watched_at=aware(row.watched_at) if row.watched_at else None,
    )
