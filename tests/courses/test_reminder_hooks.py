"""Reminders from what a course stores, and the services' hooks: a moved sitting cancels its
old reminders, schedules the new ones and a moved notice; an unlock override is announced
once; an extension moves one learner's deadline reminders and nobody else's."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import timedelta

import pytest

from blendkit.courses import (
    Course,
    CourseService,
    LiveSessionService,
    ReminderLinks,
    ReminderPlanner,
    ReminderSettings,
)
from blendkit.errors import CourseInputInvalid
from blendkit.notify import (
    ItemUnlocked,
    RecordingReady,
    ReminderIntent,
    ReminderPlan,
    SessionMoved,
    SessionStarting,
)
from blendkit.notify._queue_rows import reminder_rows
from blendkit.progression import VideoWatched
from blendkit.sessions import FakeMeetingProvider, JoinLink, Learner, RecordingKind
from blendkit.store import Store
from blendkit.xapi import Outbox, StatementFactory
from tests.courses.test_course_service import NOW, START, Clock, _course

LINKS = ReminderLinks("https://tool.example")


@dataclass
class Sink:
    """The queue's side of the contract, in memory: keys stored once, cancel by event."""

    rows: dict[str, ReminderIntent] = field(default_factory=dict)
    cancelled: set[str] = field(default_factory=set)
    calls: list[tuple[int, str, str | None]] = field(default_factory=list)

    def schedule(self, intents: Iterable[ReminderIntent]) -> int:
        new = 0
        for intent in intents:
            if intent.key not in self.rows:
                self.rows[intent.key] = intent
                new += 1
        return new

    def cancel_event(self, course_id: int, event: str, *, keep_version: str | None = None) -> int:
        self.calls.append((course_id, event, keep_version))
        hit = {
            k
            for k, i in self.rows.items()
            if i.course_id == course_id and i.event == event and i.version != keep_version
        } - self.cancelled
        self.cancelled |= hit
        return len(hit)

    def pending(self, prefix: str = "") -> list[ReminderIntent]:
        return [
            i
            for k, i in self.rows.items()
            if k not in self.cancelled and i.event.startswith(prefix)
        ]


@pytest.fixture
def sink() -> Sink:
    return Sink()


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def service(store: Store, clock: Clock, sink: Sink) -> CourseService:
    return CourseService(
        store,
        outbox=Outbox(store),
        statements=StatementFactory("https://tool.example.edu"),
        clock=clock,
        notifications=sink,
        reminder_links=LINKS,
    )


def test_a_moved_sitting_cancels_its_reminders_schedules_new_ones_and_tells_learners(
    service: CourseService, sink: Sink, clock: Clock
) -> None:
    course = _course(service)
    live = LiveSessionService(service, FakeMeetingProvider(), notifications=sink)
    first = START - timedelta(days=2) + timedelta(hours=20)  # 44 h after NOW
    series = live.schedule_series(
        course, title="Seminar", start_utc=first, time_zone="Europe/Berlin",
        duration_minutes=60, count=3,
    )  # fmt: skip
    sitting = series.occurrences[0]
    planner = ReminderPlanner(service, live, LINKS)
    sink.schedule(planner(clock.now))
    old = [i for i in sink.pending("session:") if i.event == f"session:{sitting.id}"]
    assert {(i.recipient, i.offset) for i in old} == {
        ("ana", "24h"), ("ben", "24h"), ("ana", "15m"), ("ben", "15m"),
    }  # fmt: skip
    ana = next(i.context for i in old if i.recipient == "ana")
    assert isinstance(ana, SessionStarting)
    assert ana.time_zone == "Europe/Berlin"
    assert str(ana.join_url) == live.join_link(course, sitting.id, "ana")  # personal link

    later = first + timedelta(hours=3)
    live.move_occurrence(course, sitting.id, start_utc=later)

    assert (course.id, f"session:{sitting.id}", later.isoformat()) in sink.calls
    assert all(i.key in sink.cancelled for i in old)
    now_pending = [i for i in sink.pending() if i.event == f"session:{sitting.id}"]
    assert {i.version for i in now_pending} == {later.isoformat()}
    assert {(i.recipient, i.offset) for i in now_pending} == {
        ("ana", "24h"), ("ben", "24h"), ("ana", "15m"), ("ben", "15m"),
        ("ana", "moved"), ("ben", "moved"),
    }  # fmt: skip
    notice = next(i for i in now_pending if i.offset == "moved" and i.recipient == "ben")
    assert isinstance(notice.context, SessionMoved)
    assert notice.context.previous_start == first
    assert notice.context.starts == later
    assert notice.context.time_zone == "America/New_York"
    assert str(notice.context.join_url) == live.join_link(course, sitting.id, "ben")
    assert notice.due_at == clock.now
    # Planning again finds nothing new: the keys are stored.
    assert sink.schedule(planner(clock.now)) == 0


