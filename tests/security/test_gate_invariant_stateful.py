"""The gate invariant, checked after every request of random learner sessions.

A hypothesis state machine drives the example tool's Flask test client as a learner through
random sequences of *every* learner route (discovered from the app's ``url_map``: a learner route
without a rule here fails the test), with valid and invalid item ids, other sessions' ids,
sessions of another course, locked and unlocked items, and now and then an instructor override.
After each step it checks against the store, not against what the pages say:

1. no item went from locked to completed (an item is never completed while it is locked),
2. no evidence about an item was stored while that item was locked (learner work on a locked
   item is refused, whatever route carried it),
3. no personal join link was handed out for a session whose item was locked, and no
   office-hours slot was booked for an item that was locked,
4. no learner request crashed (status < 500),
5. a form sent again with an idempotency key it already carried stored no evidence (the first
   outcome is replayed, or other content under the key is refused),
6. peer review (``review_rules.py``): feedback is never shown before the learner's reviews
   count, and a submission's file or review form answers only its author or its reviewers.

An instructor override of an item is the one exception the invariant allows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import redirect
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import insert, select

from blendkit.courses import Course, CourseService
from blendkit.courses._segments import MAX_PLAYBACK_RATE, PLAY_SLACK_SECONDS
from blendkit.progression import (
    CompletionCondition,
    CompletionRecorded,
    Item,
    Module,
    Path,
    WatchedCondition,
    flipped_classroom,
)
from blendkit.sessions import RecordingKind
from blendkit.store._tables_booking import course_booking_slots, course_bookings
from blendkit.store._tables_courses import (
    course_courses,
    course_enrolments,
    course_evidence,
    course_join_links,
    course_recordings,
    course_sessions,
)
from blendkit.store._tables_polls import poll_questions
from blendkit.store._tables_recordings import recording_views
from tests.app import conftest as app
from tests.app.conftest import INSTRUCTOR, Tool
from tests.security.review_rules import REVIEW_RULES, review_rules, seed_workshop, with_workshop

tool = app.tool  # the example tool launched on a real SQLite store (a fixture)

START = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
ANSWERS = {
    "pass": {"answer-q1": "1", "answer-q2": "1", "answer-q3": "0"},
    "fail": {"answer-q1": "0", "answer-q2": "0", "answer-q3": "1"},
    "incomplete": {"answer-q1": "1"},
    "nonsense": {"answer-q1": "x", "answer-q2": "9", "answer-q3": "-1"},
}
# The learner's work on one item (the test's own list: an oracle independent of the core's).
WORK_KINDS = {
    "score", "completion", "attendance", "recording", "video", "view", "peer_review", "poll",
    "question",
}  # fmt: skip
# Idempotency keys a form may carry: none, a fresh one, or one this learner already sent.
KEYS = st.sampled_from(["none", "fresh", "replay"])
ZONES = ("Europe/Berlin", "Asia/Tokyo", "UTC", "Mars/Olympus", "", "../../etc/passwd")
# Every learner endpoint and the rule that drives it; a new learner route must join this map.
RULES = {
    "learner.course": "course_page",
    "learner.timezone": "time_zone",
    "learner.session_hours": "session_hours",
    "learner.timezone_detected": "detected_time_zone",
    "learner.item": "item_page",
    "learner.submit_quiz": "submit_quiz",
    "learner.video_progress": "video_progress",
    "learner.mark_done": "mark_done",
    "learner.join": "join",
    "learner.notifications": "notifications_page",
    "learner.save_notifications": "save_notifications",
    "learner.live": "live_page",
    "learner.live_state": "live_state",
    "learner.answer_poll": "answer_poll",
    "learner.ask_question": "ask_question",
    "learner.upvote_question": "upvote_question",
    "learner.recordings.player": "recording_player",
    "learner.recordings.segments": "recording_segments",
    "learner.recordings.captions": "recording_captions",
    "learner.book_slot": "book_slot",
    "learner.cancel_slot": "cancel_slot",
    "learner.upcoming": "upcoming_page",
    "learner.calendar_link": "calendar_feed",
    "learner.calendar_stop": "calendar_stop",
    "learner.course_calendar_link": "course_calendar_as_learner",
    "learner.course_calendar_stop": "course_calendar_as_learner",
    "learner.links.course": "reminder_link",
    "learner.links.item": "reminder_link",
    **REVIEW_RULES,  # peer review: tests/security/review_rules.py
    "path.advice": "advice_page",  # instructor-only: refused to the learner
}
# What a player may post as played segments: plausible, too much too soon, impossible, garbage.
SEGMENTS = ["[[0, 3]]", "[[1, 4.5]]", "[[0, 3600]]", "[[0, 2], [3595, 3600]]", "[[-1, 5]]",
            "[[5, 1]]", "[[0, NaN]]", "[[0, 1e308]]", "[]", "not json", "[[0, 1, 2]]"]  # fmt: skip
# Fixed seed, no example database: CI runs the same sequences every time.
RUN = settings(
    max_examples=60,
    stateful_step_count=25,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def course_path(start: datetime) -> Path:
    """The tool's default path plus a gated video and a reading after the live session."""
    base = flipped_classroom(start)
    after = Module(
        id="after-class",
        items=(
            Item(id="review-video", title="Review", kind="video",
                 conditions=CompletionCondition(item="live-session"),
                 complete_when=WatchedCondition(item="review-video", percent=80)),
            Item(id="reflection", title="Reflection", kind="reading",
                 conditions=CompletionCondition(item="review-video")),
            Item(id="clinic", title="Clinic", kind="office_hours"),
            Item(id="gated-clinic", title="Gated clinic", kind="office_hours",
                 conditions=CompletionCondition(item="live-session")),
        ),
    )  # fmt: skip
    return with_workshop(base.model_copy(update={"modules": (*base.modules, after)}))


