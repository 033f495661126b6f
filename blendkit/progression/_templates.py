"""Editable course paths from blended-learning practice (each a plain :class:`Path` value)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from blendkit.errors import ProgressionError
from blendkit.progression._conditions import AllOf, AnyOf, Condition
from blendkit.progression._context_conditions import DateCondition, DripCondition
from blendkit.progression._leaves import (
    AttendedCondition,
    CompletionCondition,
    PeerReviewsCondition,
    ScoreCondition,
    WatchedCondition,
)
from blendkit.progression._path import Item, MasteryRange, MasteryRule, Milestone, Module, Path
from blendkit.progression._time import ensure_utc

__all__ = [
    "TEMPLATES",
    "cohort_pacing",
    "daily_micro_learning",
    "flipped_classroom",
    "live_then_review",
    "mastery_loop",
    "peer_workshop",
    "self_paced_drip",
    "template",
    "template_names",
]


def _scored(item: str) -> ScoreCondition:
    return ScoreCondition(item=item)


def _done(item: str) -> CompletionCondition:
    return CompletionCondition(item=item)


def _attended_or_recording(item: str, percent: float = 75, recording: float = 80) -> Condition:
    return AttendedCondition(item=item, percent=percent, recording=recording)


def flipped_classroom(start: datetime, *, readiness_pass: float = 60) -> Path:
    """Pre-work video and a readiness quiz unlock the live session; practice follows it.

    The readiness quiz completes only with a pass (``readiness_pass``): a failed attempt leaves
    it open for another try, and the "Ready for class" milestone is done only when the learner
    can take part in the session.
    """
    start = ensure_utc(start, "start")
    return Path(
        id="flipped-classroom",
        title="Flipped classroom",
        course_start=start,
        modules=(
            Module(
                id="before-class",
                title="Before class",
                items=(
                    Item(id="prework-video", title="Pre-work video", kind="video",
                         complete_when=WatchedCondition(item="prework-video", percent=90)),
                    Item(id="readiness-quiz", title="Readiness quiz", kind="quiz",
                         pass_mark=readiness_pass,
                         conditions=WatchedCondition(item="prework-video", percent=90, id="video"),
                         complete_when=ScoreCondition(item="readiness-quiz", min=readiness_pass),
                         due=start),
                ),
            ),
            Module(
                id="in-class",
                title="In class",
                items=(
                    Item(id="live-session", title="Live session", kind="live_session",
                         starts_at=start, duration_minutes=90,
                         conditions=AllOf(all=(
                             WatchedCondition(item="prework-video", percent=90, id="video"),
                             ScoreCondition(item="readiness-quiz", min=readiness_pass, id="ready"),
                         )),
                         complete_when=_attended_or_recording("live-session")),
                    Item(id="practice", title="Practice assignment", kind="assignment",
                         conditions=_done("live-session"), due=start + timedelta(days=7)),
                ),
            ),
        ),
        milestones=(
            Milestone(id="ready-for-class", title="Ready for class", modules=("before-class",),
                      due=start),
            Milestone(id="class-and-practice", title="Class and practice done",
                      modules=("in-class",), due=start + timedelta(days=7)),
        ),
    )  # fmt: skip


def live_then_review(
    start: datetime, *, duration_minutes: float = 60, quiz_pass: float = 70
) -> Path:
    """A live session, its recording to review, then a quiz for who attended or caught up."""
    start = ensure_utc(start, "start")
    ends = start + timedelta(minutes=duration_minutes)
    return Path(
        id="live-review-quiz",
        title="Live session, recording review, quiz",
        course_start=start,
        modules=(
            Module(
                id="session",
                title="Session",
                items=(
                    Item(id="live", title="Live session", kind="live_session", starts_at=start,
                         duration_minutes=duration_minutes,
                         complete_when=AttendedCondition(item="live", percent=75, recording=90)),
                    Item(id="recording-review", title="Recording review", kind="video",
                         conditions=DateCondition(from_=ends),
                         complete_when=WatchedCondition(item="recording-review", percent=80)),
                    Item(id="quiz", title="Session quiz", kind="quiz", pass_mark=quiz_pass,
                         conditions=AttendedCondition(item="live", percent=75, recording=90),
                         complete_when=_scored("quiz"), due=start + timedelta(days=7)),
                ),
            ),
        ),
        milestones=(
            Milestone(id="session-reviewed", title="Session reviewed and quiz taken",
                      modules=("session",), due=start + timedelta(days=7)),
        ),
    )  # fmt: skip


def cohort_pacing(start: datetime, *, weeks: int = 4) -> Path:
    """Weekly modules released on their week's date, each quiz due at the end of its week."""
    start = ensure_utc(start, "start")
    modules = []
    for week in range(1, weeks + 1):
        opens = start + timedelta(weeks=week - 1)
        gate = DateCondition(from_=opens, id=f"week-{week}-date")
        modules.append(
            Module(
                id=f"week-{week}",
                title=f"Week {week}",
                conditions=gate if week > 1 else None,
                items=(
                    Item(id=f"w{week}-reading", title=f"Week {week} reading", kind="reading"),
                    Item(id=f"w{week}-live", title=f"Week {week} live session",
                         kind="live_session", starts_at=opens + timedelta(days=2),
                         duration_minutes=60,
                         complete_when=_attended_or_recording(f"w{week}-live")),
                    Item(id=f"w{week}-quiz", title=f"Week {week} quiz", kind="quiz",
                         pass_mark=60, complete_when=_scored(f"w{week}-quiz"),
                         due=opens + timedelta(weeks=1)),
                ),
            )
        )  # fmt: skip
    milestones = tuple(
        Milestone(id=f"week-{week}-done", title=f"Week {week} done", modules=(f"week-{week}",),
                  due=start + timedelta(weeks=week))
        for week in range(1, weeks + 1)
    )  # fmt: skip
    return Path(
        id="cohort-pacing",
        title="Cohort pacing",
        course_start=start,
        modules=tuple(modules),
        milestones=milestones,
    )