def test_a_rescheduled_one_off_session_moves_its_reminders(
    service: CourseService, sink: Sink, clock: Clock
) -> None:
    course = _course(service)
    live = LiveSessionService(service, FakeMeetingProvider(), notifications=sink)
    starts = NOW + timedelta(hours=30)
    record = live.schedule(
        course, title="Kick-off", start_utc=starts, time_zone="UTC", duration_minutes=45
    )
    sink.schedule(ReminderPlanner(service, live, LINKS)(clock.now))
    assert {i.offset for i in sink.pending(f"session:{record.id}")} == {"24h", "15m"}

    moved = live.reschedule(course, record.id, start_utc=starts + timedelta(days=1))
    assert moved.start_utc == starts + timedelta(days=1)
    left = sink.pending(f"session:{record.id}")
    assert {i.version for i in left} == {moved.start_utc.isoformat()}
    assert {i.offset for i in left} == {"24h", "moved"}  # 15 min before is beyond 48 h
    series = live.schedule_series(
        course, title="S", start_utc=starts, time_zone="UTC", duration_minutes=30, count=2
    )
    with pytest.raises(CourseInputInvalid, match="series"):
        live.reschedule(course, series.occurrences[0].id, start_utc=starts)


def test_an_unlock_override_announces_the_item_once(service: CourseService, sink: Sink) -> None:
    course = _course(service)
    service.add_override(course, "ana", "live-session", "unlock", by="t", reason="talked")
    service.add_override(course, "ana", "live-session", "unlock", by="t", reason="again")
    unlocks = sink.pending("unlock:")
    assert [(i.recipient, i.event, i.version) for i in unlocks] == [
        ("ana", "unlock:live-session", "open")
    ]
    assert isinstance(unlocks[0].context, ItemUnlocked)
    assert str(unlocks[0].context.item_url) == (
        f"https://tool.example/courses/{course.id}/items/live-session"
    )


def test_an_extension_moves_that_learners_deadline_reminders_only(
    service: CourseService, sink: Sink, clock: Clock
) -> None:
    course = _course(service)
    sink.schedule(ReminderPlanner(service, None, LINKS)(clock.now))
    base = sink.pending("deadline:readiness-quiz")
    assert {(i.recipient, i.offset) for i in base} == {("ana", "48h"), ("ben", "48h")}
    assert all(i.due_at == START - timedelta(hours=48) for i in base)

    service.add_override(course, "ana", "readiness-quiz", "extend", by="t", reason="ill",
                         until=START + timedelta(hours=10))  # fmt: skip
    left = sink.pending("deadline:readiness-quiz")
    assert {(i.recipient, i.version) for i in left} == {
        ("ben", START.isoformat()),
        ("ana", (START + timedelta(hours=10)).isoformat()),
    }
    (moved,) = [i for i in left if i.recipient == "ana"]
    assert moved.event == "deadline:readiness-quiz:ana"
    assert moved.due_at == START + timedelta(hours=10) - timedelta(hours=48)


def test_course_lead_times_and_learner_preferences_are_kept_per_course(
    service: CourseService, store: Store, clock: Clock
) -> None:
    course = _course(service)
    settings = ReminderSettings(store, clock=clock)
    assert [o.label for o in settings.offsets(course.id).deadline] == ["48h", "2h"]
    settings.set_offsets(course, deadline="72h, 1h", session="30m")
    assert [o.label for o in settings.offsets(course.id).deadline] == ["72h", "1h"]
    assert [o.label for o in settings.offsets(course.id).session] == ["30m"]
    with pytest.raises(CourseInputInvalid, match="lead time"):
        settings.set_offsets(course, deadline="soon", session="30m")

    chosen = settings.set_preferences(
        course, "ana", channel="webhook", quiet_start="22:00", quiet_end="7:00", digest=True,
        digest_hour=9, available=["email", "webhook"],
    )  # fmt: skip
    assert chosen.time_zone == "Europe/Berlin"
    assert (chosen.channel, chosen.digest, chosen.digest_hour) == ("webhook", True, 9)
    assert chosen.quiet is not None
    assert chosen.quiet.end.hour == 7
    with pytest.raises(CourseInputInvalid, match="not a channel"):
        settings.set_preferences(course, "ana", channel="fax", quiet_start=None, quiet_end=None,
                                 digest=False, available=["email"])  # fmt: skip
    first = settings.unsubscribe(course.id, "ana")
    clock.now += timedelta(days=1)
    assert settings.unsubscribe(course.id, "ana") == first
    assert settings.preferences(course.id, "ana").unsubscribed == {"*": first}
    assert settings.preferences(course.id, "ben").unsubscribed == {}
    assert settings.resubscribe(course, "ana") == 1
    assert settings.tenant_of(course.id) is not None
    assert settings.tenant_of(course.id + 1000) is None


