"""The demo course: its flipped-classroom path and the records seeded into it (learners, past
sessions with attendance and recordings, progress, polls)."""

from __future__ import annotations

import typing as t
from datetime import datetime, timedelta

from blendkit.courses import AttendanceGrading, Enrolment
from blendkit.lti import is_time_zone
from blendkit.progression import (
    Item,
    Milestone,
    Module,
    Path,
    PollsAnsweredCondition,
    ScoreRecorded,
    VideoWatched,
    flipped_classroom,
)
from blendkit.sessions import FakeMeetingProvider, Learner, RecordingKind
from blendkit_examples.flask_app.demo_lms import MEDIA_PATH, PEOPLE
from blendkit_examples.flask_app.demo_office_hours import seed_office_hours
from blendkit_examples.flask_app.demo_recording import seed_recording
from blendkit_examples.flask_app.review_demo import seed_reviews, workshop_module

__all__ = ["demo_path", "seed_course"]


def demo_path(now: datetime) -> Path:
    """The flipped-classroom template, class in two days, with the demo lecture attached."""
    start = (now + timedelta(days=2)).replace(hour=16, minute=0, second=0, microsecond=0)
    path = flipped_classroom(start)
    modules = tuple(
        module.model_copy(
            update={
                "items": tuple(
                    item.model_copy(update={"url": MEDIA_PATH}) if item.kind == "video" else item
                    for item in module.items
                )
            }
        )
        for module in path.modules
    )
    # Taking part in the live session's polls opens the class notes.
    notes = Item(
        id="class-notes", title="Class notes", kind="reading",
        conditions=PollsAnsweredCondition(item="live-session", count=1),
    )  # fmt: skip
    modules = tuple(
        m.model_copy(update={"items": (*m.items, notes)}) if m.id == "in-class" else m
        for m in modules
    )
    help_module = Module(
        id="help",
        title="Help when you need it",
        items=(Item(id="office-hours", title="Office hours with Dr Rivera", kind="office_hours"),),
    )
    # The template's milestones (ready for class, class and practice) and one for the workshop.
    workshop = Milestone(
        id="workshop-done", title="Peer workshop done", modules=("peer-workshop",),
        due=start + timedelta(days=9),
    )  # fmt: skip
    return path.model_copy(
        update={
            "modules": (*modules, help_module, workshop_module()),
            "milestones": (*path.milestones, workshop),
            "title": "Flipped classroom, week 1",
        }
    )


