"""Vocabularies as constants: ADL verbs, cmi5, the xAPI Video and Virtual Classroom profiles.

IRIs are copied from the published specifications (ADL xAPI vocabulary, cmi5 spec §9, xAPI Video
Profile 1.0, Virtual Classroom profile as modelled by ralph). Verbs are :class:`Verb` values with
an ``en-US`` display so builders can use them as they are.
"""

from __future__ import annotations

from typing import Final

from blendkit.xapi._models import Activity, ActivityDefinition, Verb

__all__ = [
    "ACTIVITY_STREAMS",
    "ADL",
    "BLENDKIT",
    "CMI5",
    "TINCAN",
    "VIDEO",
    "VIRTUAL_CLASSROOM",
    "profile_category",
]


def _verb(iri: str, display: str) -> Verb:
    return Verb(id=iri, display={"en-US": display})


def _category(iri: str) -> Activity:
    return Activity(id=iri, definition=ActivityDefinition(type=ADL.PROFILE_TYPE))


class ADL:
    """ADL verbs and activity types (http://adlnet.gov/expapi/…, https://w3id.org/xapi/adl/…)."""

    ANSWERED: Final = _verb("http://adlnet.gov/expapi/verbs/answered", "answered")
    ASKED: Final = _verb("http://adlnet.gov/expapi/verbs/asked", "asked")
    ATTEMPTED: Final = _verb("http://adlnet.gov/expapi/verbs/attempted", "attempted")
    ATTENDED: Final = _verb("http://adlnet.gov/expapi/verbs/attended", "attended")
    COMMENTED: Final = _verb("http://adlnet.gov/expapi/verbs/commented", "commented")
    COMPLETED: Final = _verb("http://adlnet.gov/expapi/verbs/completed", "completed")
    EXITED: Final = _verb("http://adlnet.gov/expapi/verbs/exited", "exited")
    EXPERIENCED: Final = _verb("http://adlnet.gov/expapi/verbs/experienced", "experienced")
    FAILED: Final = _verb("http://adlnet.gov/expapi/verbs/failed", "failed")
    IMPORTED: Final = _verb("http://adlnet.gov/expapi/verbs/imported", "imported")
    INITIALIZED: Final = _verb("http://adlnet.gov/expapi/verbs/initialized", "initialized")
    INTERACTED: Final = _verb("http://adlnet.gov/expapi/verbs/interacted", "interacted")
    LAUNCHED: Final = _verb("http://adlnet.gov/expapi/verbs/launched", "launched")
    MASTERED: Final = _verb("http://adlnet.gov/expapi/verbs/mastered", "mastered")
    PASSED: Final = _verb("http://adlnet.gov/expapi/verbs/passed", "passed")
    PREFERRED: Final = _verb("http://adlnet.gov/expapi/verbs/preferred", "preferred")
    PROGRESSED: Final = _verb("http://adlnet.gov/expapi/verbs/progressed", "progressed")
    REGISTERED: Final = _verb("http://adlnet.gov/expapi/verbs/registered", "registered")
    RESPONDED: Final = _verb("http://adlnet.gov/expapi/verbs/responded", "responded")
    RESUMED: Final = _verb("http://adlnet.gov/expapi/verbs/resumed", "resumed")
    SCORED: Final = _verb("http://adlnet.gov/expapi/verbs/scored", "scored")
    SHARED: Final = _verb("http://adlnet.gov/expapi/verbs/shared", "shared")
    SUSPENDED: Final = _verb("http://adlnet.gov/expapi/verbs/suspended", "suspended")
    TERMINATED: Final = _verb("http://adlnet.gov/expapi/verbs/terminated", "terminated")
    VOIDED: Final = _verb("http://adlnet.gov/expapi/verbs/voided", "voided")
    ABANDONED: Final = _verb("https://w3id.org/xapi/adl/verbs/abandoned", "abandoned")
    SATISFIED: Final = _verb("https://w3id.org/xapi/adl/verbs/satisfied", "satisfied")
    WAIVED: Final = _verb("https://w3id.org/xapi/adl/verbs/waived", "waived")

    ASSESSMENT_TYPE: Final = "http://adlnet.gov/expapi/activities/assessment"
    COURSE_TYPE: Final = "http://adlnet.gov/expapi/activities/course"
    INTERACTION_TYPE: Final = "http://adlnet.gov/expapi/activities/cmi.interaction"
    LESSON_TYPE: Final = "http://adlnet.gov/expapi/activities/lesson"
    MEETING_TYPE: Final = "http://adlnet.gov/expapi/activities/meeting"
    MODULE_TYPE: Final = "http://adlnet.gov/expapi/activities/module"
    OBJECTIVE_TYPE: Final = "http://adlnet.gov/expapi/activities/objective"
    PROFILE_TYPE: Final = "http://adlnet.gov/expapi/activities/profile"