def self_paced_drip(start: datetime, *, units: int = 5, every_days: float = 7) -> Path:
    """Units drip out every ``every_days`` after each learner's enrolment, each due a unit later."""
    start = ensure_utc(start, "start")
    modules = []
    for unit in range(1, units + 1):
        opens = (unit - 1) * every_days
        modules.append(
            Module(
                id=f"unit-{unit}",
                title=f"Unit {unit}",
                conditions=DripCondition(days=opens, id=f"unit-{unit}-drip") if unit > 1 else None,
                sequential=True,
                items=(
                    Item(id=f"u{unit}-video", title=f"Unit {unit} video", kind="video",
                         complete_when=WatchedCondition(item=f"u{unit}-video", percent=80)),
                    Item(id=f"u{unit}-check", title=f"Unit {unit} check", kind="quiz",
                         complete_when=_scored(f"u{unit}-check"),
                         due_after_enrolment_days=opens + every_days),
                ),
            )
        )  # fmt: skip
    milestones = tuple(
        Milestone(id=f"unit-{unit}-done", title=f"Unit {unit} done", modules=(f"unit-{unit}",),
                  due_after_enrolment_days=unit * every_days)
        for unit in range(1, units + 1)
    )  # fmt: skip
    return Path(
        id="self-paced-drip",
        title="Self-paced drip",
        course_start=start,
        modules=tuple(modules),
        milestones=milestones,
    )


def daily_micro_learning(start: datetime, *, days: int = 10) -> Path:
    """One short lesson a day after enrolment; each day also needs the previous day's check."""
    start = ensure_utc(start, "start")
    items = []
    for day in range(1, days + 1):
        gate: list[Condition] = [DripCondition(days=day - 1, id=f"day-{day}")] if day > 1 else []
        if day > 1:
            gate.append(_done(f"d{day - 1}-check"))
        items.append(
            Item(
                id=f"d{day}-lesson",
                title=f"Day {day} lesson",
                kind="video",
                conditions=AllOf(all=tuple(gate)) if gate else None,
                complete_when=WatchedCondition(item=f"d{day}-lesson", percent=90),
            )
        )
        items.append(Item(id=f"d{day}-check", title=f"Day {day} check", kind="quiz",
                          conditions=_done(f"d{day}-lesson"),
                          complete_when=_scored(f"d{day}-check"),
                          due_after_enrolment_days=float(day)))  # fmt: skip
    module = Module(id="daily", title="Daily lessons", items=tuple(items))
    weeks = [range(first, min(first + 7, days + 1)) for first in range(1, days + 1, 7)]
    milestones = tuple(
        Milestone(
            id=f"week-{n}",
            title=f"Days {span[0]} to {span[-1]}",
            items=tuple(f"d{day}-{part}" for day in span for part in ("lesson", "check")),
            due_after_enrolment_days=float(span[-1]),
        )
        for n, span in enumerate(weeks, start=1)
    )
    return Path(
        id="daily-micro",
        title="Daily micro-learning",
        course_start=start,
        modules=(module,),
        milestones=milestones,
    )


