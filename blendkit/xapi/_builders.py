"""Builders for blendkit's events: one method per event, each returning a validated Statement.

Every statement gets a deterministic id (UUIDv5 of the event's identity) and a client-side
timestamp, so emitting or delivering the same event twice stores it once.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from operator import attrgetter
from typing import Any, Literal, Protocol, TypeVar
from urllib.parse import quote

from pydantic import ValidationError

from blendkit.errors import StatementInvalid
from blendkit.xapi._models import (
    Account,
    Activity,
    ActivityDefinition,
    Agent,
    ContextActivities,
    Statement,
    StatementContext,
    StatementResult,
    StatementScore,
    Verb,
    _Value,
)
from blendkit.xapi._vocab import (
    ACTIVITY_STREAMS,
    ADL,
    BLENDKIT,
    CMI5,
    TINCAN,
    VIDEO,
    VIRTUAL_CLASSROOM,
    profile_category,
)

__all__ = [
    "STATEMENT_NAMESPACE",
    "LaunchIdentity",
    "StatementFactory",
    "actor_from_launch",
    "iso_duration",
    "lti_actor",
    "statement_id",
]

STATEMENT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:blendkit:xapi:statement")
_NAMESPACE_BYTES = STATEMENT_NAMESPACE.bytes
_REGISTRATION_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:blendkit:xapi:registration")
_CACHE_SIZE = 10_000
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
_ID = attrgetter("id")

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

_V = TypeVar("_V", bound=_Value)
# Every field set to None, in declaration order (the order of the JSON members), per class.
_TEMPLATES: dict[type[_Value], dict[str, None]] = {}
# A value is four instance attributes pydantic documents on BaseModel (``__dict__``,
# ``__pydantic_fields_set__``, ``__pydantic_extra__``, ``__pydantic_private__``), set as
# ``BaseModel.model_construct`` sets them; the models are frozen, so through ``object.__setattr__``.
# model_construct itself costs about 5 us more per value (a default lookup per field).
# pyproject bounds pydantic below its next minor release; tests/test_dependency_internals.py
# checks the assembled values against validated ones.
_setattr = object.__setattr__
_new = object.__new__


def _trusted(cls: type[_V], **values: Any) -> _V:
    """A value from parts the builder has already checked: what ``model_construct`` does, minus
    its per-field default lookups. Used only in the hot builders (quiz, video, statement
    assembly) for inputs they validate themselves; the test suite re-validates every builder's
    output with :func:`parse_statement`, ralph's models and TinCanPython."""
    template = _TEMPLATES.get(cls)
    if template is None:
        template = _TEMPLATES[cls] = dict.fromkeys(cls.model_fields)
    return _assemble(cls, {**template, **values}, set(values))


def _assemble(cls: type[_V], fields: dict[str, Any], fields_set: set[str]) -> _V:
    """A value of ``cls`` holding ``fields`` (every field, in declaration order) as they are."""
    value = _new(cls)
    _setattr(value, "__dict__", fields)
    _setattr(value, "__pydantic_fields_set__", fields_set)
    _setattr(value, "__pydantic_extra__", None)
    _setattr(value, "__pydantic_private__", None)
    return value


# The three kinds every hot statement carries, each with its fields spelled out in declaration
# order (tests check the order against the models): no template merge per statement.


def _score(scaled: float, raw: float, low: float, high: float) -> StatementScore:
    return _assemble(
        StatementScore,
        {"scaled": scaled, "raw": raw, "min": low, "max": high},
        {"scaled", "raw", "min", "max"},
    )


def _context(
    registration: uuid.UUID | None,
    platform: str,
    language: str | None,
    activities: ContextActivities,
    extensions: dict[str, Any],
) -> StatementContext:
    return _assemble(
        StatementContext,
        {
            "registration": registration,
            "instructor": None,
            "team": None,
            "contextActivities": activities,
            "revision": None,
            "platform": platform,
            "language": language,
            "statement": None,
            "extensions": extensions,
            "contextAgents": None,
            "contextGroups": None,
        },
        {"registration", "platform", "language", "contextActivities", "extensions"},
    )