class ACTIVITY_STREAMS:
    """Activity Streams verbs used by the profiles (join / leave / submit)."""

    JOIN: Final = _verb("http://activitystrea.ms/join", "joined")
    LEAVE: Final = _verb("http://activitystrea.ms/leave", "left")
    SUBMIT: Final = _verb("http://activitystrea.ms/schema/1.0/submit", "submitted")


class TINCAN:
    """Tin Can registry terms the profiles reuse."""

    PLANNED_DURATION: Final = "http://id.tincanapi.com/extension/planned-duration"
    REVIEW_TYPE: Final = "http://id.tincanapi.com/activitytype/review"
    WEBINAR_TYPE: Final = "http://id.tincanapi.com/activitytype/webinar"


class CMI5:
    """cmi5 (AICC/ADL) context extensions, categories, result extensions, activity types."""

    SESSION_ID: Final = "https://w3id.org/xapi/cmi5/context/extensions/sessionid"
    MASTERY_SCORE: Final = "https://w3id.org/xapi/cmi5/context/extensions/masteryscore"
    LAUNCH_MODE: Final = "https://w3id.org/xapi/cmi5/context/extensions/launchmode"
    LAUNCH_URL: Final = "https://w3id.org/xapi/cmi5/context/extensions/launchurl"
    MOVE_ON: Final = "https://w3id.org/xapi/cmi5/context/extensions/moveon"
    LAUNCH_PARAMETERS: Final = "https://w3id.org/xapi/cmi5/context/extensions/launchparameters"
    RESULT_PROGRESS: Final = "https://w3id.org/xapi/cmi5/result/extensions/progress"
    RESULT_REASON: Final = "https://w3id.org/xapi/cmi5/result/extensions/reason"
    CATEGORY_CMI5: Final = "https://w3id.org/xapi/cmi5/context/categories/cmi5"
    CATEGORY_MOVE_ON: Final = "https://w3id.org/xapi/cmi5/context/categories/moveon"
    COURSE_TYPE: Final = "https://w3id.org/xapi/cmi5/activitytype/course"
    BLOCK_TYPE: Final = "https://w3id.org/xapi/cmi5/activitytype/block"
    MOVE_ON_VALUES: Final = (
        "Passed",
        "Completed",
        "CompletedAndPassed",
        "CompletedOrPassed",
        "NotApplicable",
    )
    LAUNCH_MODES: Final = ("Normal", "Browse", "Review")


class VIDEO:
    """xAPI Video Profile 1.0 (https://w3id.org/xapi/video)."""

    PROFILE: Final = "https://w3id.org/xapi/video"
    VIDEO_TYPE: Final = "https://w3id.org/xapi/video/activity-type/video"
    PLAYED: Final = _verb("https://w3id.org/xapi/video/verbs/played", "played")
    PAUSED: Final = _verb("https://w3id.org/xapi/video/verbs/paused", "paused")
    SEEKED: Final = _verb("https://w3id.org/xapi/video/verbs/seeked", "seeked")
    INITIALIZED: Final = ADL.INITIALIZED
    COMPLETED: Final = ADL.COMPLETED
    TERMINATED: Final = ADL.TERMINATED
    INTERACTED: Final = ADL.INTERACTED
    # result extensions
    TIME: Final = "https://w3id.org/xapi/video/extensions/time"
    TIME_FROM: Final = "https://w3id.org/xapi/video/extensions/time-from"
    TIME_TO: Final = "https://w3id.org/xapi/video/extensions/time-to"
    PROGRESS: Final = "https://w3id.org/xapi/video/extensions/progress"
    PLAYED_SEGMENTS: Final = "https://w3id.org/xapi/video/extensions/played-segments"
    # context extensions
    SESSION_ID: Final = "https://w3id.org/xapi/video/extensions/session-id"
    LENGTH: Final = "https://w3id.org/xapi/video/extensions/length"
    COMPLETION_THRESHOLD: Final = "https://w3id.org/xapi/video/extensions/completion-threshold"
    CC_ENABLED: Final = "https://w3id.org/xapi/video/extensions/cc-enabled"
    CC_SUBTITLE_LANG: Final = "https://w3id.org/xapi/video/extensions/cc-subtitle-lang"
    FULL_SCREEN: Final = "https://w3id.org/xapi/video/extensions/full-screen"
    SCREEN_SIZE: Final = "https://w3id.org/xapi/video/extensions/screen-size"
    VIDEO_PLAYBACK_SIZE: Final = "https://w3id.org/xapi/video/extensions/video-playback-size"
    SPEED: Final = "https://w3id.org/xapi/video/extensions/speed"
    USER_AGENT: Final = "https://w3id.org/xapi/video/extensions/user-agent"
    VOLUME: Final = "https://w3id.org/xapi/video/extensions/volume"
    QUALITY: Final = "https://w3id.org/xapi/video/extensions/quality"
    FRAME_RATE: Final = "https://w3id.org/xapi/video/extensions/frame-rate"
    TRACK: Final = "https://w3id.org/xapi/video/extensions/track"


