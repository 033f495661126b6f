"""Zoom webhook documents → blendkit's typed events (shapes from Zoom's published event types).

``occurrence_id`` of an event is the meeting instance UUID Zoom reports; ``fetch_attendance``
accepts it as is. Zoom sends no delivery id, so ``event_id`` is a digest of the event name, its
``event_ts`` and its payload: the same on every redelivery, different for every real event.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import ValidationError

from blendkit.errors import ProviderError, WebhookRejected
from blendkit.sessions import (
    GenericEvent,
    MeetingEnded,
    MeetingStarted,
    ParticipantJoined,
    ParticipantLeft,
    ParticipantRecord,
    RecordingCompleted,
    SessionEvent,
)
from blendkit_zoom._convert import parse_time, recording_files

__all__ = ["event_id_of", "parse_event"]

PROVIDER = "zoom"


def event_id_of(document: dict[str, Any]) -> str:
    """A stable id for one Zoom event, identical across redeliveries of it."""
    canonical = orjson.dumps(
        [document.get("event"), document.get("event_ts"), document.get("payload")],
        option=orjson.OPT_SORT_KEYS,
    )
    return "zoom-" + hashlib.sha256(canonical).hexdigest()[:40]


def parse_event(document: dict[str, Any]) -> tuple[SessionEvent, ...]:
    """The typed events of one verified Zoom document; WebhookRejected when fields are missing."""
    name = str(document["event"])
    payload = document.get("payload")
    if not isinstance(payload, dict):
        raise _malformed(name, "payload")
    try:
        return (_parse(name, payload, event_id_of(document), document.get("event_ts")),)
    except ProviderError as exc:
        # A field no page may carry (a recording link that is no http(s) address): the
        # reason names the field, never the value. Refused, so Zoom does not send it again
        # as it would after a server error.
        raise _malformed(name, exc.message[:300]) from exc
    except (KeyError, TypeError, ValueError, ValidationError) as exc:
        first = str(exc).splitlines() or [type(exc).__name__]
        raise _malformed(name, first[0][:120]) from exc


def _parse(name: str, payload: dict[str, Any], event_id: str, event_ts: object) -> SessionEvent:
    sent = _event_time(event_ts)
    if name not in {
        "meeting.started",
        "meeting.ended",
        "meeting.participant_joined",
        "meeting.participant_left",
        "recording.completed",
    }:
        return GenericEvent(
            event_id=event_id, provider=PROVIDER, name=name, payload=payload, occurred_at=sent
        )
    obj = payload["object"]
    if not isinstance(obj, dict):
        raise TypeError("payload.object is not an object")
    meeting_id = _required_text(obj, "id")
    uuid = _required_text(obj, "uuid")
    common: dict[str, Any] = {
        "event_id": event_id,
        "provider": PROVIDER,
        "meeting_id": meeting_id,
        "occurrence_id": uuid,
    }
    if name == "meeting.started":
        return MeetingStarted(**common, occurred_at=parse_time(obj.get("start_time")) or sent)
    if name == "meeting.ended":
        return MeetingEnded(**common, occurred_at=parse_time(obj.get("end_time")) or sent)
    if name == "recording.completed":
        recordings = tuple(recording_files(obj))
        ends = [r.end_utc for r in recordings if r.end_utc is not None]
        return RecordingCompleted(
            **common, occurred_at=max(ends) if ends else sent, recordings=recordings
        )
    raw = obj["participant"]
    if not isinstance(raw, dict):
        raise TypeError("payload.object.participant is not an object")
    if name == "meeting.participant_joined":
        joined = _time_field(raw, "join_time")
        record = _participant(raw, uuid, join=joined, leave=None)
        return ParticipantJoined(**common, occurred_at=joined, participant=record)
    left = _time_field(raw, "leave_time")
    # Zoom's participant_left does not repeat the join time: the record spans no time and
    # attendance comes from fetch_attendance, which has both ends of every interval.
    record = _participant(raw, uuid, join=left, leave=left)
    return ParticipantLeft(**common, occurred_at=left, participant=record)


def _participant(
    raw: dict[str, Any], uuid: str, *, join: datetime, leave: datetime | None
) -> ParticipantRecord:
    user = raw.get("participant_user_id") or raw.get("id") or None
    connection = raw.get("participant_uuid") or raw.get("user_id") or None
    return ParticipantRecord(
        join_time=join,
        leave_time=leave,
        provider_user_id=str(user) if user else None,
        registrant_id=raw.get("registrant_id") or None,
        email=raw.get("email") or None,
        display_name=str(raw.get("user_name") or ""),
        connection_id=str(connection) if connection else None,
        occurrence_id=uuid,
    )


def _required_text(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise KeyError(f"payload.object.{key} is missing")
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise TypeError(f"payload.object.{key} is not a string or number")
    return str(value)


def _time_field(raw: dict[str, Any], key: str) -> datetime:
    moment = parse_time(raw.get(key))
    if moment is None:
        raise KeyError(f"payload.object.participant.{key} is missing or not a timestamp")
    return moment


def _event_time(event_ts: object) -> datetime | None:
    if isinstance(event_ts, int | float) and not isinstance(event_ts, bool):
        try:
            return datetime.fromtimestamp(event_ts / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return None


def _malformed(name: str, what: str) -> WebhookRejected:
    return WebhookRejected(
        f"Zoom {name} webhook is missing or has an unusable field ({what}); it was not processed",
        code="sessions.webhook_malformed",
    )