@dataclass
class World:
    """What every example shares: the tool, its course, sessions and the ids to try."""

    tool: Tool
    courses: CourseService
    course: Course
    items: list[str]
    sessions: list[str]
    polls: list[str]
    questions: list[str]
    recordings: list[int]
    slots: list[str]
    other_course: int
    """Another course of the same deployment (reminder links must not open it)."""


def build_world(tool: Tool) -> World:
    from blendkit_examples.flask_app.app import services

    teacher = tool.launch("teach", roles=(INSTRUCTOR,))
    tool.get("/course", teacher)
    with tool.app.app_context():
        svc = services()
    with tool.store.transaction() as s:
        course_id = s.execute(select(course_courses.c.id)).scalar_one()
    course = svc.courses.set_path(svc.courses.course_by_id(course_id), course_path(START))
    seed_workshop(tool, svc, course)

    def schedule(launch_id: str, item: str | None, *, recording: bool) -> str:
        data = {"title": "Session", "date": START.date().isoformat(), "time": "16:00",
                "time_zone": "UTC", "duration": "60"}  # fmt: skip
        if item:
            data["item"] = item
        made = tool.post("/teach/sessions", launch_id, data)
        assert made.status_code == 302, made.get_data(as_text=True)
        session_id = made.headers["Location"].split("/teach/sessions/", 1)[1].split("?", 1)[0]
        if recording:
            with tool.store.transaction() as s:
                row = s.execute(
                    select(course_sessions).where(course_sessions.c.id == session_id)
                ).one()
            start = row.start_utc.replace(tzinfo=row.start_utc.tzinfo or UTC)
            tool.provider.add_recording(
                row.provider_meeting_id, RecordingKind.VIDEO, start=start,
                duration_seconds=3600,
            )  # fmt: skip
            assert tool.post(f"/teach/sessions/{session_id}/import", launch_id).status_code < 400
        return session_id

    sessions = [
        schedule(teacher, "live-session", recording=True),
        schedule(teacher, "live-session", recording=False),
        schedule(teacher, None, recording=True),
    ]
    other = tool.launch("teach", roles=(INSTRUCTOR,), context="chem-202")
    tool.get("/course", other)
    sessions.append(schedule(other, "live-session", recording=True))  # another course's
    items = [i.id for i in course.path.items()]
    polls, questions = [], []
    for n, session_id in enumerate(sessions[:3]):  # an open poll and a question in each
        poll = svc.polls.create(
            course, session_id, kind="single", question="Q?", options=["a", "b"]
        )
        polls.append(svc.polls.set_state(course, poll.id, "open").id)
        with tool.store.transaction() as s:
            s.execute(
                insert(poll_questions).values(
                    id=f"question-{n}", course_id=course.id, session_id=session_id, sub="teach",
                    text="Why?", anonymous=False, hidden=False, pinned=False, upvotes=0,
                    asked_at=START,
                )
            )  # fmt: skip
        questions.append(f"question-{n}")
    with tool.store.transaction() as s:
        recordings = list(s.execute(select(course_recordings.c.id)).scalars())
    for rid in recordings:  # every recording playable in the tool (another course's included)
        with tool.store.transaction() as s:
            session_id = s.execute(
                select(course_recordings.c.session_id).where(course_recordings.c.id == rid)
            ).scalar_one()
        owner = svc.courses.course_by_id(_course_of_session(tool, session_id))
        svc.recordings.set_media(owner, rid, "/media/recording.mp4", duration_seconds=3600)
        svc.recordings.import_captions(
            owner, session_id, "WEBVTT\n\n00:00:00.000 --> 00:00:04.000\nHello.\n"
        )
    slots = [
        slot.id
        for item in ("clinic", "gated-clinic")
        for slot in svc.office_hours.publish(
            course, item, start_utc=START, duration_minutes=15, count=2, capacity=2,
            host_name=f"Host of {item}", time_zone="UTC", location="Room 1",
        )
    ]  # fmt: skip
    svc.office_hours.set_rules(course, "clinic", max_per_learner=2, cancel_cutoff_minutes=0)
    return World(
        tool, svc.courses, course, items, [*sessions, "nope", "../x"],
        [*polls, "nope"], [*questions, "nope"], [*recordings, 999], [*slots, "nope"],
        _course_of_session(tool, sessions[3]),
    )  # fmt: skip


