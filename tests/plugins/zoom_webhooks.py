"""Zoom webhook deliveries shaped after Zoom's published event types (rivet ``meetings.d.ts``)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

from blendkit.sessions import WebhookRequest

SECRET = "whsec"
MEETING_ID = "85746065001"
UUID = "/Fq8Vc1HTPeY//gd3ms6Xw=="
ARRIVAL = datetime(2026, 3, 2, 16, 30, 0, tzinfo=UTC)


def _object(**extra: Any) -> dict[str, Any]:
    return {
        "id": MEETING_ID,
        "uuid": UUID,
        "host_id": "KDcuGIm1QgePTO8WbOqwIQ",
        "topic": "Statistics seminar",
        "type": 2,
        "start_time": "2026-03-02T15:00:12Z",
        "timezone": "Europe/Berlin",
        "duration": 90,
        **extra,
    }


def meeting_started() -> dict[str, Any]:
    return {
        "event": "meeting.started",
        "event_ts": 1772463612345,
        "payload": {"account_id": "acc-123", "object": _object()},
    }


def meeting_ended() -> dict[str, Any]:
    return {
        "event": "meeting.ended",
        "event_ts": 1772469012345,
        "payload": {"account_id": "acc-123", "object": _object(end_time="2026-03-02T16:30:01Z")},
    }


def participant_joined(**participant: Any) -> dict[str, Any]:
    return {
        "event": "meeting.participant_joined",
        "event_ts": 1772463700000,
        "payload": {
            "account_id": "acc-123",
            "object": _object(
                participant={
                    "user_id": "16778240",
                    "user_name": "Ada Lovelace",
                    "id": "",
                    "participant_uuid": "F36B8C8E-B1D6-4EF4-9A55-6C6F6E0D2E11",
                    "join_time": "2026-03-02T15:01:40Z",
                    "email": "ada@example.edu",
                    "registrant_id": "reg001001",
                    "participant_user_id": "",
                    **participant,
                }
            ),
        },
    }


def participant_left() -> dict[str, Any]:
    return {
        "event": "meeting.participant_left",
        "event_ts": 1772468000000,
        "payload": {
            "account_id": "acc-123",
            "object": _object(
                participant={
                    "user_id": "16778240",
                    "user_name": "Ada Lovelace",
                    "id": "",
                    "participant_uuid": "F36B8C8E-B1D6-4EF4-9A55-6C6F6E0D2E11",
                    "leave_time": "2026-03-02T16:13:20Z",
                    "leave_reason": "left the meeting. Reason : left the meeting",
                    "email": "ada@example.edu",
                    "registrant_id": "reg001001",
                }
            ),
        },
    }


def recording_completed() -> dict[str, Any]:
    def file(file_id: str, file_type: str, recording_type: str) -> dict[str, Any]:
        return {
            "id": file_id,
            "meeting_id": UUID,
            "recording_start": "2026-03-02T15:01:00Z",
            "recording_end": "2026-03-02T16:29:00Z",
            "file_type": file_type,
            "file_size": 7340032,
            "file_extension": "MP4" if file_type == "MP4" else "VTT",
            "play_url": f"https://us02web.zoom.us/rec/play/{file_id}",
            "download_url": f"https://us02web.zoom.us/rec/download/{file_id}",
            "status": "completed",
            "recording_type": recording_type,
        }

    return {
        "event": "recording.completed",
        "event_ts": 1772470000000,
        "download_token": "download-token-not-for-logs",
        "payload": {
            "account_id": "acc-123",
            "object": _object(
                id=int(MEETING_ID),
                account_id="acc-123",
                password="abc123",
                host_email="host@example.edu",
                share_url="https://us02web.zoom.us/rec/share/abc",
                total_size=2 * 7340032,
                recording_count=2,
                recording_files=[
                    file("f-video", "MP4", "shared_screen_with_speaker_view"),
                    file("f-vtt", "TRANSCRIPT", "audio_transcript"),
                ],
            ),
        },
    }


def url_validation(plain: str = "qgg8vlvZRS6UYooatFL8Aw") -> dict[str, Any]:
    return {
        "payload": {"plainToken": plain},
        "event_ts": 1772463600000,
        "event": "endpoint.url_validation",
    }


def delivery(
    document: dict[str, Any] | bytes,
    *,
    sent: datetime = ARRIVAL,
    received: datetime = ARRIVAL,
    secret: str = SECRET,
    signature: str | None = None,
) -> WebhookRequest:
    """A POST to /webhooks/zoom signed the way Zoom signs (raw body, v0 scheme)."""
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    stamp = str(int(sent.timestamp()))
    digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
    return WebhookRequest(
        method="POST",
        path="/webhooks/zoom",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "x-zm-request-timestamp": stamp,
            "x-zm-signature": signature if signature is not None else "v0=" + digest.hexdigest(),
            "x-zm-trackingid": "v=2.0;clid=us06;rid=WEB_2a8d",
        },
        body=body,
        received_at=received,
    )
