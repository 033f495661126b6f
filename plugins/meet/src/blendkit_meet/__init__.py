"""blendkit-meet: Google Meet sessions for blendkit (entry point ``meet``).

Sessions are Google Calendar events of ``[meet] organizer`` with a Meet conference
(``conferenceData.createRequest``); a service account with domain-wide delegation acts as the
organiser through google-auth, and every call goes through blendkit's outbound fence. Meet has no
personal join links: learners are invited to the event and every learner gets the event's Meet
link. Configure ``[meet]``; see ``docs/providers/meet.md``.
"""

from blendkit_meet._api import (
    CALENDAR_API,
    DIRECTORY_API,
    DRIVE_API,
    EVENTS_API,
    GOOGLE_RETRY,
    MEET_API,
    PEOPLE_API,
    GoogleApi,
)
from blendkit_meet._attendance import MeetAttendance
from blendkit_meet._auth import FencedRequest, GoogleTokenSource, organizer_scopes
from blendkit_meet._events import MeetEventHandler
from blendkit_meet._lookup import (
    CachedLookup,
    DirectoryLookup,
    PeopleLookup,
    UserEmail,
    user_lookup,
)
from blendkit_meet._provider import MeetProvider
from blendkit_meet._push import PushVerifier
from blendkit_meet._recordings import MeetRecordings, RecordingSharing, ShareResult
from blendkit_meet._settings import MeetSettings
from blendkit_meet._spaces import SPACE_PROPERTY, MeetSpace
from blendkit_meet._subscriptions import MeetSubscription, SubscriptionManager

__all__ = [
    "CALENDAR_API",
    "CachedLookup",
    "DIRECTORY_API",
    "DRIVE_API",
    "DirectoryLookup",
    "EVENTS_API",
    "FencedRequest",
    "GOOGLE_RETRY",
    "GoogleApi",
    "GoogleTokenSource",
    "MEET_API",
    "MeetAttendance",
    "MeetEventHandler",
    "MeetProvider",
    "MeetRecordings",
    "MeetSettings",
    "MeetSpace",
    "MeetSubscription",
    "PEOPLE_API",
    "PeopleLookup",
    "PushVerifier",
    "RecordingSharing",
    "SPACE_PROPERTY",
    "ShareResult",
    "SubscriptionManager",
    "UserEmail",
    "organizer_scopes",
    "user_lookup",
]
