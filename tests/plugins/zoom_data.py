"""Test data for the Zoom plugin: settings, session specs, participants-report rows, UUIDs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from blendkit.config import Settings
from blendkit.sessions import Recurrence, SessionSpec
from tests.plugins.zoom_fake import ACCOUNT_ID, CLIENT_ID, CLIENT_SECRET, stamp

UUID_WITH_SLASHES = "/Fq8Vc1HTPeY//gd3ms6Xw=="
UUID_PLAIN = "4444AAAiAAAAAiAiAiiAii=="
UUID_ONE_SLASH = "Xk2a+G9/QY6rL7TbqIr0mA=="


def participant_row(
    *,
    name: str,
    join: datetime,
    leave: datetime,
    email: str = "",
    registrant_id: str = "",
    user_id: str = "",
    participant_user_id: str = "",
    connection: str = "16778240",
    status: str = "in_meeting",
) -> dict[str, Any]:
    """A participants-report row as Zoom sends it (``id`` is empty for guests)."""
    return {
        "id": participant_user_id,
        "user_id": connection,
        "participant_user_id": participant_user_id,
        "name": name,
        "user_email": email,
        "join_time": stamp(join),
        "leave_time": stamp(leave),
        "duration": int((leave - join).total_seconds()),
        "registrant_id": registrant_id,
        "failover": False,
        "status": status,
        "customer_key": "",
        "bo_mtg_id": "",
        **({"user_id": user_id} if user_id else {}),
    }


START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # a Monday, 16:00 in Berlin


def zoom_settings(**zoom: Any) -> Settings:
    values = {
        "account_id": ACCOUNT_ID,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "webhook_secret": "whsec",
        "user_id": "host@example.edu",
        **zoom,
    }
    return Settings(zoom=values)


def weekly_spec(**changes: Any) -> SessionSpec:
    base: dict[str, Any] = {
        "title": "Statistics seminar",
        "start_utc": START,
        "time_zone": "Europe/Berlin",
        "duration_minutes": 90,
        "recurrence": Recurrence(frequency="weekly", weekdays=(0,), count=10),
        "agenda": "Week by week",
    }
    return SessionSpec(**{**base, **changes})