# UUID's slots, set through their descriptors: UUID.__init__ re-checks what is known here.
_set_uuid_int = uuid.UUID.__dict__["int"].__set__
_set_uuid_safe = uuid.UUID.__dict__["is_safe"].__set__
_UUID_SAFE_UNKNOWN = uuid.SafeUUID.unknown
_VERSION_VARIANT_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_VERSION_5_RFC_4122 = (5 << 76) | (0x8000 << 48)
_sha1 = hashlib.sha1
_from_bytes = int.from_bytes


def _named_id(name: str) -> uuid.UUID:
    """``uuid.uuid5(STATEMENT_NAMESPACE, name)``."""
    digest = _sha1(_NAMESPACE_BYTES + name.encode(), usedforsecurity=False).digest()
    result = _new(uuid.UUID)
    _set_uuid_int(result, (_from_bytes(digest[:16]) & _VERSION_VARIANT_CLEAR) | _VERSION_5_RFC_4122)
    _set_uuid_safe(result, _UUID_SAFE_UNKNOWN)
    return result


def statement_id(*identity: object) -> uuid.UUID:
    """UUIDv5 of the event identity: the same event always gets the same statement id.

    Equal to ``uuid.uuid5(STATEMENT_NAMESPACE, "\\x1f".join(map(str, identity)))``, computed
    without ``UUID.__init__``'s argument checks (this runs once per emitted statement).
    """
    return _named_id("\x1f".join(map(str, identity)))


def iso_duration(value: timedelta | float) -> str:
    """ISO 8601 duration (``PT1H2M3.5S``) from a timedelta or a number of seconds."""
    if type(value) is timedelta and not value.microseconds and value.days >= 0:
        # Whole seconds (the common case): integer arithmetic gives the same text.
        hours, rest = divmod(value.days * 86400 + value.seconds, 3600)
        minutes, whole = divmod(rest, 60)
        if hours:
            if minutes:
                return f"PT{hours}H{minutes}M{whole}S" if whole else f"PT{hours}H{minutes}M"
            return f"PT{hours}H{whole}S" if whole else f"PT{hours}H"
        if minutes:
            return f"PT{minutes}M{whole}S" if whole else f"PT{minutes}M"
        return f"PT{whole}S"
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if seconds < 0:
        raise StatementInvalid(f"duration: {seconds} s is negative; durations cannot be negative")
    hours_f, rest_f = divmod(seconds, 3600)
    minutes_f, secs = divmod(rest_f, 60)
    text = "PT"
    if hours_f:
        text += f"{int(hours_f)}H"
    if minutes_f:
        text += f"{int(minutes_f)}M"
    if secs or text == "PT":
        text += f"{round(secs, 2):g}S"
    return text


def lti_actor(issuer: str, sub: str, *, name: str | None = None, email: str | None = None) -> Agent:
    """The learner as an xAPI Agent: the platform account (homePage = issuer, name = sub).

    An email (``mbox``) is used only when ``email`` is given, i.e. when the deployment is
    configured to identify learners by email.
    """
    if email is not None:
        return Agent(name=name, mbox=f"mailto:{email}")
    if not sub:
        raise StatementInvalid("actor.account.name: the LTI launch has no user 'sub'")
    return Agent(name=name, account=Account(homePage=issuer, name=sub))


class _User(Protocol):
    @property
    def sub(self) -> str: ...


class LaunchIdentity(Protocol):
    """What the builders need from an LTI launch: the issuer and the user's ``sub``."""

    @property
    def issuer(self) -> str: ...

    @property
    def user(self) -> _User: ...


def actor_from_launch(launch: LaunchIdentity, *, name: str | None = None) -> Agent:
    """The Agent for the user of a validated launch (platform account, never an email)."""
    return lti_actor(launch.issuer, launch.user.sub, name=name)


def _actor_key(actor: Agent) -> str:
    if actor.account is not None:
        return f"{actor.account.homePage}|{actor.account.name}"
    return actor.mbox or actor.mbox_sha1sum or actor.openid or ""


def _now() -> datetime:
    return datetime.now(UTC)


