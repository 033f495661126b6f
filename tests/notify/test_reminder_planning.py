"""Reminder planning: the indexed plan answers exactly what the per-learner loop answers, with
each learner's own name, zone and personal fields, and lead times parse strictly."""

from __future__ import annotations

import copy
import pickle
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blendkit.notify import (
    Addressee,
    DeadlineApproaching,
    Offset,
    PlannedEvent,
    RecordingReady,
    ReminderPlan,
    SessionStarting,
    due_per_learner,
    parse_offsets,
)

T0 = datetime(2027, 3, 1, tzinfo=UTC)
ZONES = ("Europe/Paris", "Asia/Tokyo", "America/New_York", "Asia/Kathmandu", "UTC")
SUBS = tuple(f"l{i}" for i in range(8))


def _context(kind: int, moment: datetime) -> object:
    if kind == 0:
        return DeadlineApproaching(
            recipient_name="x", course_title="C", item_title="Essay",
            item_url="https://tool.example/items/essay", due=moment, time_zone="UTC",
        )  # fmt: skip
    if kind == 1:
        return SessionStarting(
            recipient_name="x", course_title="C", session_title="Week 1", starts=moment,
            time_zone="UTC", join_url="https://meet.example/j/shared",
        )  # fmt: skip
    return RecordingReady(
        recipient_name="x", course_title="C", session_title="Week 1",
        recording_url="https://meet.example/rec/1",
    )  # fmt: skip


hours = st.integers(min_value=0, max_value=24 * 20)
offsets = st.lists(
    st.sampled_from([Offset("48h", timedelta(hours=48)), Offset("2h", timedelta(hours=2)),
                     Offset("15m", timedelta(minutes=15)), Offset("0", timedelta(0))]),
    min_size=1, max_size=3, unique=True,
).map(tuple)  # fmt: skip


@st.composite
def planned(draw: st.DrawFn, n: int) -> PlannedEvent:
    moment = T0 + timedelta(hours=draw(hours), minutes=draw(st.sampled_from([0, 15, 30])))
    kind = draw(st.integers(0, 2))
    audience = draw(st.none() | st.lists(st.sampled_from(SUBS), unique=True).map(tuple))
    personal = {}
    if kind == 1:
        for sub in draw(st.lists(st.sampled_from(SUBS), unique=True)):
            personal[sub] = {"join_url": f"https://meet.example/j/{sub}"}
    return PlannedEvent(
        event=f"e{n}", version=moment.isoformat(), moment=moment, offsets=draw(offsets),
        context=_context(kind, moment),  # type: ignore[arg-type]
        recipients=audience, personal=personal,
        expires=draw(st.sampled_from([timedelta(0), timedelta(days=3)])),
        per_recipient=draw(st.booleans()),
    )  # fmt: skip


@st.composite
def courses(draw: st.DrawFn) -> tuple[list[Addressee], list[PlannedEvent]]:
    people = [
        Addressee(sub, draw(st.sampled_from(["", "Ana", "Zoë <b>"])), draw(st.sampled_from(ZONES)))
        for sub in draw(st.lists(st.sampled_from(SUBS), unique=True, max_size=6))
    ]
    events = [draw(planned(n)) for n in range(draw(st.integers(0, 6)))]
    return people, events