def seed_course(svc: t.Any, course: t.Any, provider: FakeMeetingProvider, now: datetime) -> None:
    """Sample learners in several time zones, live sessions (two past ones with attendance and
    recordings from the fake provider, a weekly drop-in series), a captioned recap recording
    (see ``demo_recording``), progress, the peer workshop, office hours and polls."""
    enrolled = now - timedelta(days=12)
    for person in PEOPLE:
        if not is_time_zone(person.zone):
            continue  # enrolled by her first launch, with the course default until she confirms
        svc.courses.enrol(
            course,
            Enrolment(
                sub=person.sub, name=person.name, time_zone=person.zone, enrolled_at=enrolled,
                email=f"{person.sub.removeprefix('demo-')}@demo.example.edu",
                roles=("learner",) if person.role == "learner" else ("instructor",),
            ),
        )  # fmt: skip
    svc.hours.set(course, "demo-sam", "18:00-21:00")  # the planner keeps Sam to evenings
    # Attendance is graded, and the instructor reviews the scores before they go.
    svc.attendance_grades.set_grading(course, AttendanceGrading(enabled=True))
    live_item = next(i for i in course.path.items() if i.kind == "live_session")
    week1 = svc.live.schedule(
        course, title="Week 1 live session", start_utc=live_item.starts_at,
        time_zone="Europe/London",
        duration_minutes=int(live_item.duration_minutes or 90), item=live_item.id,
    )  # fmt: skip
    # A weekly drop-in series: one sitting moved a day later, another cancelled.
    drop_in = (now + timedelta(days=2)).replace(hour=17, minute=0, second=0, microsecond=0)
    series = svc.live.schedule_series(
        course, title="Weekly drop-in", start_utc=drop_in, time_zone="Europe/London",
        duration_minutes=45, count=6,
    )  # fmt: skip
    second, third = series.occurrences[1], series.occurrences[2]
    svc.live.move_occurrence(course, second.id, start_utc=second.start_utc + timedelta(days=1))
    svc.live.cancel_occurrence(course, third.id)
    script = {
        "Orientation": (9, {"demo-ana": 55, "demo-kofi": 60, "demo-mei": 20, "demo-sam": 40}),
        "Question time": (3, {"demo-kofi": 30, "demo-sam": 50, "demo-priya": 45, "demo-lucas": 10}),
    }
    for title, (days_ago, minutes) in script.items():
        start = (now - timedelta(days=days_ago)).replace(hour=15, minute=0, second=0, microsecond=0)
        record = svc.live.schedule(
            course, title=title, start_utc=start, time_zone="Europe/London", duration_minutes=60
        )
        meeting = record.provider_meeting_id
        for sub, stay in minutes.items():
            if sub == "demo-sam":  # joined without the personal link: matched by e-mail
                conn = provider.join(
                    meeting, at=start, display_name="Sam T", email="sam@demo.example.edu"
                )
            else:
                svc.live.join_link(course, record.id, sub)
                link = provider.join_link(meeting, Learner(id=sub))
                conn = provider.join(meeting, at=start + timedelta(minutes=2), link=link)
            provider.leave(meeting, conn, at=start + timedelta(minutes=2 + stay))
        guest = provider.join(meeting, at=start + timedelta(minutes=5), display_name="Dial-in user")
        provider.leave(meeting, guest, at=start + timedelta(minutes=35))
        provider.add_recording(meeting, RecordingKind.VIDEO, start=start, duration_seconds=3600)
        provider.pending_webhooks()  # delivered live in production; the seed imports directly
        svc.live.import_attendance(course, record.id)
        svc.live.import_recordings(course, record.id)
    seed_recording(svc, course, provider, now, live_item.id)
    quiz = next(i.id for i in course.path.items() if i.kind == "quiz")
    video = next(i.id for i in course.path.items() if i.kind == "video")
    progress: dict[str, list[t.Any]] = {
        "demo-kofi": [
            VideoWatched(item=video, percent=100, at=now - timedelta(hours=1)),
            ScoreRecorded(item=quiz, score=100, at=now),
        ],
        "demo-mei": [
            VideoWatched(item=video, percent=95, at=now - timedelta(days=3)),
            ScoreRecorded(item=quiz, score=33.33, at=now - timedelta(days=1)),
            ScoreRecorded(item=quiz, score=33.33, at=now),
        ],
        "demo-sam": [VideoWatched(item=video, percent=50, at=now - timedelta(days=1))],
        "demo-priya": [VideoWatched(item=video, percent=100, at=now - timedelta(days=4))],
    }
    for sub, pieces in progress.items():
        svc.courses.record(course, sub, pieces)
    seed_reviews(svc, course, now)
    seed_office_hours(svc, course, now)
    _seed_polls(svc, course, week1.id)


def _seed_polls(svc: t.Any, course: t.Any, session_id: str) -> None:
    """An open warm-up poll Kofi answered, a rating poll in draft, and his question."""
    warmup = svc.polls.create(
        course, session_id, kind="single", question="Which topic should we start with?",
        options=["Cell membranes", "Mitochondria", "Protein synthesis"],
    )  # fmt: skip
    svc.polls.set_state(course, warmup.id, "open")
    svc.polls.answer(course, warmup.id, "demo-kofi", 1)
    svc.polls.create(
        course, session_id, kind="rating", question="How confident do you feel after the pre-work?"
    )
    svc.board.ask(course, session_id, "demo-kofi", "Will the slides be shared after class?")