def peer_workshop(start: datetime, *, reviews: int = 3, submit_days: int = 7) -> Path:
    """Submit, review ``reviews`` peers, then see the feedback on your own work.

    ``blendkit.review.starter_settings(path, "reviews")`` turns the review item into a real
    peer review: submissions on "submission", ``reviews`` reviewers each, feedback after giving
    ``reviews`` reviews.
    """
    start = ensure_utc(start, "start")
    submit_due = start + timedelta(days=submit_days)
    return Path(
        id="peer-workshop",
        title="Peer workshop",
        course_start=start,
        modules=(
            Module(
                id="workshop",
                title="Workshop",
                items=(
                    Item(id="brief", title="Workshop brief", kind="reading"),
                    Item(id="submission", title="Submit your work", kind="assignment",
                         conditions=_done("brief"), due=submit_due),
                    Item(id="reviews", title=f"Review {reviews} peers", kind="peer_review",
                         conditions=AllOf(all=(
                             _done("submission"), DateCondition(from_=submit_due)
                         )),
                         complete_when=PeerReviewsCondition(item="reviews", count=reviews),
                         due=submit_due + timedelta(days=7)),
                    Item(id="feedback", title="See your feedback", kind="reading",
                         conditions=PeerReviewsCondition(
                             item="reviews", count=reviews, id="reviews"
                         )),
                ),
            ),
        ),
        milestones=(
            Milestone(id="submitted", title="Work submitted", items=("brief", "submission"),
                      due=submit_due),
            Milestone(id="reviews-given", title=f"{reviews} reviews given", items=("reviews",),
                      due=submit_due + timedelta(days=7)),
        ),
    )  # fmt: skip


def mastery_loop(start: datetime, *, low: float = 50, high: float = 80) -> Path:
    """Diagnostic → score range → remediation, standard or enrichment set → retest.

    One milestone, "Mastered", over the diagnostic and the retest, three weeks after enrolment:
    the practice sets stay out of it, since each learner is released only one of them.
    """
    start = ensure_utc(start, "start")
    sets = ("remediation", "standard", "enrichment")
    set_items = tuple(
        Item(id=f"{name}-set", title=f"{name.title()} set", kind="reading",
             complete_when=None)
        for name in sets
    )  # fmt: skip
    retest_gate = AnyOf(any=tuple(_done(f"{name}-set") for name in sets))
    return Path(
        id="mastery-loop",
        title="Mastery loop",
        course_start=start,
        modules=(
            Module(id="diagnose", title="Diagnose", items=(
                Item(id="diagnostic", title="Diagnostic quiz", kind="quiz",
                     complete_when=_scored("diagnostic")),
            )),
            Module(id="practice", title="Practice", items=set_items),
            Module(id="retest", title="Retest", items=(
                Item(id="retest", title="Retest", kind="quiz", pass_mark=high,
                     conditions=retest_gate, complete_when=ScoreCondition(item="retest", min=high)),
                Item(id="office-hours", title="Office hours", kind="office_hours"),
            )),
        ),
        mastery=(
            MasteryRule(id="diagnostic", trigger="diagnostic", ranges=(
                MasteryRange(label="remediation", min=0, max=low, release=("remediation-set",)),
                MasteryRange(label="standard", min=low, max=high, release=("standard-set",)),
                MasteryRange(label="enrichment", min=high, release=("enrichment-set",)),
            )),
            MasteryRule(id="retest", trigger="retest", ranges=(
                MasteryRange(label="needs help", min=0, max=high, release=("office-hours",)),
            )),
        ),
        milestones=(
            Milestone(id="mastered", title="Mastered", items=("diagnostic", "retest"),
                      due_after_enrolment_days=21),
        ),
    )  # fmt: skip


TEMPLATES: Mapping[str, Callable[[datetime], Path]] = {
    "flipped-classroom": flipped_classroom,
    "live-review-quiz": live_then_review,
    "cohort-pacing": cohort_pacing,
    "self-paced-drip": self_paced_drip,
    "daily-micro": daily_micro_learning,
    "peer-workshop": peer_workshop,
    "mastery-loop": mastery_loop,
}
"""Template functions by the name the CLI uses."""


def template_names() -> tuple[str, ...]:
    """Names accepted by :func:`template` (and ``blendkit path template``)."""
    return tuple(TEMPLATES)


def template(name: str, start: datetime) -> Path:
    """The template ``name`` starting at ``start``; ProgressionError lists the names."""
    if name not in TEMPLATES:
        known = ", ".join(sorted(TEMPLATES))
        raise ProgressionError(
            f"no template named {name!r} (available: {known})", code="progression.template"
        )
    return TEMPLATES[name](start)