class VIRTUAL_CLASSROOM:
    """Virtual Classroom profile (https://w3id.org/xapi/virtual-classroom)."""

    PROFILE: Final = "https://w3id.org/xapi/virtual-classroom"
    CLASSROOM_TYPE: Final = (
        "https://w3id.org/xapi/virtual-classroom/activity-types/virtual-classroom"
    )
    INITIALIZED: Final = ADL.INITIALIZED
    JOINED: Final = ACTIVITY_STREAMS.JOIN
    LEFT: Final = ACTIVITY_STREAMS.LEAVE
    TERMINATED: Final = ADL.TERMINATED
    MUTED: Final = _verb("https://w3id.org/xapi/virtual-classroom/verbs/muted", "muted")
    UNMUTED: Final = _verb("https://w3id.org/xapi/virtual-classroom/verbs/unmuted", "unmuted")
    STARTED_CAMERA: Final = _verb(
        "https://w3id.org/xapi/virtual-classroom/verbs/started-camera", "started camera"
    )
    STOPPED_CAMERA: Final = _verb(
        "https://w3id.org/xapi/virtual-classroom/verbs/stopped-camera", "stopped camera"
    )
    SHARED_SCREEN: Final = _verb(
        "https://w3id.org/xapi/virtual-classroom/verbs/shared-screen", "shared screen"
    )
    UNSHARED_SCREEN: Final = _verb(
        "https://w3id.org/xapi/virtual-classroom/verbs/unshared-screen", "unshared screen"
    )
    RAISED_HAND: Final = _verb(
        "https://w3id.org/xapi/virtual-classroom/verbs/raised-hand", "raised hand"
    )
    LOWERED_HAND: Final = _verb(
        "https://w3id.org/xapi/virtual-classroom/verbs/lowered-hand", "lowered hand"
    )
    SESSION_ID: Final = CMI5.SESSION_ID
    PLANNED_DURATION: Final = TINCAN.PLANNED_DURATION
    # "posted public message" (acrossx terms): a question on a session's Q&A board.
    POSTED: Final = _verb("https://w3id.org/xapi/acrossx/verbs/posted", "posted")
    MESSAGE_TYPE: Final = "https://w3id.org/xapi/acrossx/activities/message"


class BLENDKIT:
    """blendkit's own terms, for events no published vocabulary covers (URN IRIs, stable)."""

    UNLOCKED: Final = _verb("urn:blendkit:xapi:verb:unlocked", "unlocked")
    UPVOTED: Final = _verb("urn:blendkit:xapi:verb:upvoted", "upvoted")
    ATTENDED_SECONDS: Final = "urn:blendkit:xapi:extension:attended-seconds"
    POLL: Final = "urn:blendkit:xapi:extension:poll"
    """A poll's kind and its options (``{"kind": …, "options": [{"id", "label"}]}``): the
    profile's poll activity has no interaction fields to hold them."""
    EVENT: Final = "urn:blendkit:xapi:extension:event"


def profile_category(iri: str) -> Activity:
    """The ``contextActivities.category`` entry that marks a statement as following a profile."""
    return _category(iri)