@settings(max_examples=150, deadline=None)
@given(
    course=courses(),
    now=hours.map(lambda h: T0 + timedelta(hours=h)),
    horizon=st.sampled_from([timedelta(hours=1), timedelta(hours=48), timedelta(days=10)]),
    skipped=st.lists(st.sampled_from(SUBS), unique=True),
)
def test_the_plan_gives_the_same_intents_as_the_per_learner_loop(
    course: tuple[list[Addressee], list[PlannedEvent]],
    now: datetime,
    horizon: timedelta,
    skipped: list[str],
) -> None:
    people, events = course
    skip = lambda event: set(skipped) if event.event.endswith(("0", "2")) else ()  # noqa: E731
    ours = ReminderPlan(7, people, events).due(now, horizon, skip=skip)
    reference = due_per_learner(7, people, events, now, horizon, skip=skip)
    assert len(ours) == len({i.key for i in ours})
    assert {i.key: (i.due_at, i.context) for i in ours} == {
        i.key: (i.due_at, i.context) for i in reference
    }
    for intent in ours:
        assert intent.due_at < now + horizon
        person = next(p for p in people if p.sub == intent.recipient)
        assert intent.context.recipient_name == (person.name or person.sub)
        # The copies behave as validated models: they serialise and validate back unchanged.
        dumped = intent.context.model_dump(mode="json")
        assert type(intent.context).model_validate(dumped) == intent.context
        # What the queue stores, written without building the message, says the same.
        assert orjson.loads(intent.context_json()) == dumped
        assert intent.template == intent.context.template
        assert pickle.loads(pickle.dumps(intent)) == intent == copy.copy(intent)


def test_each_learner_gets_their_zone_and_link_and_a_moved_event_new_keys() -> None:
    starts = T0 + timedelta(days=1)
    people = [Addressee("ana", "Ana", "Asia/Tokyo"), Addressee("ben", "", "America/New_York")]
    event = PlannedEvent(
        event="session:s1", version=starts.isoformat(), moment=starts,
        offsets=parse_offsets("24h,15m"), context=_context(1, starts),  # type: ignore[arg-type]
        personal={"ana": {"join_url": "https://meet.example/j/ana"}},
    )  # fmt: skip
    due = ReminderPlan(3, people, [event]).due(T0, timedelta(hours=48))
    by = {(i.recipient, i.offset): i for i in due}
    assert set(by) == {("ana", "24h"), ("ana", "15m"), ("ben", "24h"), ("ben", "15m")}
    ana = by["ana", "15m"].context
    assert isinstance(ana, SessionStarting)
    assert (ana.time_zone, str(ana.join_url)) == ("Asia/Tokyo", "https://meet.example/j/ana")
    assert by["ben", "24h"].context.recipient_name == "ben"
    assert by["ana", "24h"].due_at == starts - timedelta(hours=24)
    assert by["ana", "24h"].key == f"3|ana|session:s1|{starts.isoformat()}|24h"

    later = starts + timedelta(hours=3)
    moved = PlannedEvent(
        event="session:s1", version=later.isoformat(), moment=later, offsets=event.offsets,
        context=_context(1, later),  # type: ignore[arg-type]
    )  # fmt: skip
    again = ReminderPlan(3, people, [moved]).due(T0, timedelta(hours=48))
    assert not {i.key for i in again} & {i.key for i in due}


def test_reminders_of_an_event_that_began_are_not_planned() -> None:
    starts = T0 + timedelta(hours=1)
    event = PlannedEvent(
        event="session:s1", version="v", moment=starts, offsets=parse_offsets("24h,15m"),
        context=_context(1, starts),  # type: ignore[arg-type]
    )  # fmt: skip
    plan = ReminderPlan(1, [Addressee("ana", "Ana")], [event])
    assert {i.offset for i in plan.due(T0, timedelta(hours=1))} == {"24h", "15m"}
    assert plan.due(starts, timedelta(hours=48)) == []


@pytest.mark.parametrize(
    ("text", "labels"),
    [("48h,2h", ["48h", "2h"]), ("2h, 48h", ["48h", "2h"]), ("1d,15m", ["24h", "15m"]),
     ("90m,90m", ["90m"]), ("", [])],
)  # fmt: skip
def test_lead_times_parse_longest_first(text: str, labels: list[str]) -> None:
    assert [o.label for o in parse_offsets(text)] == labels


@pytest.mark.parametrize("text", ["48", "2x", "-2h", "h", "0h", "1.5h", "100d"])
def test_lead_times_that_are_not_are_refused_with_the_part(text: str) -> None:
    with pytest.raises(ValueError, match=r"lead time|days ahead"):
        parse_offsets(f"2h,{text}")
