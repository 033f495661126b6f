"""blendkit-teams: Teams meetings over Microsoft Graph (entry point ``teams``).

Sessions as Outlook events with a Teams meeting, attendance from attendance reports with
``@odata.nextLink`` paging, recordings and transcripts, change-notification subscriptions with the
validationToken handshake and clientState check, made when a session is scheduled, renewed
from Graph's own list of them and made again when missing (``TeamsProvider.renew_subscriptions``
and ``subscribe_missing``, called by ``blendkit sessions import-ended``). Teams has
one join URL per meeting; learners are matched by Entra user id or email. Configure ``[teams]``;
see ``docs/providers/teams.md``.
"""

from blendkit_teams._api import GRAPH_RETRY, GraphApi
from blendkit_teams._auth import GraphTokenSource, token_url
from blendkit_teams._notifications import GraphNotificationHandler, online_meeting_of
from blendkit_teams._online import AttendanceReportInfo
from blendkit_teams._provider import TeamsProvider
from blendkit_teams._settings import TeamsSettings
from blendkit_teams._subscriptions import (
    Renewal,
    RenewalFailure,
    Subscription,
    SubscriptionManager,
)

__all__ = [
    "AttendanceReportInfo",
    "GRAPH_RETRY",
    "GraphApi",
    "GraphNotificationHandler",
    "GraphTokenSource",
    "Renewal",
    "RenewalFailure",
    "Subscription",
    "SubscriptionManager",
    "TeamsProvider",
    "TeamsSettings",
    "online_meeting_of",
    "token_url",
]
