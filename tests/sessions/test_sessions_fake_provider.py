"""The in-memory fake provider behaves like a real one: meetings, links, attendance, webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from blendkit.errors import NotFound, WebhookRejected
from blendkit.sessions import (
    FakeMeetingProvider,
    Learner,
    MatchKey,
    MeetingEnded,
    MeetingProvider,
    MemoryEventLedger,
    ParticipantJoined,
    ParticipantLeft,
    RecordingCompleted,
    RecordingKind,
    Recurrence,
    SessionSpec,
    WebhookRequest,
    build_attendance_report,
    expand_occurrences,
    handle_webhook_once,
)

BERLIN = ZoneInfo("Europe/Berlin")
ADA = Learner(id="ada", name="Ada", email="ada@example.org")
BOB = Learner(id="bob", name="Bob", email="bob@example.org")


def weekly_spec(count: int = 6) -> SessionSpec:
    # 17:00 in Berlin on Tuesday 17 March 2026 (CET, 16:00 UTC).
    return SessionSpec(
        title="Seminar",
        start_utc=datetime(2026, 3, 17, 17, 0, tzinfo=BERLIN),
        time_zone="Europe/Berlin",
        duration_minutes=60,
        recurrence=Recurrence(frequency="weekly", count=count),
    )


def test_fake_satisfies_the_protocol() -> None:
    assert isinstance(FakeMeetingProvider(), MeetingProvider)


def test_recurring_meeting_keeps_local_time_across_dst() -> None:
    meeting = FakeMeetingProvider().create_session(weekly_spec())
    assert re.fullmatch(r"fm[0-9a-f]{16}", meeting.meeting_id), "random, not sequential"
    local = [o.start_utc.astimezone(BERLIN) for o in meeting.occurrences]
    assert [d.time() for d in local] == [time(17, 0)] * 6
    utc = [o.start_utc.time() for o in meeting.occurrences]
    # Berlin moves to CEST on 29 March 2026: 16:00 UTC before, 15:00 UTC after.
    assert utc == [time(16, 0)] * 2 + [time(15, 0)] * 4
    assert len({o.occurrence_id for o in meeting.occurrences}) == 6


def test_recurrence_rules() -> None:
    base = weekly_spec().model_copy(
        update={
            "recurrence": Recurrence(frequency="weekly", weekdays=(0, 2), until=date(2026, 3, 31))
        }
    )
    # Starting Tuesday 17 March: Wednesday 18, Monday 23, Wednesday 25, Monday 30 March.
    days = [o.start_utc.astimezone(BERLIN).date() for o in expand_occurrences(base)]
    assert days == [date(2026, 3, 18), date(2026, 3, 23), date(2026, 3, 25), date(2026, 3, 30)]
    daily = base.model_copy(
        update={"recurrence": Recurrence(frequency="daily", interval=2, count=3)}
    )
    days = [o.start_utc.astimezone(BERLIN).date() for o in expand_occurrences(daily)]
    assert days == [date(2026, 3, 17), date(2026, 3, 19), date(2026, 3, 21)]
    with pytest.raises(ValueError, match="exactly one of count or until"):
        Recurrence(frequency="weekly")


def test_update_cancel_and_not_found() -> None:
    fake = FakeMeetingProvider()
    meeting = fake.create_session(weekly_spec())
    updated = fake.update_session(meeting.meeting_id, weekly_spec(count=3))
    assert len(updated.occurrences) == 3
    fake.cancel_session(meeting.meeting_id, updated.occurrences[1].occurrence_id)
    again = fake.update_session(meeting.meeting_id, weekly_spec(count=3))
    assert len(again.occurrences) == 3  # the meeting itself survives cancelling one occurrence
    with pytest.raises(NotFound):
        fake.cancel_session(meeting.meeting_id, "no-such-occurrence")
    fake.cancel_session(meeting.meeting_id)
    with pytest.raises(NotFound):
        fake.fetch_attendance(meeting.meeting_id)


def test_moving_one_occurrence_by_id_or_original_start() -> None:
    fake = FakeMeetingProvider()
    meeting = fake.create_session(weekly_spec())
    second, third = meeting.occurrences[1], meeting.occurrences[2]
    assert second.occurrence_id is not None
    moved_to = second.start_utc + timedelta(days=2, hours=1)

    assert fake.move_occurrence(meeting.meeting_id, second.occurrence_id, moved_to, 30) == (
        second.occurrence_id
    )
    # Named by its original start (RECURRENCE-ID), even after it moved once already.
    again = fake.move_occurrence(meeting.meeting_id, second.start_utc.isoformat(), moved_to, 45)
    assert again == second.occurrence_id
    by_start = fake.move_occurrence(meeting.meeting_id, third.start_utc.isoformat(), moved_to, 60)
    assert by_start == third.occurrence_id

    # Someone joining at the new time is counted in the moved occurrence, not a neighbour.
    link = fake.join_link(meeting.meeting_id, ADA)
    fake.join(meeting.meeting_id, at=moved_to, link=link, occurrence_id=second.occurrence_id)
    (record,) = fake.fetch_attendance(meeting.meeting_id, second.occurrence_id)
    assert record.join_time == moved_to
    fake.cancel_session(meeting.meeting_id, second.occurrence_id)
    with pytest.raises(NotFound, match="no occurrence"):
        fake.move_occurrence(meeting.meeting_id, second.occurrence_id, moved_to, 30)
    with pytest.raises(NotFound, match="no occurrence"):
        fake.move_occurrence(meeting.meeting_id, second.start_utc.isoformat(), moved_to, 30)


def test_personal_links_are_stable_and_distinct() -> None:
    fake = FakeMeetingProvider()
    meeting = fake.create_session(weekly_spec())
    ada = fake.join_link(meeting.meeting_id, ADA)
    assert fake.join_link(meeting.meeting_id, ADA) == ada
    bob = fake.join_link(meeting.meeting_id, BOB)
    assert ada.registrant_id != bob.registrant_id
    assert ada.url != bob.url
    assert ada.learner_id == "ada"


def test_scripted_meeting_gives_attendance_matched_by_registrant() -> None:
    fake = FakeMeetingProvider()
    meeting = fake.create_session(weekly_spec())
    first = meeting.occurrences[0]
    start = first.start_utc
    link = fake.join_link(meeting.meeting_id, ADA)
    laptop = fake.join(meeting.meeting_id, at=start, link=link)
    fake.leave(meeting.meeting_id, laptop, at=start + timedelta(minutes=20))
    fake.join(meeting.meeting_id, at=start + timedelta(minutes=15), link=link)  # phone, overlapping
    fake.join(meeting.meeting_id, at=start + timedelta(minutes=5), display_name="Bob (guest)")
    fake.end(meeting.meeting_id, at=start + timedelta(minutes=50))
    records = fake.fetch_attendance(meeting.meeting_id, first.occurrence_id)
    assert len(records) == 3
    assert all(r.leave_time is not None for r in records)
    report = build_attendance_report(
        records, [ADA, BOB], first, meeting_id=meeting.meeting_id, join_links=[link]
    )
    ada = report.for_learner("ada")
    assert ada is not None
    assert ada.matched_by is MatchKey.REGISTRANT_ID
    assert ada.minutes_present == pytest.approx(50)
    assert [u.display_name for u in report.unmatched] == ["Bob (guest)"]


def test_webhooks_are_signed_parsed_and_deduplicated() -> None:
    fake = FakeMeetingProvider(webhook_secret="s3cret")
    meeting = fake.create_session(weekly_spec())
    start = meeting.occurrences[0].start_utc
    connection = fake.join(
        meeting.meeting_id, at=start, link=fake.join_link(meeting.meeting_id, ADA)
    )
    fake.leave(meeting.meeting_id, connection, at=start + timedelta(minutes=30))
    fake.end(meeting.meeting_id, at=start + timedelta(minutes=60))
    fake.add_recording(meeting.meeting_id, RecordingKind.VIDEO, start=start, duration_seconds=3600)
    requests = fake.pending_webhooks()
    assert fake.pending_webhooks() == []
    ledger = MemoryEventLedger()
    events = [e for r in requests for e in handle_webhook_once(fake, r, ledger).events]
    assert [type(e) for e in events] == [
        ParticipantJoined,
        ParticipantLeft,
        MeetingEnded,
        RecordingCompleted,
    ]
    left = events[1]
    assert isinstance(left, ParticipantLeft)
    assert left.participant.leave_time == start + timedelta(minutes=30)
    recording = events[3]
    assert isinstance(recording, RecordingCompleted)
    assert recording.recordings == tuple(fake.list_recordings(meeting.meeting_id))
    # A redelivery is acknowledged again but carries no event the second time.
    again = handle_webhook_once(fake, requests[0], ledger)
    assert again.response.status == 204
    assert again.events == ()


def signed(fake: FakeMeetingProvider) -> WebhookRequest:
    meeting = fake.create_session(weekly_spec())
    fake.start(meeting.meeting_id, at=meeting.occurrences[0].start_utc)
    (request,) = fake.pending_webhooks()
    return request


def test_forged_stale_unsigned_and_malformed_webhooks_are_rejected() -> None:
    fake = FakeMeetingProvider(webhook_secret="s3cret")
    good = signed(fake)
    assert fake.handle_webhook(good).events
    meeting_id = json.loads(good.body)["payload"]["meeting_id"].encode()
    forged = good.model_copy(update={"body": good.body.replace(meeting_id, b"fm0123456789abcdef")})
    other_secret = FakeMeetingProvider(webhook_secret="other")
    stale = good.model_copy(update={"received_at": good.received_at + timedelta(minutes=6)})
    unsigned = good.model_copy(update={"headers": {"content-type": "application/json"}})
    cases = [
        (forged, fake, "sessions.webhook_bad_signature"),
        (good, other_secret, "sessions.webhook_bad_signature"),
        (stale, fake, "sessions.webhook_stale"),
        (unsigned, fake, "sessions.webhook_unsigned"),
    ]
    for request, provider, code in cases:
        with pytest.raises(WebhookRejected) as caught:
            provider.handle_webhook(request)
        assert caught.value.code == code
        assert "s3cret" not in str(caught.value)
    now = datetime(2026, 3, 17, 16, 0, tzinfo=UTC)
    malformed = fake.signed_request({"event": "meeting.started", "payload": {"nope": 1}}, at=now)
    with pytest.raises(WebhookRejected) as caught:
        fake.handle_webhook(malformed)
    assert caught.value.code == "sessions.webhook_malformed"


def test_handshakes_are_answered() -> None:
    fake = FakeMeetingProvider(webhook_secret="s3cret")
    now = datetime(2026, 3, 17, 16, 0, tzinfo=UTC)
    request = fake.signed_request(
        {"event": "endpoint.url_validation", "payload": {"plainToken": "abc"}}, at=now
    )
    result = fake.handle_webhook(request)
    assert result.events == ()
    answer = json.loads(result.response.body)
    assert answer == {
        "plainToken": "abc",
        "encryptedToken": hmac.new(b"s3cret", b"abc", hashlib.sha256).hexdigest(),
    }
    graph_style = WebhookRequest(method="POST", query={"validationToken": "tok en"})
    response = fake.handle_webhook(graph_style).response
    assert (response.status, response.body) == (200, b"tok en")
    assert response.headers["content-type"].startswith("text/plain")


def test_concurrent_joins_get_unique_ids() -> None:
    fake = FakeMeetingProvider()
    meeting = fake.create_session(weekly_spec())
    start = meeting.occurrences[0].start_utc
    connections: list[str] = []
    lock = threading.Lock()

    def attend(worker: int) -> None:
        for n in range(50):
            c = fake.join(meeting.meeting_id, at=start, email=f"w{worker}-{n}@example.org")
            fake.leave(meeting.meeting_id, c, at=start + timedelta(minutes=1))
            with lock:
                connections.append(c)

    threads = [threading.Thread(target=attend, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(connections)) == 400
    records = fake.fetch_attendance(meeting.meeting_id)
    assert len(records) == 400
    assert all(r.leave_time is not None for r in records)
    assert len(fake.pending_webhooks()) == 800


def test_a_link_only_opens_its_own_meeting() -> None:
    fake = FakeMeetingProvider()
    first = fake.create_session(weekly_spec())
    second = fake.create_session(weekly_spec())
    link = fake.join_link(first.meeting_id, ADA)
    with pytest.raises(NotFound, match="join link"):
        fake.join(second.meeting_id, at=second.occurrences[0].start_utc, link=link)
