"""The rows the queue stores for planned reminders: built per run of an event's reminders, they
are byte for byte the rows built one reminder at a time from the per-learner loop's messages
(names with quotes and any Unicode, zones with 30/45-minute offsets, moments at DST changes,
personal join links), and the checks refuse the same reminder with the same error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy import select

from blendkit import NotificationInvalid
from blendkit.notify import (
    Addressee,
    DeadlineApproaching,
    NotificationQueue,
    Offset,
    PlannedEvent,
    RecordingReady,
    ReminderIntent,
    ReminderPlan,
    SessionStarting,
    due_per_learner,
)
from blendkit.notify._queue_rows import check_intent, reminder_row, reminder_rows
from blendkit.store import Store
from blendkit.store._tables_notify import notify_queue
from tests.notify.queue_kit import FakeClock, make_course

NOW = datetime(2027, 3, 13, 12, 0, tzinfo=UTC)
ZONES = (
    "UTC", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Adelaide", "Australia/Eucla",
    "America/St_Johns", "Pacific/Chatham", "Asia/Tehran", "America/New_York", "Europe/Paris",
    "Australia/Lord_Howe", "Pacific/Auckland",
)  # fmt: skip
# Instants next to DST changes after NOW: New York and Paris in spring 2027, Auckland, Adelaide
# and Lord Howe in April 2027 (half-hour change), St John's in spring.
CHANGES = (
    datetime(2027, 3, 14, 7, 0, tzinfo=UTC), datetime(2027, 3, 28, 1, 0, tzinfo=UTC),
    datetime(2027, 4, 3, 14, 0, tzinfo=UTC), datetime(2027, 4, 3, 16, 30, tzinfo=UTC),
    datetime(2027, 4, 3, 15, 0, tzinfo=UTC), datetime(2027, 3, 14, 5, 30, tzinfo=UTC),
)  # fmt: skip
MARKS = ("\x00recipient_name\x00", "\x00time_zone\x00", 'x"\x00recipient_name\x00', '"')
SUBS = (*(f"l{i}" for i in range(6)), "ü-ß", 'q"uote')

names = st.text(max_size=230) | st.sampled_from(["", 'Zoë "<b>\\', "😀 /", "\u2028\x7f", *MARKS])
titles = st.text(min_size=1, max_size=200) | st.sampled_from(MARKS)


@st.composite
def moments(draw: st.DrawFn) -> datetime:
    """An instant near a DST change or anywhere in the next days, shown in one of the zones."""
    near = draw(st.sampled_from(CHANGES)) + timedelta(minutes=draw(st.integers(-90, 90)))
    anywhere = NOW + timedelta(minutes=draw(st.integers(-60 * 24 * 3, 60 * 24 * 25)))
    moment = draw(st.sampled_from([near, anywhere]))
    return moment.astimezone(ZoneInfo(draw(st.sampled_from(ZONES))))


offsets = st.lists(
    st.sampled_from([Offset("48h", timedelta(hours=48)), Offset("24h", timedelta(hours=24)),
                     Offset("2h", timedelta(hours=2)), Offset("15m", timedelta(minutes=15)),
                     Offset("0", timedelta(0))]),
    min_size=1, max_size=3, unique=True,
).map(tuple)  # fmt: skip


@st.composite
def planned(draw: st.DrawFn, n: int) -> PlannedEvent:
    moment = draw(moments())
    kind, title = draw(st.integers(0, 2)), draw(titles)
    context: Any
    personal: dict[str, dict[str, str]] = {}
    if kind == 0:
        context = DeadlineApproaching(
            recipient_name="learner", course_title=title, item_title=draw(titles),
            item_url="https://tool.example/items/essay?a=1&b=é", due=moment, time_zone="UTC",
        )  # fmt: skip
    elif kind == 1:
        context = SessionStarting(
            recipient_name="learner", course_title=title, session_title=draw(titles),
            starts=moment, time_zone="UTC", join_url="https://meet.example/j/shared",
        )  # fmt: skip
        for sub in draw(st.lists(st.sampled_from(SUBS), unique=True, max_size=3)):
            personal[sub] = {"join_url": f"https://meet.example/j/{sub}?pwd=ü"}
    else:
        context = RecordingReady(
            recipient_name="learner", course_title=title, session_title=draw(titles),
            recording_url="https://meet.example/rec/1",
        )  # fmt: skip
    return PlannedEvent(
        event=f"e{n}", version=moment.isoformat(), moment=moment, offsets=draw(offsets),
        context=context, personal=personal,
        recipients=draw(st.none() | st.lists(st.sampled_from(SUBS), unique=True).map(tuple)),
        expires=draw(st.sampled_from([timedelta(0), timedelta(days=2)])),
        per_recipient=draw(st.booleans()),
    )  # fmt: skip


@st.composite
def courses(draw: st.DrawFn) -> tuple[list[Addressee], list[PlannedEvent]]:
    people = [
        Addressee(sub, draw(names), draw(st.sampled_from(ZONES)))
        for sub in draw(st.lists(st.sampled_from(SUBS), unique=True, min_size=1))
    ]
    return people, [draw(planned(n)) for n in range(draw(st.integers(1, 5)))]


def one_by_one(intents: list[ReminderIntent], now: datetime) -> list[dict[str, Any]]:
    """The straightforward rows: each reminder checked and built field by field."""
    rows = []
    for intent in intents:
        check_intent(intent)
        rows.append(reminder_row(intent, now))
    return rows


def by_key(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    keyed = {row["key"]: row for row in rows}
    assert len(keyed) == len(rows)
    return keyed


@settings(max_examples=200, deadline=None)
@given(
    course=courses(),
    now=st.integers(0, 24 * 20).map(lambda h: NOW + timedelta(hours=h)),
    horizon=st.sampled_from([timedelta(hours=2), timedelta(hours=48), timedelta(days=12)]),
)
def test_rows_built_per_run_are_the_rows_built_one_by_one(
    course: tuple[list[Addressee], list[PlannedEvent]], now: datetime, horizon: timedelta
) -> None:
    people, events = course
    planned_intents = ReminderPlan(4, people, events).due(now, horizon)
    fast = reminder_rows(planned_intents, now)
    reference = one_by_one(due_per_learner(4, people, events, now, horizon), now)
    assert by_key(fast) == by_key(reference)
    # The same reminders with their messages built: the same rows again.
    built = [i.with_context(i.context) for i in planned_intents]
    assert fast == one_by_one(built, now)
    for row, intent in zip(fast, built, strict=True):
        assert type(row["context"]) is str
        assert row["context"] == intent.context.model_dump_json()
        assert orjson.loads(row["context"])["recipient_name"] == intent.context.recipient_name


def test_a_message_that_cannot_be_cut_is_written_whole() -> None:
    starts = NOW + timedelta(hours=20)
    context = SessionStarting(
        recipient_name="learner", course_title="\x00recipient_name\x00",
        session_title="\x00time_zone\x00", starts=starts, time_zone="UTC",
        join_url="https://meet.example/j/1",
    )  # fmt: skip
    event = PlannedEvent(
        event="session:1", version="v1", moment=starts, offsets=(Offset("24h", timedelta(1)),),
        context=context,
    )  # fmt: skip
    ana = Addressee("ana", "\x00time_zone\x00", "Asia/Kathmandu")
    (row,) = reminder_rows(ReminderPlan(1, [ana], [event]).due(NOW, timedelta(hours=1)), NOW)
    assert (orjson.loads(row["context"])["recipient_name"], row["key"]) == (
        "\x00time_zone\x00",
        "1|ana|session:1|v1|24h",
    )
    assert (
        row["context"]
        == context.model_copy(
            update={"recipient_name": ana.name, "time_zone": ana.time_zone}
        ).model_dump_json()
    )


def _plan_for(people: list[Addressee], version: str = "v1") -> list[ReminderIntent]:
    due = NOW + timedelta(hours=1)
    event = PlannedEvent(
        event="deadline:quiz", version=version, moment=due,
        offsets=(Offset("2h", timedelta(hours=2)), Offset("0", timedelta(0))),
        context=DeadlineApproaching(
            recipient_name="x", course_title="C", item_title="Quiz",
            item_url="https://tool.example/items/quiz", due=due, time_zone="UTC",
        ),
        per_recipient=True,
    )  # fmt: skip
    return ReminderPlan(1, people, [event]).due(NOW, timedelta(hours=2))


@pytest.mark.parametrize(
    ("people", "version", "words"),
    [
        ([Addressee("ana", "Ana"), Addressee("b" * 256, "Ben")], "v1", "recipient must be"),
        ([Addressee("ana", "Ana"), Addressee("b" * 250, "Ben")], "v1", "event must be"),
        ([Addressee("ana", "Ana")], "v" * 256, "version must be"),
    ],
)
def test_a_reminder_the_queue_cannot_store_is_refused_as_one_by_one(
    people: list[Addressee], version: str, words: str
) -> None:
    intents = _plan_for(people, version)
    with pytest.raises(NotificationInvalid) as fast:
        reminder_rows(intents, NOW)
    with pytest.raises(NotificationInvalid) as slow:
        one_by_one(intents, NOW)
    assert words in fast.value.message
    assert (fast.value.code, fast.value.message) == (slow.value.code, slow.value.message)


def test_reminders_due_before_the_retention_window_get_no_row() -> None:
    intents = _plan_for([Addressee("ana", "Ana"), Addressee("ben", "Ben")])
    assert {r["offset"] for r in reminder_rows(intents, NOW)} == {"2h", "0"}
    kept = reminder_rows(intents, NOW, oldest=NOW)  # the 2 h reminder fell due an hour ago
    assert [(r["recipient"], r["offset"]) for r in kept] == [("ana", "0"), ("ben", "0")]
    assert kept == [r for r in one_by_one(intents, NOW) if r["offset"] == "0"]


def test_the_queue_stores_the_rows_of_the_plan_and_of_the_loop_alike(tmp_path: Path) -> None:
    people = [
        Addressee("ana", 'Ana "Zoë" Ñ', "Asia/Kathmandu"),
        Addressee("ben", "", "America/St_Johns"),
    ]
    starts = NOW + timedelta(hours=10)
    event = PlannedEvent(
        event="session:9", version=starts.isoformat(), moment=starts,
        offsets=(Offset("24h", timedelta(hours=24)), Offset("15m", timedelta(minutes=15))),
        context=SessionStarting(
            recipient_name="x", course_title="Biology", session_title="Week 1", starts=starts,
            time_zone="UTC", join_url="https://meet.example/j/1",
        ),
        personal={"ben": {"join_url": "https://meet.example/j/ben"}},
    )  # fmt: skip
    stored = []
    for name, intents in (
        ("plan", ReminderPlan(1, people, [event]).due(NOW, timedelta(hours=48))),
        ("loop", due_per_learner(1, people, [event], NOW, timedelta(hours=48))),
    ):
        store = Store(f"sqlite:///{tmp_path / name}.sqlite3")
        store.migrate()
        course = make_course(store)
        assert course == 1
        assert NotificationQueue(store, clock=FakeClock(NOW)).schedule(intents) == 4
        t = notify_queue.c
        with store.autocommit() as conn:
            query = select(t.key, t.template, t.context, t.due_at).order_by(t.key)
            stored.append([tuple(r) for r in conn.execute(query).all()])
    assert stored[0] == stored[1]
    ben = [context for key, _, context, _ in stored[0] if key.startswith("1|ben|")]
    assert len(ben) == 2
    assert all('"recipient_name":"ben"' in c and "/j/ben" in c for c in ben)


def _sitting(personal: dict[str, dict[str, Any]]) -> PlannedEvent:
    starts = NOW + timedelta(hours=10)
    return PlannedEvent(
        event="session:7", version="v", moment=starts, offsets=(Offset("0", timedelta(0)),),
        context=SessionStarting(
            recipient_name="x", course_title="Biology", session_title="Week 1", starts=starts,
            time_zone="UTC", join_url="https://meet.example/j/1",
        ),
        personal=personal,
    )  # fmt: skip


@pytest.mark.parametrize(
    "own",
    [
        {"join_url": "https://meet.example/j/ana?pwd=ü#x"},
        {"join_url": "https://MEET.example:443/j/ana"},
        {"join_url": "https://meet.example/j/ana", "recipient_name": 'Dr "Ana"'},
        {"time_zone": "Australia/Eucla", "join_url": "https://meet.example/j/ana"},
        {"session_title": "Week 1 (your group)"},
    ],
)
def test_a_learners_own_values_are_written_as_the_model_writes_them(own: dict[str, Any]) -> None:
    people = [Addressee("ana", "Ana", "Asia/Kathmandu"), Addressee("ben", "Ben", "UTC")]
    event = _sitting({"ana": own})
    fast = reminder_rows(ReminderPlan(1, people, [event]).due(NOW, timedelta(days=1)), NOW)
    loop = due_per_learner(1, people, [event], NOW, timedelta(days=1))
    assert fast == one_by_one(loop, NOW)
    assert fast[0]["context"] == loop[0].context.model_dump_json()


@pytest.mark.parametrize(
    "own",
    [
        {"join_url": "not a link"},
        {"join_url": "ftp://meet.example/j/ana"},
        {"time_zone": "Mars/Olympus"},
        {"recipient_name": "n" * 201},
        {"dial_in": "+1 555"},
    ],
)
def test_a_learners_own_value_the_model_refuses_is_refused_with_the_models_error(
    own: dict[str, Any],
) -> None:
    people = [Addressee("ana", "Ana", "Asia/Kathmandu")]
    event = _sitting({"ana": own})
    with pytest.raises(ValidationError) as fast:
        reminder_rows(ReminderPlan(1, people, [event]).due(NOW, timedelta(days=1)), NOW)
    with pytest.raises(ValidationError) as loop:
        due_per_learner(1, people, [event], NOW, timedelta(days=1))
    assert fast.value.errors(include_context=False) == loop.value.errors(include_context=False)
    assert fast.value.title == "SessionStarting"
