"""Reminders end to end without a queue: plan what falls due, move a sitting, apply a
learner's quiet hours. Run it: ``python docs/examples/reminders_quickstart.py``."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from blendkit import Store
from blendkit.courses import (
    CourseService,
    Enrolment,
    LiveSessionService,
    ReminderLinks,
    ReminderPlanner,
    ReminderSettings,
)
from blendkit.lti import Tenant
from blendkit.notify import (
    DeliveryDecision,
    Dispatch,
    PreferenceResolver,
    QueuedReminder,
    Recipient,
    ReminderIntent,
    render_message,
)
from blendkit.progression import flipped_classroom
from blendkit.sessions import FakeMeetingProvider
from blendkit.xapi import Outbox, StatementFactory


class MemorySink:
    """Stands in for the durable queue: each key stored once, cancellation by event."""

    def __init__(self) -> None:
        self.rows: dict[str, ReminderIntent] = {}
        self.cancelled: set[str] = set()

    def schedule(self, intents: Iterable[ReminderIntent]) -> int:
        new = [i for i in intents if i.key not in self.rows]
        self.rows.update((i.key, i) for i in new)
        return len(new)

    def cancel_event(self, course_id: int, event: str, *, keep_version: str | None = None) -> int:
        hit = {
            key
            for key, i in self.rows.items()
            if (i.course_id, i.event) == (course_id, event) and i.version != keep_version
        } - self.cancelled
        self.cancelled |= hit
        return len(hit)


class CourseChannel:
    """The queue's own resolver renders each row and sends it by e-mail."""

    def resolve(self, due: Sequence[QueuedReminder]) -> Sequence[DeliveryDecision]:
        return [
            Dispatch(
                (row.id,),
                "email",
                render_message(row.intent.context).to_message(
                    Recipient(address=f"{row.intent.recipient}@example.edu"), row.intent.key
                ),
            )
            for row in due
        ]


now = datetime(2027, 3, 8, 12, 0, tzinfo=UTC)
folder = Path(tempfile.mkdtemp())
store = Store(f"sqlite:///{folder / 'reminders.sqlite3'}")
store.migrate()
sink = MemorySink()
links = ReminderLinks("https://tool.example.edu")
courses = CourseService(
    store,
    outbox=Outbox(store),
    statements=StatementFactory("https://tool.example.edu"),
    clock=lambda: now,
    notifications=sink,  # None (the default): nothing is announced
    reminder_links=links,
)
school = Tenant(issuer="https://moodle.example.edu", client_id="tool-1", deployment_id="1")
course = courses.ensure_course(
    school, "bio-101", title="Biology 101", path=flipped_classroom(now + timedelta(days=2))
)
for sub, zone in (("ana", "Asia/Tokyo"), ("ben", "America/New_York")):
    courses.enrol(course, Enrolment(sub=sub, name=sub.title(), time_zone=zone))
live = LiveSessionService(courses, FakeMeetingProvider(), notifications=sink)
series = live.schedule_series(
    course, title="Weekly seminar", start_utc=now + timedelta(hours=30),
    time_zone="Europe/Berlin", duration_minutes=60, count=4,
)  # fmt: skip

# 1. What falls due in the next 48 hours: the planner hook of `blendkit notify run`.
planner = ReminderPlanner(courses, live, links)
print("new reminders:", sink.schedule(planner(now)))
for intent in sorted(sink.rows.values(), key=lambda i: (i.due_at, i.recipient)):
    print(f"  {intent.due_at:%a %H:%M} UTC  {intent.recipient}  {intent.event}  {intent.offset}")

# 2. The first sitting moves: its reminders follow, and each learner is told.
first = series.occurrences[0]
live.move_occurrence(course, first.id, start_utc=first.start_utc + timedelta(hours=2))
print("cancelled:", len(sink.cancelled), "moved notices:",
      sum(i.offset == "moved" for i in sink.rows.values()))  # fmt: skip

# 3. Ana keeps quiet hours from 22:00 to 07:00 in Tokyo: a reminder due at night waits.
settings = ReminderSettings(store)
settings.set_preferences(course, "ana", channel=None, quiet_start="22:00", quiet_end="07:00",
                         digest=False, available=["email"])  # fmt: skip
resolver = PreferenceResolver(CourseChannel(), settings, available=["email"],
                              clock=lambda: datetime(2027, 3, 8, 14, 0, tzinfo=UTC))  # fmt: skip
moved = next(i for i in sink.rows.values() if i.recipient == "ana" and i.offset == "moved")
(decision,) = resolver.resolve([QueuedReminder(id=1, intent=moved, attempts=0)])
print(type(decision).__name__, getattr(decision, "until", None), getattr(decision, "reason", ""))
store.dispose()
