"""blendkit-zoom: Zoom meetings for blendkit (entry point ``zoom``, ``blendkit.meeting_providers``).

Scheduling (one-off and recurring), personal join links through auto-approved registration,
attendance from the participants report with ``next_page_token`` paging, cloud recordings, poll
answers and Q&A, and verified webhooks. Configure ``[zoom]`` in blendkit's settings; see
``docs/providers/zoom.md``.
"""

from blendkit_zoom._api import ZoomApi
from blendkit_zoom._auth import ZoomTokenSource
from blendkit_zoom._events import event_id_of
from blendkit_zoom._held import PastInstance
from blendkit_zoom._ids import encode_meeting_uuid, meeting_path_segment
from blendkit_zoom._polls import PollAnswer, QuestionAsked, answers_by_email
from blendkit_zoom._provider import ZoomProvider
from blendkit_zoom._settings import ZoomSettings
from blendkit_zoom._webhook import ZoomWebhookVerifier, sign_zoom_webhook

__all__ = [
    "PastInstance",
    "PollAnswer",
    "QuestionAsked",
    "ZoomApi",
    "ZoomProvider",
    "ZoomSettings",
    "ZoomTokenSource",
    "ZoomWebhookVerifier",
    "answers_by_email",
    "encode_meeting_uuid",
    "event_id_of",
    "meeting_path_segment",
    "sign_zoom_webhook",
]
