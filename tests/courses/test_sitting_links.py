"""A sitting's reminders carry each learner's own join link through ``PlannedEvent.personal``:
the rows stored are byte for byte those of copying each planned reminder's message with the
learner's link (names and zones of any kind, links the URL type rewrites, learners whose link is
refused get no reminder), and links are asked for the due sittings' recipients alone, once each."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import AnyHttpUrl

from blendkit import CoursesError
from blendkit.courses._reminders import sitting_links
from blendkit.notify import ReminderIntent, ReminderPlan, SessionStarting
from blendkit.notify._contexts import RecordingReady
from blendkit.notify._planning import Addressee, Offset, PlannedEvent
from blendkit.notify._queue_rows import reminder_rows
from tests.notify import test_reminder_rows as kit

URLS = (
    "https://meet.example/j/{sub}?pwd=ü",
    "HTTPS://Meet.Example",
    "https://meet.example:443/j/{sub}/a b",
    "https://zoom.example/j/1?tk={sub}&role=0#frag",
    'https://teams.example/l/"{sub}"',
)

Answers = dict[tuple[str, str], str | None]
"""Each (sitting, learner)'s join link; None: refused (the item is locked for them)."""


def answering(answers: Answers, asked: list[tuple[str, str]]) -> Any:
    def join_link(session_id: str, sub: str) -> str:
        asked.append((session_id, sub))
        url = answers.get((session_id, sub))
        if url is None:
            raise CoursesError("the item is locked for this learner", code="courses.item_locked")
        return url

    return join_link


def copied_one_by_one(intents: list[ReminderIntent], answers: Answers) -> list[ReminderIntent]:
    """Each planned sitting reminder's message copied with the learner's link, or dropped (the
    sitting is the event, also when its reminders are named per learner)."""
    out = []
    for intent in intents:
        context = intent.context
        if isinstance(context, SessionStarting):
            sitting = intent.event.removesuffix(f":{intent.recipient}")
            url = answers.get((sitting, intent.recipient))
            if url is None:
                continue
            own = context.model_copy(update={"join_url": AnyHttpUrl(url)})
            out.append(intent.with_context(own))
        else:
            out.append(intent)
    return out


@st.composite
def answers_for(draw: st.DrawFn, events: list[PlannedEvent]) -> Answers:
    answers: Answers = {}
    for event in events:
        for sub in kit.SUBS:
            shape = draw(st.sampled_from((None, *URLS)))
            answers[(event.event, sub)] = None if shape is None else shape.format(sub=sub)
    return answers


@settings(max_examples=150, deadline=None)
@given(
    course=kit.courses(),
    now=st.integers(0, 24 * 20).map(lambda h: kit.NOW + timedelta(hours=h)),
    horizon=st.sampled_from([timedelta(hours=2), timedelta(hours=48), timedelta(days=12)]),
    data=st.data(),
)
def test_sitting_rows_with_own_links_are_the_rows_of_copying_each_message(
    course: tuple[list[Addressee], list[PlannedEvent]],
    now: datetime,
    horizon: timedelta,
    data: st.DataObject,
) -> None:
    people, events = course
    answers = data.draw(answers_for(events))
    plan = ReminderPlan(4, people, events)
    asked: list[tuple[str, str]] = []
    linked = plan.due(now, horizon, personal=sitting_links(answering(answers, asked)))
    planned = plan.due(now, horizon)
    reference = copied_one_by_one(planned, answers)
    assert reminder_rows(linked, now) == reminder_rows(reference, now)
    # Asked once per due sitting and recipient, whatever the number of its due offsets.
    due_sittings = {
        (i.event.removesuffix(f":{i.recipient}"), i.recipient)
        for i in planned
        if isinstance(i.context, SessionStarting)
    }
    assert sorted(asked) == sorted(due_sittings)


def _sitting(context: Any) -> PlannedEvent:
    return PlannedEvent(
        event="session:s1", version=kit.NOW.isoformat(), moment=kit.NOW,
        offsets=(Offset("0", timedelta(0)),), context=context,
    )  # fmt: skip


def test_only_sittings_ask_for_links_and_a_crash_is_not_taken_for_a_refusal() -> None:
    def broken(session_id: str, sub: str) -> str:
        raise RuntimeError(f"provider crashed on {session_id} for {sub}")

    hook = sitting_links(broken)
    recording = RecordingReady(
        recipient_name="learner", course_title="C", session_title="S",
        recording_url="https://meet.example/rec/1",
    )  # fmt: skip
    assert hook(_sitting(recording), ["l0"]) is None
    starting = SessionStarting(
        recipient_name="learner", course_title="C", session_title="S", starts=kit.NOW,
        time_zone="UTC", join_url="https://meet.example/j/shared",
    )  # fmt: skip
    with pytest.raises(RuntimeError, match="on s1 for l0"):
        hook(_sitting(starting), ["l0"])
    refused = sitting_links(answering({("s1", "l1"): "https://meet.example/j/l1"}, []))
    assert refused(_sitting(starting), ["l0", "l1"]) == {
        "l1": {"join_url": "https://meet.example/j/l1"}
    }