def _course_of_session(tool: Tool, session_id: str) -> int:
    with tool.store.transaction() as s:
        return int(
            s.execute(
                select(course_sessions.c.course_id).where(course_sessions.c.id == session_id)
            ).scalar_one()
        )


def gate_machine(
    world: World, *, keys: st.SearchStrategy[str] = KEYS
) -> type[RuleBasedStateMachine]:
    """A state machine over ``world``: one fresh learner per example (``keys``: which
    idempotency keys its forms carry)."""
    tool_ = world.tool
    tool_host, world_ = world.tool, world
    item_ids = st.sampled_from([*world.items, "nope", "prework-video%2F..", "x" * 300])
    session_ids = st.sampled_from(world.sessions)
    recording_ids = st.sampled_from(world.recordings)
    slot_ids = st.sampled_from(world.slots)
    counter = iter(range(1_000_000))

    class GateMachine(review_rules(), RuleBasedStateMachine):  # type: ignore[misc]
        tool_ = tool_host
        world = world_

        @initialize()
        def launch(self) -> None:
            self.sub = f"learner-{next(counter)}"
            self.launch_id = tool_.launch(self.sub, name="Learner")
            self.check(tool_.get("/course", self.launch_id))
            self.overridden: set[str] = set()
            self.opened: dict[int, datetime] = {}  # recording → before the first page load
            self.sent: list[tuple[str, str, dict[str, str]]] = []
            self.snapshot = self.observe()
            self.booked = {b for b, _ in self.bookings()}

        # --- what the store says ------------------------------------------------------------

        def bookings(self) -> list[tuple[int, str]]:
            """This learner's bookings: (booking id, the slot's item)."""
            with tool_.store.transaction() as s:
                return [
                    (row.id, row.item)
                    for row in s.execute(
                        select(course_bookings.c.id, course_booking_slots.c.item)
                        .join(course_booking_slots)
                        .where(course_bookings.c.sub == self.sub)
                    )
                ]

        def observe(self) -> tuple[dict[str, str], int, set[int]]:
            states = dict(world.courses.learner_path(world.course, self.sub).states())
            with tool_.store.transaction() as s:
                last = s.execute(
                    select(course_evidence.c.id).order_by(course_evidence.c.id.desc()).limit(1)
                ).scalar()
                links = set(
                    s.execute(
                        select(course_join_links.c.id).where(course_join_links.c.sub == self.sub)
                    ).scalars()
                )
            return states, int(last or 0), links

        @invariant()
        def gates_hold(self) -> None:
            if not hasattr(self, "snapshot"):
                return
            before, last_id, links = self.snapshot
            now = self.observe()
            states = now[0]
            for item, state in states.items():
                if item in self.overridden:
                    continue
                assert not (before[item] == "locked" and state == "completed"), (
                    f"{item} was completed while locked"
                )
            with tool_.store.transaction() as s:
                stored = s.execute(
                    select(course_evidence.c.kind, course_evidence.c.item).where(
                        course_evidence.c.id > last_id, course_evidence.c.sub == self.sub
                    )
                ).all()
                new_links = s.execute(
                    select(course_sessions.c.item)
                    .join(course_join_links, course_join_links.c.session_id == course_sessions.c.id)
                    .where(course_join_links.c.id.not_in(links or {0}))
                    .where(course_join_links.c.sub == self.sub)
                ).scalars()
                for session_item in new_links:
                    assert session_item is None or before.get(session_item) != "locked", (
                        f"join link handed out for locked {session_item}"
                    )
            for kind, item in stored:
                if kind in WORK_KINDS and item not in self.overridden:
                    assert before.get(item) != "locked", f"{kind} stored for locked {item}"
            bookings = self.bookings()
            for booking, item in bookings:
                if booking not in self.booked and item not in self.overridden:
                    assert before.get(item) != "locked", f"a slot of locked {item} was booked"
            self.booked = {b for b, _ in bookings}
            self.snapshot = now

        # --- learner routes -------------------------------------------------------------------

        def check(self, response: Any) -> None:
            assert response.status_code < 500, response.get_data(as_text=True)[:500]

        def evidence_rows(self) -> int:
            with tool_.store.transaction() as s:
                return len(
                    s.execute(
                        select(course_evidence.c.id).where(course_evidence.c.sub == self.sub)
                    ).all()
                )

        def send(self, url: str, data: dict[str, str], key: str) -> None:
            """POST a learner form with no key, a fresh key or the key of a form already
            recorded (with this form's content: the core replays it or refuses it)."""
            replay = key == "replay" and bool(self.sent)
            fresh = f"key-{next(counter):06d}-{self.sub}"
            if replay:
                data = {**data, "idempotency_key": self.sent[-1][2]["idempotency_key"]}
            elif key != "none":
                data = {**data, "idempotency_key": fresh}
            before = self.evidence_rows() if replay else 0
            response = tool_.post(url, self.launch_id, data)
            self.check(response)
            if replay:
                assert self.evidence_rows() == before, "a replayed key stored evidence again"
            elif key != "none" and response.status_code < 400:
                # recorded: from now on the key names this request
                self.sent.append((url, response.get_data(as_text=True), data))

        @precondition(lambda self: bool(getattr(self, "sent", None)))
        @rule()
        def resend_lost_form(self) -> None:
            """The answer to a recorded form was lost: the browser sends it again, unchanged."""
            url, first, data = self.sent[-1]
            before = self.evidence_rows()
            again = tool_.post(url, self.launch_id, data)
            self.check(again)
            assert self.evidence_rows() == before, "a resent form stored evidence again"
            if "/quiz" in url:
                assert again.get_data(as_text=True) == first, "a resent quiz got another result"

        @rule()
        def course_page(self) -> None:
            self.check(tool_.get("/course", self.launch_id))

        def zone(self) -> tuple[str, str]:
            with tool_.store.transaction() as s:
                row = s.execute(
                    select(
                        course_enrolments.c.time_zone, course_enrolments.c.time_zone_source
                    ).where(course_enrolments.c.sub == self.sub)
                ).one()
            return row[0], row[1]

        @rule(zone=st.sampled_from(ZONES))
        def time_zone(self, zone: str) -> None:
            self.check(tool_.post("/timezone", self.launch_id, {"time_zone": zone}))

        @rule()
        def notifications_page(self) -> None:
            self.check(tool_.get("/notifications", self.launch_id))

        @rule(
            quiet=st.sampled_from(
                [("", ""), ("22:00", "07:00"), ("25:00", "07:00"), ("", "07:00")]
            ),
            delivery=st.sampled_from(["immediate", "digest"]),
        )
        def save_notifications(self, quiet: tuple[str, str], delivery: str) -> None:
            # Preferences never open a gate (check() holds it to that); a bad time is refused.
            form = {"quiet_start": quiet[0], "quiet_end": quiet[1], "delivery": delivery}
            answer = tool_.post("/notifications", self.launch_id, form)
            assert answer.status_code == (302 if quiet in (("", ""), ("22:00", "07:00")) else 400)
            self.check(tool_.get("/course", self.launch_id))

        @rule(hours=st.sampled_from(["", "09:00-17:00", "18:00-21:00", "03:00-04:00"]))
        def session_hours(self, hours: str) -> None:
            # Availability is a preference: it never opens a gate (check() holds it to that);
            # a value outside the offered list is refused.
            answer = tool_.post("/session-hours", self.launch_id, {"hours": hours})
            assert answer.status_code == (400 if hours == "03:00-04:00" else 302)
            self.check(tool_.get("/course", self.launch_id))

        @rule(zone=st.sampled_from(ZONES))
        def detected_time_zone(self, zone: str) -> None:
            """The learner confirms the zone the browser reported (or a forged one): it never
            replaces a zone the learner chose, and only a valid zone is stored."""
            before = self.zone()
            self.check(tool_.post("/timezone/detected", self.launch_id, {"time_zone": zone}))
            after = self.zone()
            if before[1] == "learner":
                assert after == before, "a detected zone replaced the learner's choice"
            elif after != before:
                assert after == (zone, "browser"), f"stored {after} for {zone!r}"

        @rule(item=item_ids)
        def item_page(self, item: str) -> None:
            self.check(tool_.get(f"/item/{item}", self.launch_id))

        @rule(item=item_ids, answers=st.sampled_from(sorted(ANSWERS)), key=keys)
        def submit_quiz(self, item: str, answers: str, key: str) -> None:
            self.send(f"/item/{item}/quiz", ANSWERS[answers], key)

        @rule(
            item=item_ids,
            percent=st.sampled_from(["100", "95", "50", "-1", "abc", "1e9"]),
            as_json=st.booleans(),
            key=keys,
        )
        def video_progress(self, item: str, percent: str, as_json: bool, key: str) -> None:
            if as_json:
                response = tool_.client.post(
                    f"/item/{item}/progress",
                    json={"percent": percent, "position": 10, "length": 40},
                    headers={
                        "X-Blendkit-Launch": self.launch_id,
                        "X-CSRF-Token": tool_.csrf(self.launch_id),
                    },
                )
                self.check(response)
            else:
                self.send(f"/item/{item}/progress", {"percent": percent}, key)

        @rule(item=item_ids, key=keys)
        def mark_done(self, item: str, key: str) -> None:
            self.send(f"/item/{item}/done", {}, key)

        @rule(item=item_ids, session=session_ids)
        def join(self, item: str, session: str) -> None:
            self.check(tool_.post(f"/item/{item}/join/{session}", self.launch_id))

        @rule(item=item_ids, recording=recording_ids)
        def recording_player(self, item: str, recording: int) -> None:
            before = datetime.now(UTC)
            answer = tool_.get(f"/item/{item}/recording/{recording}", self.launch_id)
            self.check(answer)
            if answer.status_code == 200:
                self.opened.setdefault(recording, before)

        @rule(
            item=item_ids,
            recording=recording_ids,
            segments=st.sampled_from(SEGMENTS),
            event=st.sampled_from(["played", "paused", "seeked", "ended", "progress", "x"]),
        )
        def recording_segments(self, item: str, recording: int, segments: str, event: str) -> None:
            answer = tool_.post(
                f"/item/{item}/recording/{recording}/segments", self.launch_id,
                {"segments": segments, "event": event, "position": "2", "from": "0"},
            )  # fmt: skip
            self.check(answer)
            if answer.status_code >= 400 and "/" not in item.replace("%2F", "/"):
                assert set(answer.get_json()) == {"error", "message"}, "a JSON refusal"

        @rule(item=item_ids, recording=recording_ids, lang=st.sampled_from(["en", "fr", "..%2Fx"]))
        def recording_captions(self, item: str, recording: int, lang: str) -> None:
            answer = tool_.get(f"/item/{item}/recording/{recording}/captions/{lang}.vtt",
                               self.launch_id)  # fmt: skip
            self.check(answer)
            if answer.status_code == 200:  # only this course's, under an item open to the learner
                assert self.snapshot[0].get(item) not in (None, "locked"), "captions leaked"

        @invariant()
        def watched_only_what_was_played(self) -> None:
            """Segments count only for a recording this learner opened, never more seconds
            than the wall clock allows since that first opening, and the evidence's percent
            never exceeds what the stored union covers."""
            if not hasattr(self, "opened"):
                return
            now = datetime.now(UTC)
            with tool_.store.transaction() as s:
                views = s.execute(
                    select(recording_views).where(recording_views.c.sub == self.sub)
                ).all()
                pieces = s.execute(
                    select(course_evidence.c.piece).where(
                        course_evidence.c.sub == self.sub, course_evidence.c.kind == "recording"
                    )
                ).scalars()
                claimed = [json.loads(p)["percent"] for p in pieces]
            best = 0.0
            for view in views:
                if view.covered_seconds == 0:
                    continue
                assert view.recording_id in self.opened, "played time for a recording never opened"
                elapsed = (now - self.opened[view.recording_id]).total_seconds()
                assert view.covered_seconds <= elapsed * MAX_PLAYBACK_RATE + PLAY_SLACK_SECONDS
                best = max(best, view.progress * 100)
            for percent in claimed:
                assert percent <= best + 0.05, f"{percent}% recorded, {best}% played"

        @rule(item=item_ids, session=session_ids)
        def live_page(self, item: str, session: str) -> None:
            self.check(tool_.get(f"/item/{item}/live/{session}", self.launch_id))

        @rule(item=item_ids, session=session_ids)
        def live_state(self, item: str, session: str) -> None:
            self.check(tool_.get(f"/item/{item}/live/{session}/state", self.launch_id))

        @rule(
            item=item_ids,
            session=session_ids,
            poll=st.sampled_from(world.polls),
            answer=st.sampled_from(["0", "1", "7", "x", ""]),
        )
        def answer_poll(self, item: str, session: str, poll: str, answer: str) -> None:
            url = f"/item/{item}/live/{session}/polls/{poll}"
            self.check(tool_.post(url, self.launch_id, {"answer": answer}))

        @rule(item=item_ids, session=session_ids, anonymous=st.booleans())
        def ask_question(self, item: str, session: str, anonymous: bool) -> None:
            data = {"question": "Why?", "anonymous": "1" if anonymous else ""}
            self.check(tool_.post(f"/item/{item}/live/{session}/questions", self.launch_id, data))

        @rule(item=item_ids, session=session_ids, question=st.sampled_from(world.questions))
        def upvote_question(self, item: str, session: str, question: str) -> None:
            url = f"/item/{item}/live/{session}/questions/{question}/upvote"
            self.check(tool_.post(url, self.launch_id))

        @rule(item=item_ids, slot=slot_ids)
        def book_slot(self, item: str, slot: str) -> None:
            self.check(tool_.post(f"/item/{item}/slots/{slot}/book", self.launch_id))

        @rule(item=item_ids, slot=slot_ids)
        def cancel_slot(self, item: str, slot: str) -> None:
            self.check(tool_.post(f"/item/{item}/slots/{slot}/cancel", self.launch_id))

        @rule()
        def upcoming_page(self) -> None:
            self.check(tool_.get("/upcoming", self.launch_id))

        @rule()
        def advice_page(self) -> None:
            """The course-design advice (the cohort's zones, progress and sessions) is for
            instructors: a learner is refused and opens nothing by asking."""
            answer = tool_.get("/teach/advice", self.launch_id)
            assert answer.status_code == 403, answer.get_data(as_text=True)[:300]
            self.check(answer)

        @rule()
        def calendar_feed(self) -> None:
            """A new feed link: the previous one stops; the feed holds this course's sessions
            only and no other learner's personal join link."""
            answer = tool_.post("/my-calendar/link", self.launch_id)
            assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
            found = re.search(r'id="download-link" href="[^"]*(/calendar/[^"]+\.ics)"',
                              answer.get_data(as_text=True))  # fmt: skip
            assert found, "the page shows the new link"
            previous, self.feed_path = getattr(self, "feed_path", None), found.group(1)
            if previous is not None:
                assert tool_.client.get(previous).status_code == 404, "an old link still works"
            feed = tool_.client.get(self.feed_path)
            assert feed.status_code == 200
            assert feed.headers["Content-Type"] == "text/calendar; charset=utf-8"
            body = feed.get_data(as_text=True)
            assert world.sessions[3] not in body, "another course's session in the feed"
            with tool_.store.transaction() as s:
                others = s.execute(
                    select(course_join_links.c.url).where(course_join_links.c.sub != self.sub)
                ).scalars()
                assert not [url for url in others if url in body], "another learner's link"

        @rule()
        def calendar_stop(self) -> None:
            answer = tool_.post("/my-calendar/stop", self.launch_id)
            assert answer.status_code == 302
            if getattr(self, "feed_path", None) is not None:
                assert tool_.client.get(self.feed_path).status_code == 404

        @rule(path=st.sampled_from(["/course-calendar/link", "/course-calendar/stop"]))
        def course_calendar_as_learner(self, path: str) -> None:
            assert tool_.post(path, self.launch_id).status_code == 403

        @rule(
            item=item_ids,
            which=st.sampled_from(["own", "other", "missing"]),
            launched=st.booleans(),
            on_item=st.booleans(),
        )
        def reminder_link(self, item: str, which: str, launched: bool, on_item: bool) -> None:
            """A reminder's link opens the page only for a launch of that very course; every
            other browser is asked to open it from its platform, a stranger learns nothing."""
            course_id = {"own": world.course.id, "other": world.other_course, "missing": 10**6}
            path = f"/courses/{course_id[which]}" + (f"/items/{item}" if on_item else "")
            answer = tool_.client.get(
                path, query_string={"launch": self.launch_id} if launched else {}
            )
            self.check(answer)
            if "%2F" in item and on_item:
                assert answer.status_code in (303, 200, 404)
                return
            if launched and which == "own":
                assert answer.status_code == 303
                target = answer.headers["Location"]
                assert target.startswith(f"/item/{item}?" if on_item else "/course?")
                assert f"launch={self.launch_id}" in target
                return
            assert answer.status_code == 200
            body = answer.get_data(as_text=True)
            assert "from your learning platform to continue" in body
            named = world.course.title in body
            assert named == (launched and which == "other"), "a course named to a stranger"

        # --- the one exception: an instructor override --------------------------------------

        @rule(item=st.sampled_from(world.items))
        def instructor_unlocks(self, item: str) -> None:
            if self.snapshot[0].get(item) == "locked":
                world.courses.add_override(
                    world.course, self.sub, item, "unlock", by="teach", reason="transfer"
                )
                self.overridden.add(item)

    return GateMachine