def test_work_and_attendance_announce_what_they_open_and_misses_get_the_recording(
    service: CourseService, sink: Sink, clock: Clock
) -> None:
    course = _course(service)
    _open_live_session(service, course, "ana")
    assert {i.event for i in sink.pending("unlock:") if i.recipient == "ana"} == {
        "unlock:readiness-quiz", "unlock:live-session",
    }  # fmt: skip
    provider = FakeMeetingProvider()
    live = LiveSessionService(service, provider, notifications=sink)
    session = live.schedule(
        course, title="Week 1", start_utc=START, time_zone="Europe/Berlin",
        duration_minutes=60, item="live-session",
    )  # fmt: skip
    link = provider.join_link(session.provider_meeting_id, Learner(id="ana"))
    assert link.url == live.join_link(course, session.id, "ana")
    conn = provider.join(session.provider_meeting_id, at=START, link=link)
    provider.leave(session.provider_meeting_id, conn, at=START + timedelta(minutes=55))
    provider.add_recording(
        session.provider_meeting_id, RecordingKind.VIDEO, start=START, duration_seconds=3600
    )
    clock.now = START + timedelta(hours=2)
    live.import_attendance(course, session.id)  # announced after its transaction committed
    assert ("ana", "unlock:practice") in {(i.recipient, i.event) for i in sink.pending("unlock:")}

    live.import_recordings(course, session.id)
    sink.schedule(ReminderPlanner(service, live, LINKS)(clock.now))
    # Ana attended; Ben missed it but his live-session item is locked (no quiz passed yet):
    # he could not watch the recording, so it is not announced to him yet.
    assert sink.pending("recording:") == []
    _open_live_session(service, course, "ben")
    sink.schedule(ReminderPlanner(service, live, LINKS)(clock.now))
    ready = sink.pending("recording:")
    assert [(i.recipient, i.offset) for i in ready] == [("ben", "0")]
    assert isinstance(ready[0].context, RecordingReady)


def _open_live_session(service: CourseService, course: Course, sub: str) -> None:
    """The learner watches the pre-work video and passes the quiz: the live session opens."""
    service.record(course, sub, VideoWatched(item="prework-video", percent=100))
    service.submit_quiz(course, sub, "readiness-quiz", {"q1": "1", "q2": "0"})


class CountingProvider(FakeMeetingProvider):
    """The fake provider, counting whose join links it was asked to register."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[tuple[str, str]] = []

    def join_link(self, meeting_id: str, learner: Learner) -> JoinLink:
        self.asked.append((meeting_id, learner.id))
        return super().join_link(meeting_id, learner)


def test_a_sittings_reminders_carry_own_links_only_for_learners_who_may_join_it(
    service: CourseService, sink: Sink, clock: Clock
) -> None:
    course = _course(service)
    _open_live_session(service, course, "ana")
    provider = CountingProvider()
    live = LiveSessionService(service, provider)
    soon = live.schedule(
        course, title="Week 1", start_utc=clock.now + timedelta(hours=20),
        time_zone="Europe/Berlin", duration_minutes=60, item="live-session",
    )  # fmt: skip
    later = live.schedule(
        course, title="Week 3", start_utc=clock.now + timedelta(days=14),
        time_zone="Europe/Berlin", duration_minutes=60,
    )  # fmt: skip
    planner = ReminderPlanner(service, live, LINKS)
    sink.schedule(planner(clock.now))
    # Ben's live-session item is locked: no reminder of the sitting for him, and nobody's link
    # is registered for the sitting whose reminders are not due yet.
    pending = sink.pending("session:")
    assert {(i.recipient, i.event, i.offset) for i in pending} == {
        ("ana", f"session:{soon.id}", "24h"), ("ana", f"session:{soon.id}", "15m"),
    }  # fmt: skip
    assert provider.asked == [(soon.provider_meeting_id, "ana")]
    assert later.provider_meeting_id not in {meeting for meeting, _ in provider.asked}
    for intent in pending:
        assert isinstance(intent.context, SessionStarting)
        assert str(intent.context.join_url) == live.join_link(course, soon.id, "ana")
        assert intent.context.join_url != soon.join_url

    _open_live_session(service, course, "ben")
    assert sink.schedule(planner(clock.now)) == 2
    ben = [i for i in sink.pending("session:") if i.recipient == "ben"]
    assert {i.offset for i in ben} == {"24h", "15m"}
    assert all(
        str(getattr(i.context, "join_url", "")) == live.join_link(course, soon.id, "ben")
        for i in ben
    )


def test_a_deadline_everyone_shares_reminds_the_roll_as_one_listing_each_learner_would(
    service: CourseService, clock: Clock
) -> None:
    course = _course(service)
    planner = ReminderPlanner(service, None, LINKS)
    plan = planner.plan(course, clock.now)
    shared = [e for e in plan.events if e.recipients is None]
    assert {e.event for e in shared} == {
        f"deadline:{i.id}" for i in course.path.items() if i.due is not None
    }
    assert shared
    roll = tuple(plan.learners)
    listed = [replace(e, recipients=roll) if e.recipients is None else e for e in plan.events]
    term = timedelta(days=400)
    rows = reminder_rows(plan.due(clock.now, term), clock.now)
    assert {row["recipient"] for row in rows} == {"ana", "ben"}
    again = ReminderPlan(course.id, plan.learners.values(), listed).due(clock.now, term)
    assert rows == reminder_rows(again, clock.now)
