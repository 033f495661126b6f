"""Durable participant records and the webhook event ledger, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

from blendkit.sessions import (
    AttendanceReport,
    EventLedger,
    FakeMeetingProvider,
    Learner,
    Occurrence,
    ParticipantRecord,
    SessionRecords,
    SessionSpec,
    build_attendance_report,
    handle_webhook_once,
    import_attendance,
)
from blendkit.store import Store

T0 = datetime(2026, 3, 17, 16, 0, tzinfo=UTC)


def record(minutes: int, **ids: str) -> ParticipantRecord:
    return ParticipantRecord(
        join_time=T0 + timedelta(minutes=minutes),
        leave_time=T0 + timedelta(minutes=minutes + 10),
        **ids,
    )


def test_records_are_stored_once_and_read_back_equal(store: Store) -> None:
    records = SessionRecords(store)
    batch = [
        record(0, email="ada@example.org", occurrence_id="o1", connection_id="laptop"),
        record(5, registrant_id="r-bob", display_name="Bob", occurrence_id="o1"),
        record(30, provider_user_id="u-cy", occurrence_id="o2"),
        ParticipantRecord(join_time=T0, display_name="still in", occurrence_id="o1"),
    ]
    assert records.add_participants("zoom", "m1", batch) == 4
    # The same page again, plus one new record: only the new one is stored.
    assert records.add_participants("zoom", "m1", [*batch, record(40, occurrence_id="o1")]) == 1
    assert records.add_participants("zoom", "m1", []) == 0
    stored = records.participants("zoom", "m1")
    assert len(stored) == 5
    assert set(batch) <= set(stored)
    assert all(r.join_time.tzinfo is not None for r in stored)
    assert [r.occurrence_id for r in records.participants("zoom", "m1", "o2")] == ["o2"]
    assert records.participants("teams", "m1") == []


def test_stored_records_rebuild_the_same_report(store: Store) -> None:
    records = SessionRecords(store)
    batch = [record(n, email=f"l{n % 3}@example.org") for n in range(0, 60, 7)]
    records.add_participants("fake", "m", batch)
    roster = [Learner(id=f"l{i}", email=f"l{i}@example.org") for i in range(3)]
    occurrence = Occurrence(index=0, start_utc=T0, end_utc=T0 + timedelta(minutes=60))
    direct = build_attendance_report(batch, roster, occurrence, meeting_id="m")
    stored = build_attendance_report(
        records.participants("fake", "m"), roster, occurrence, meeting_id="m"
    )
    assert stored == direct


def test_event_ledger_accepts_each_event_once_even_concurrently(store: Store) -> None:
    records = SessionRecords(store)
    assert isinstance(records, EventLedger)
    assert records.first_time("zoom", "evt-1") is True
    assert records.first_time("zoom", "evt-1") is False
    assert records.first_time("teams", "evt-1") is True  # ids are per provider
    wins: list[bool] = []
    lock = threading.Lock()

    def deliver() -> None:
        outcome = SessionRecords(store).first_time("zoom", "evt-race")
        with lock:
            wins.append(outcome)

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(wins) == [False] * 5 + [True]


def test_ledger_drops_redelivered_webhooks_and_prunes(store: Store) -> None:
    now = [datetime(2026, 3, 1, tzinfo=UTC)]
    records = SessionRecords(store, clock=lambda: now[0])
    fake = FakeMeetingProvider()
    meeting = fake.create_session(
        SessionSpec(title="s", start_utc=T0, time_zone="UTC", duration_minutes=30)
    )
    fake.start(meeting.meeting_id, at=T0)
    (request,) = fake.pending_webhooks()
    assert len(handle_webhook_once(fake, request, records).events) == 1
    assert handle_webhook_once(fake, request, records).events == ()
    now[0] = datetime(2026, 3, 20, tzinfo=UTC)
    records.first_time("fake", "later")
    cutoff = datetime(2026, 3, 10, 1, 0, tzinfo=timezone(timedelta(hours=1)))
    assert records.forget_events_before(cutoff) == 1
    assert records.first_time("fake", "later") is False
    assert len(handle_webhook_once(fake, request, records).events) == 1  # forgotten: new again


class ForgetfulProvider(FakeMeetingProvider):
    """Reports only intervals that began after ``since`` (like a provider's short retention)."""

    since = T0

    def fetch_attendance(
        self, meeting_id: str, occurrence_id: str | None = None
    ) -> list[ParticipantRecord]:
        return [
            r
            for r in super().fetch_attendance(meeting_id, occurrence_id)
            if r.join_time >= self.since
        ]


def test_import_attendance_stores_and_keeps_earlier_intervals(store: Store) -> None:
    provider = ForgetfulProvider()
    meeting = provider.create_session(
        SessionSpec(title="s", start_utc=T0, time_zone="UTC", duration_minutes=60)
    )
    occurrence = meeting.occurrences[0]
    ada = Learner(id="ada", email="ada@example.org")
    link = provider.join_link(meeting.meeting_id, ada)
    laptop = provider.join(meeting.meeting_id, at=T0, link=link)
    provider.leave(meeting.meeting_id, laptop, at=T0 + timedelta(minutes=20))
    records = SessionRecords(store)

    def run(kept: SessionRecords | None) -> AttendanceReport:
        return import_attendance(
            provider,
            meeting.meeting_id,
            occurrence,
            [ada],
            join_links=[link],
            records=kept,
        )

    assert run(records).attendance[0].minutes_present == 20
    # Later the learner rejoins, and the provider no longer reports the first interval.
    phone = provider.join(meeting.meeting_id, at=T0 + timedelta(minutes=30), link=link)
    provider.leave(meeting.meeting_id, phone, at=T0 + timedelta(minutes=40))
    provider.since = T0 + timedelta(minutes=25)
    assert run(None).attendance[0].minutes_present == 10  # the provider alone forgets
    stored = run(records)
    assert stored.attendance[0].minutes_present == 30  # the stored interval still counts
    assert run(records) == stored  # importing again counts nothing twice
    assert len(records.participants("fake", meeting.meeting_id)) == 2