def _learner_endpoints(tool: Tool) -> set[str]:
    return {r.endpoint for r in tool.app.url_map.iter_rules() if r.endpoint.startswith("learner.")}


def test_every_learner_route_has_a_rule(tool: Tool) -> None:
    machine = gate_machine(build_world(tool))
    missing = _learner_endpoints(tool) - set(RULES)
    assert not missing, f"learner routes without a rule in the gate state machine: {missing}"
    for endpoint, name in RULES.items():
        assert callable(getattr(machine, name)), f"{endpoint}: rule {name} is missing"


def test_gate_invariant_holds_on_every_learner_route(tool: Tool) -> None:
    run_state_machine_as_test(gate_machine(build_world(tool)), settings=RUN)


def _bypass_writing_rows(tool: Tool) -> Callable[[str], Any]:
    """The done button as an old route did it: evidence written without the core's check."""
    from blendkit_examples.flask_app.pages import here

    def broken_mark_done(item_id: str) -> Any:
        current = here()
        piece = CompletionRecorded(item=item_id, state="complete", at=datetime.now(UTC))
        with tool.store.transaction() as s:
            s.execute(
                insert(course_evidence).values(
                    course_id=current.course.id, sub=current.person.sub, kind=piece.kind,
                    item=item_id, piece=piece.model_dump_json(), details=None,
                    recorded_at=datetime.now(UTC),
                )
            )  # fmt: skip
        return redirect("/course")

    return broken_mark_done


def _bypass_by_flag(tool: Tool) -> Callable[[str], Any]:
    """The done button asking the core to keep evidence for a locked item (a provider's mode)."""
    from blendkit_examples.flask_app.app import services
    from blendkit_examples.flask_app.pages import here

    def broken_mark_done(item_id: str) -> Any:
        current = here()
        piece = CompletionRecorded(item=item_id, state="complete", at=datetime.now(UTC))
        services().courses.record(current.course, current.person.sub, piece, when_locked="hold")
        return redirect("/course")

    return broken_mark_done


@pytest.mark.parametrize("bypass", [_bypass_writing_rows, _bypass_by_flag])
def test_the_machine_finds_a_route_that_bypasses_the_core(
    tool: Tool, bypass: Callable[[Tool], Callable[[str], Any]]
) -> None:
    """A deliberately broken learner route: the same machine, same seed, must catch it."""
    world = build_world(tool)
    tool.app.view_functions["learner.mark_done"] = bypass(tool)
    quick = settings(RUN, phases=(Phase.generate,))
    with pytest.raises(AssertionError, match="stored for locked"):
        # without keys: the bypass also ignores them, and the gate is what is checked here
        run_state_machine_as_test(gate_machine(world, keys=st.just("none")), settings=quick)
