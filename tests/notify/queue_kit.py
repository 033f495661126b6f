"""Courses, enrolments, reminders and an in-process notifier for the notification queue tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from blendkit.notify import (
    DeadlineApproaching,
    Delivered,
    Message,
    ReminderIntent,
    SendOutcome,
    SessionStarting,
)
from blendkit.store import Store
from blendkit.store._tables_courses import course_courses, course_enrolments

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, start: datetime = T0) -> None:
        self.now = start.timestamp()
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def make_course(store: Store, context_id: str = "bio-101", title: str = "Cell Biology") -> int:
    with store.transaction() as conn:
        return int(
            conn.execute(
                course_courses.insert()
                .values(
                    issuer="https://lms.example.edu", client_id="tool", deployment_id="d1",
                    context_id=context_id, activity_key=f"https://tool.example.edu/{context_id}",
                    title=title, path="{}", created_at=T0, updated_at=T0,
                )
                .returning(course_courses.c.id)
            ).scalar_one()
        )  # fmt: skip


def enrol(
    store: Store,
    course_id: int,
    sub: str,
    *,
    name: str = "Ada Lovelace",
    email: str | None = "ada@example.org",
    time_zone: str = "Europe/Paris",
) -> None:
    with store.transaction() as conn:
        conn.execute(
            course_enrolments.insert().values(
                course_id=course_id, sub=sub, name=name, email=email, time_zone=time_zone,
                enrolled_at=T0, groups="[]", roles="[]",
            )
        )  # fmt: skip


def session_intent(
    course_id: int,
    sub: str,
    *,
    session: str = "s1",
    start: datetime = T0 + timedelta(days=1),
    offset: str = "24h",
    due_at: datetime | None = None,
) -> ReminderIntent:
    before = {"24h": timedelta(hours=24), "15m": timedelta(minutes=15)}[offset]
    return ReminderIntent(
        course_id=course_id, recipient=sub, event=f"session:{session}",
        version=start.isoformat(), offset=offset, due_at=due_at or start - before,
        context=SessionStarting(
            recipient_name="Ada", course_title="Cell Biology", session_title="Mitosis live",
            starts=start, time_zone="UTC", join_url="https://meet.example.org/j/1",
        ),
    )  # fmt: skip


def deadline_intent(course_id: int, sub: str, due: datetime, item: str = "essay") -> ReminderIntent:
    return ReminderIntent(
        course_id=course_id, recipient=sub, event=f"deadline:{item}", version=due.isoformat(),
        offset="48h", due_at=due - timedelta(hours=48),
        context=DeadlineApproaching(
            recipient_name="Ada", course_title="Cell Biology", item_title="Essay",
            item_url="https://tool.example.edu/essay", due=due, time_zone="UTC",
        ),
    )  # fmt: skip


class RecordingNotifier:
    """Records every message; ``answer`` decides each outcome (default: delivered)."""

    name = "email"

    def __init__(self, answer: Callable[[Message], SendOutcome] | None = None) -> None:
        self.sent: list[Message] = []
        self.answer = answer or (lambda m: Delivered(detail="250 OK"))

    def send(self, message: Message) -> SendOutcome:
        outcome = self.answer(message)
        if isinstance(outcome, Delivered):
            self.sent.append(message)
        return outcome
