"""The builders of profiled events (cmi5 launch and quiz, xAPI Video, Virtual Classroom): the
hot paths, assembled from parts they check themselves."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, Literal

from blendkit.errors import StatementInvalid
from blendkit.xapi._assembly import (
    _actor_key,
    _context,
    _named_id,
    _score,
    _trusted,
    iso_duration,
    statement_id,
)
from blendkit.xapi._factory import _FactoryCore
from blendkit.xapi._models import (
    Activity,
    Agent,
    Statement,
    StatementContext,
    StatementResult,
    Verb,
)
from blendkit.xapi._vocab import (
    ADL,
    BLENDKIT,
    CMI5,
    VIDEO,
    VIRTUAL_CLASSROOM,
    profile_category,
)

_CMI5_CATEGORY = Activity(id=CMI5.CATEGORY_CMI5)
_MOVE_ON_CATEGORY = Activity(id=CMI5.CATEGORY_MOVE_ON)
_VIDEO_CATEGORY = profile_category(VIDEO.PROFILE)
_CLASSROOM_CATEGORY = profile_category(VIRTUAL_CLASSROOM.PROFILE)
_CMI5_CATEGORIES = (_CMI5_CATEGORY,)
_VIDEO_CATEGORIES = (_VIDEO_CATEGORY,)
_CLASSROOM_CATEGORIES = (_CLASSROOM_CATEGORY,)
_PASSED_CATEGORIES = (_CMI5_CATEGORY, _MOVE_ON_CATEGORY)
_CMI5_SESSION_ID = CMI5.SESSION_ID
_CMI5_MASTERY_SCORE = CMI5.MASTERY_SCORE
_CMI5_MOVE_ON = CMI5.MOVE_ON
_NUMBER = (int, float)

VideoEvent = Literal["initialized", "played", "paused", "seeked", "completed", "terminated"]
_VIDEO_VERBS: dict[str, Verb] = {
    "initialized": VIDEO.INITIALIZED,
    "played": VIDEO.PLAYED,
    "paused": VIDEO.PAUSED,
    "seeked": VIDEO.SEEKED,
    "completed": VIDEO.COMPLETED,
    "terminated": VIDEO.TERMINATED,
}

_LIVE_VERBS: dict[str, Verb] = {
    "joined": VIRTUAL_CLASSROOM.JOINED,
    "left": VIRTUAL_CLASSROOM.LEFT,
    "terminated": VIRTUAL_CLASSROOM.TERMINATED,
}


class _ProfileBuilders(_FactoryCore):
    """The launch, quiz, video and live-session builders of :class:`StatementFactory`."""

    # --- launch -----------------------------------------------------------------------------

    def launched(
        self,
        actor: Agent,
        *,
        resource_id: str,
        launch_id: str,
        name: str | None = None,
        course_id: str | None = None,
        session_id: str | None = None,
        launch_mode: Literal["Normal", "Browse", "Review"] = "Normal",
        launch_url: str | None = None,
        at: datetime | None = None,
    ) -> Statement:
        """An LTI launch of a resource link (cmi5-style ``launched``); ``launch_id`` = nonce."""
        extensions: dict[str, Any] = {CMI5.LAUNCH_MODE: launch_mode}
        extensions[CMI5.SESSION_ID] = session_id or launch_id
        if launch_url:
            extensions[CMI5.LAUNCH_URL] = launch_url
        context = StatementContext(
            registration=self.registration(actor, course_id) if course_id else None,
            platform=self.platform,
            language=self.language,
            contextActivities=self._context_activities(course_id, (_CMI5_CATEGORY,)),
            extensions=extensions,
        )
        obj = self.activity("resource", resource_id, ADL.LESSON_TYPE, name)
        return self._statement(
            statement_id("launched", _actor_key(actor), obj.id, launch_id),
            actor,
            ADL.LAUNCHED,
            obj,
            at=at,
            context=context,
        )

    # --- quiz -------------------------------------------------------------------------------

    def quiz_attempt(
        self,
        actor: Agent,
        *,
        quiz_id: str,
        attempt_id: str,
        score: float,
        max_score: float,
        mastery_score: float,
        session_id: str,
        duration: timedelta | float,
        min_score: float = 0,
        move_on: str = "Passed",
        name: str | None = None,
        course_id: str | None = None,
        at: datetime | None = None,
    ) -> Statement:
        """A finished quiz attempt: ``passed`` when scaled score >= ``mastery_score`` (0..1)."""
        if not (
            isinstance(score, _NUMBER)
            and isinstance(max_score, _NUMBER)
            and isinstance(min_score, _NUMBER)
            and isinstance(mastery_score, _NUMBER)
        ):
            raise StatementInvalid("result.score: score, min, max and mastery must be numbers")
        if not isinstance(session_id, str) or not isinstance(attempt_id, str):
            raise StatementInvalid("sessionid / attempt id: give strings")
        if not 0 <= mastery_score <= 1:
            raise StatementInvalid(
                f"masteryscore: {mastery_score} is outside 0..1 (cmi5 masteryScore is scaled)"
            )
        if move_on not in CMI5.MOVE_ON_VALUES:
            raise StatementInvalid(
                f"moveon: {move_on!r} is not one of {', '.join(CMI5.MOVE_ON_VALUES)}"
            )
        if not min_score <= score <= max_score or min_score >= max_score:
            raise StatementInvalid(
                f"result.score: need min < max and min <= raw <= max "
                f"(got min={min_score}, raw={score}, max={max_score})"
            )
        scaled = round((score - min_score) / (max_score - min_score), 4)
        passed = scaled >= mastery_score
        result = _trusted(
            StatementResult,
            score=_score(scaled, score, min_score, max_score),
            success=passed,
            completion=True,
            duration=iso_duration(duration),
        )
        actor_key = _actor_key(actor)
        context = _context(
            self._registration(actor_key, course_id) if course_id else None,
            self.platform,
            self.language,
            self._context_activities(course_id, _PASSED_CATEGORIES if passed else _CMI5_CATEGORIES),
            {
                _CMI5_SESSION_ID: session_id,
                _CMI5_MASTERY_SCORE: mastery_score,
                _CMI5_MOVE_ON: move_on,
            },
        )
        obj = self.activity("quiz", quiz_id, ADL.ASSESSMENT_TYPE, name)
        return self._statement(
            _named_id(f"quiz\x1f{actor_key!s}\x1f{obj.id!s}\x1f{attempt_id!s}"),
            actor,
            ADL.PASSED if passed else ADL.FAILED,
            obj,
            at=at,
            result=result,
            context=context,
        )

    # --- video ------------------------------------------------------------------------------

    def video(
        self,
        event: VideoEvent,
        actor: Agent,
        *,
        video_id: str,
        session_id: uuid.UUID,
        time: float,
        length: float,
        progress: float | None = None,
        time_from: float | None = None,
        played_segments: str | None = None,
        completion_threshold: float | None = None,
        duration: timedelta | float | None = None,
        name: str | None = None,
        course_id: str | None = None,
        at: datetime | None = None,
    ) -> Statement:
        """A statement of the xAPI Video Profile; ``time`` is the position in seconds.

        ``progress`` is the ratio watched (0..1); ``seeked`` needs ``time_from`` and uses
        ``time`` as the target position.
        """
        for number in (time, length, progress or 0, time_from or 0, completion_threshold or 0):
            if not isinstance(number, _NUMBER) or number < 0:
                raise StatementInvalid(
                    "video: time, length, progress and thresholds are numbers >= 0"
                )
        if not isinstance(session_id, uuid.UUID):
            raise StatementInvalid("video session_id: the Video Profile needs a UUID")
        verb = _VIDEO_VERBS.get(event)
        if verb is None:
            raise StatementInvalid(f"video event {event!r} is not one of {', '.join(_VIDEO_VERBS)}")
        if progress is not None and not 0 <= progress <= 1:
            raise StatementInvalid(f"video progress {progress} is outside 0..1")
        results: dict[str, Any]
        if event == "seeked":
            if time_from is None:
                raise StatementInvalid("video seeked: time_from (the position left) is required")
            results = {VIDEO.TIME_FROM: time_from, VIDEO.TIME_TO: time}
        else:
            results = {VIDEO.TIME: time}
            if played_segments:
                results[VIDEO.PLAYED_SEGMENTS] = played_segments
            if progress is not None and event in ("paused", "completed", "terminated"):
                results[VIDEO.PROGRESS] = progress
        if event in ("completed", "terminated") and progress is None:
            raise StatementInvalid(f"video {event}: progress is required by the Video Profile")
        context_ext: dict[str, Any] = {VIDEO.SESSION_ID: str(session_id)}
        if event in ("initialized", "paused", "completed", "terminated"):
            context_ext[VIDEO.LENGTH] = length
            if completion_threshold is not None:
                context_ext[VIDEO.COMPLETION_THRESHOLD] = completion_threshold
        result = None
        if event != "initialized":
            result = _trusted(
                StatementResult,
                extensions=results,
                completion=True if event == "completed" else None,
                duration=iso_duration(duration) if duration is not None else None,
            )
        actor_key = _actor_key(actor)
        context = _context(
            self._registration(actor_key, course_id) if course_id else None,
            self.platform,
            self.language,
            self._context_activities(course_id, _VIDEO_CATEGORIES),
            context_ext,
        )
        obj = self.activity("video", video_id, VIDEO.VIDEO_TYPE, name)
        position = f"{time_from}>{time}" if event == "seeked" else str(time)
        return self._statement(
            _named_id(
                f"video\x1f{event!s}\x1f{actor_key!s}\x1f{obj.id!s}\x1f{session_id!s}\x1f{position}"
            ),
            actor,
            verb,
            obj,
            at=at,
            result=result,
            context=context,
        )

    # --- live sessions ----------------------------------------------------------------------

    def live_session(
        self,
        event: Literal["joined", "left", "terminated"],
        actor: Agent,
        *,
        live_session_id: str,
        course_id: str,
        occurrence: str,
        attended: timedelta | float | None = None,
        planned_duration: timedelta | None = None,
        name: str | None = None,
        at: datetime | None = None,
    ) -> Statement:
        """A Virtual Classroom profile statement for one occurrence of a live session.

        ``joined``/``left`` are per attendance interval (``at`` tells them apart);
        ``terminated`` closes the learner's session and carries the total ``attended`` time.
        ``joined``/``terminated`` always carry the profile's planned-duration extension: an
        ISO 8601 duration (Tin Can registry) or ``null`` when the schedule is unknown.
        """
        verb = _LIVE_VERBS.get(event)
        if verb is None:
            raise StatementInvalid(f"live session event {event!r} is not joined/left/terminated")
        when = at or self.clock()
        result = None
        if attended is not None:
            seconds = (
                attended.total_seconds() if isinstance(attended, timedelta) else float(attended)
            )
            # iso_duration refuses negative times; the extension's value is any JSON number.
            result = _trusted(
                StatementResult,
                duration=iso_duration(seconds),
                extensions={BLENDKIT.ATTENDED_SECONDS: seconds},
            )
        extensions: dict[str, Any] = {
            VIRTUAL_CLASSROOM.SESSION_ID: f"{live_session_id}:{occurrence}"
        }
        if event != "left":
            planned = iso_duration(planned_duration) if planned_duration is not None else None
            extensions[VIRTUAL_CLASSROOM.PLANNED_DURATION] = planned
        actor_key = _actor_key(actor)
        context = _context(
            self._registration(actor_key, course_id),
            self.platform,
            self.language,
            self._context_activities(course_id, _CLASSROOM_CATEGORIES),
            extensions,
        )
        obj = self.activity(
            "live-session",
            f"{live_session_id}:{occurrence}",
            VIRTUAL_CLASSROOM.CLASSROOM_TYPE,
            name,
        )
        moment = "" if event == "terminated" else when.isoformat()
        return self._statement(
            _named_id(f"live\x1f{event!s}\x1f{actor_key!s}\x1f{obj.id!s}\x1f{moment}"),
            actor,
            verb,
            obj,
            at=when,
            result=result,
            context=context,
        )