class StatementFactory:
    """Builds the statements of one tool; activity ids live under ``tool_iri``.

    ``clock`` supplies the client-side timestamp when an event does not carry its own time.
    """

    def __init__(
        self,
        tool_iri: str,
        *,
        platform: str = "blendkit",
        language: str | None = "en",
        clock: Callable[[], datetime] = _now,
    ) -> None:
        # Checked once here, so the hot builders can reuse them without re-validation.
        try:
            checked = StatementContext(platform=platform, language=language)
            Activity(id=f"{tool_iri.rstrip('/')}/xapi")
        except ValidationError as exc:
            raise StatementInvalid(
                f"StatementFactory: tool_iri must be an absolute IRI and language an RFC 5646 "
                f"tag ({exc.errors()[0]['loc'][0]}: {exc.errors()[0]['msg']})"
            ) from exc
        self.tool_iri = tool_iri.rstrip("/")
        self.platform = checked.platform or platform
        self.language = checked.language
        self.clock = clock
        # Activities and context sets recur in almost every statement: build (and serialise)
        # each once. Bounded: cleared when they grow past _CACHE_SIZE entries.
        self._activities: dict[tuple[str, str, str, str | None], Activity] = {}
        self._registrations: dict[str, uuid.UUID] = {}
        self._context_sets: dict[tuple[Any, ...], ContextActivities] = {}

    # --- shared pieces ----------------------------------------------------------------------

    def activity_iri(self, kind: str, local_id: str) -> str:
        """``<tool>/xapi/<kind>/<id>``; a full http(s) IRI passes through unchanged."""
        if local_id.startswith(("http://", "https://")):
            return local_id
        return f"{self.tool_iri}/xapi/{kind}/{quote(str(local_id), safe='')}"

    def activity(self, kind: str, local_id: str, type_iri: str, name: str | None) -> Activity:
        """An Activity with a type and an optional name in the factory's language (cached)."""
        key = (kind, local_id, type_iri, name)
        found = self._activities.get(key)
        if found is None:
            names = {self.language or "en": name} if name else None
            found = Activity(
                id=self.activity_iri(kind, local_id),
                definition=ActivityDefinition(type=type_iri, name=names),
            )
            if len(self._activities) > _CACHE_SIZE:
                self._activities.clear()
            self._activities[key] = found
        return found

    def registration(self, actor: Agent, course_id: str) -> uuid.UUID:
        """A stable registration id for one learner in one course (context.registration)."""
        return self._registration(_actor_key(actor), course_id)

    def _registration(self, actor_key: str, course_id: str) -> uuid.UUID:
        key = f"{actor_key}\x1f{course_id}"
        found = self._registrations.get(key)
        if found is None:
            found = uuid.uuid5(_REGISTRATION_NAMESPACE, key)
            if len(self._registrations) > _CACHE_SIZE:
                self._registrations.clear()
            self._registrations[key] = found
        return found

    def _course(self, course_id: str | None, name: str | None = None) -> list[Activity] | None:
        if course_id is None:
            return None
        return [self.activity("course", course_id, ADL.COURSE_TYPE, name)]

    def _context_activities(
        self,
        course_id: str | None,
        category: tuple[Activity, ...] = (),
        other: tuple[Activity, ...] = (),
    ) -> ContextActivities:
        key = (course_id, tuple(map(_ID, category)), tuple(map(_ID, other)))
        found = self._context_sets.get(key)
        if found is None:
            found = ContextActivities(
                parent=self._course(course_id),
                category=list(category) or None,
                other=list(other) or None,
            )
            if len(self._context_sets) > _CACHE_SIZE:
                self._context_sets.clear()
            self._context_sets[key] = found
        return found

    def _statement(
        self,
        sid: uuid.UUID,
        actor: Agent,
        verb: Verb,
        obj: Activity,
        *,
        at: datetime | None,
        result: StatementResult | None = None,
        context: StatementContext | None = None,
    ) -> Statement:
        when = at or self.clock()
        if when.tzinfo is None:
            raise StatementInvalid("timestamp: give an aware datetime (e.g. datetime.now(UTC))")
        # Every part is already a validated value and the builder guarantees the statement-level
        # rules (Activity object, registration UUID, aware timestamp), so assemble without a
        # second validation pass: this is the emit hot path.
        return _assemble(
            Statement,
            {
                "id": sid,
                "actor": actor,
                "verb": verb,
                "object": obj,
                "result": result,
                "context": context,
                "timestamp": when,
                "stored": None,
                "authority": None,
                "version": None,
                "attachments": None,
            },
            {"id", "actor", "verb", "object", "result", "context", "timestamp"},
        )

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

    # --- peer review, modules ---------------------------------------------------------------

    def peer_review_submitted(
        self,
        actor: Agent,
        *,
        review_id: str,
        submission_id: str,
        course_id: str | None = None,
        rating: float | None = None,
        max_rating: float | None = None,
        comment: str | None = None,
        name: str | None = None,
        at: datetime | None = None,
    ) -> Statement:
        """A learner submitted a peer review of another learner's submission."""
        score = None
        if rating is not None:
            score = (
                StatementScore(raw=rating, min=0, max=max_rating)
                if max_rating
                else StatementScore(raw=rating)
            )
        result = StatementResult(score=score, response=comment) if score or comment else None
        other = (self.activity("submission", submission_id, ADL.ASSESSMENT_TYPE, None),)
        context = StatementContext(
            registration=self.registration(actor, course_id) if course_id else None,
            platform=self.platform,
            language=self.language,
            contextActivities=self._context_activities(course_id, other=other),
        )
        obj = self.activity("peer-review", review_id, TINCAN.REVIEW_TYPE, name)
        return self._statement(
            statement_id("peer-review", _actor_key(actor), obj.id),
            actor,
            ACTIVITY_STREAMS.SUBMIT,
            obj,
            at=at,
            result=result,
            context=context,
        )

    def module(
        self,
        event: Literal["unlocked", "completed"],
        actor: Agent,
        *,
        module_id: str,
        course_id: str,
        reason: str | None = None,
        name: str | None = None,
        at: datetime | None = None,
    ) -> Statement:
        """A module of a course path became available (``unlocked``) or was ``completed``."""
        if event not in ("unlocked", "completed"):
            raise StatementInvalid(f"module event {event!r} is not unlocked/completed")
        verb = BLENDKIT.UNLOCKED if event == "unlocked" else ADL.COMPLETED
        result = StatementResult(completion=True) if event == "completed" else None
        if reason:
            result = StatementResult(
                completion=result.completion if result else None,
                extensions={CMI5.RESULT_REASON: reason},
            )
        context = StatementContext(
            registration=self.registration(actor, course_id),
            platform=self.platform,
            language=self.language,
            contextActivities=self._context_activities(course_id),
        )
        obj = self.activity("module", module_id, ADL.MODULE_TYPE, name)
        return self._statement(
            # The course is part of the identity: one learner completing the same module id in
            # two courses (two deployments) makes two statements, not one deduplicated away.
            statement_id("module", event, _actor_key(actor), course_id, obj.id),
            actor,
            verb,
            obj,
            at=at,
            result=result,
            context=context,
        )

    def milestone(
        self,
        actor: Agent,
        *,
        milestone_id: str,
        course_id: str,
        on_time: bool | None = None,
        name: str | None = None,
        at: datetime | None = None,
    ) -> Statement:
        """A learner completed every item of a course-path milestone (ADL ``completed`` on an
        ADL ``objective``); ``on_time`` (result.success) says whether it was by the milestone's
        date (None: the milestone has no date for this learner yet)."""
        context = StatementContext(
            registration=self.registration(actor, course_id),
            platform=self.platform,
            language=self.language,
            contextActivities=self._context_activities(course_id),
        )
        obj = self.activity("milestone", milestone_id, ADL.OBJECTIVE_TYPE, name)
        return self._statement(
            statement_id("milestone", _actor_key(actor), course_id, obj.id),
            actor,
            ADL.COMPLETED,
            obj,
            at=at,
            result=StatementResult(completion=True, success=on_time),
            context=context,
        )

    def voiding(
        self, actor: Agent, target: uuid.UUID | str, *, at: datetime | None = None
    ) -> Statement:
        """A statement that voids ``target`` (its object is a StatementRef)."""
        return Statement.model_validate(
            {
                "id": statement_id("voided", target),
                "actor": actor,
                "verb": ADL.VOIDED,
                "object": {"objectType": "StatementRef", "id": str(target)},
                "timestamp": at or self.clock(),
            }
        )
