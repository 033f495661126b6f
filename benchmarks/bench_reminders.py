"""Reminder planning: what falls due within the horizon, as the rows the notification queue
stores, against a per-learner loop.

Figures (one JSON line each, medians of --repeats runs, peers measured in the same run; each line
carries the load average, the CPU count and the Python version, and the CPU-time medians of this
process beside the wall-clock ones, which a shared machine moves more):

- ``reminders.plan_rows_100k_x_20`` (the headline): 100,000 learners in 10 zones, 20 dated
  events (10 deadlines with 48 h / 2 h reminders, 10 weekly sittings with 24 h / 15 min
  reminders), the 300,000 reminders due in the next 48 h turned into the exact rows the queue
  inserts (idempotency key, recipient, event, version, offset, template, message JSON, due
  time; the queue's own ``reminder_rows``, no database): the index built and queried
  (``ReminderPlan``) and its rows, against ``due_per_learner`` (every learner, every event,
  every offset, each message built as a model) and the same rows built from those messages.
  The two sets of rows are checked equal, value for value. ``plan_ms`` and ``rows_ms`` split
  our figure. Target: 2,000 ms.
- ``reminders.plan_100k_x_20``: the same without the rows (the intents alone).
- ``reminders.plan_rows_personal_links_100k_x_20``: plan + rows again with a personal join link
  for every learner in every sitting (``PlannedEvent.personal``: 200,000 of the rows), each
  validated as its field, against the loop validating each learner's whole message.
- ``reminders.planner_rows_personal_links_100k_x_20``: the same course as the production
  planner reads it (``ReminderPlanner.plan_course``: the roll and the course path from memory,
  bookings and lead times from an empty store, a live-session service whose ``join_link``
  answers from a dict and refuses one learner in 50, as while a sitting's item is locked) up to
  the rows, each due sitting's links asked once per recipient and carried by
  ``PlannedEvent.personal``; against the planner's previous path, the same plan followed by a
  ``model_copy`` of each due sitting reminder's message with the link. The rows are checked
  equal, in order. Target: 2,000 ms.
- ``reminders.tick_nothing_due_<n>``: one scheduler tick on a built index when nothing is due
  in the next hour, for 1,000 and 100,000 learners: the time does not grow with the learners.
- ``reminders.tick_due_<k>``: one tick on the 100,000-learner index when one event for ``k``
  learners is due: the time grows with what is due (``k``), not with the roll;
  ``with_rows_ms`` adds the rows of what is due.

Measured on a shared 2-core machine (docs/notifications.md): plan + rows 0.40 s at a load
average of 3.7 to 5 (0.40 s of CPU: 0.09 s plan, 0.31 s rows) against 3.5 s for the loop and its
rows (8.9×); 0.73–0.96 s at a load of 5 to 11 against 4.9–8.2 s. Before the rows were built per
run of an event's reminders, the same rows took 0.86 s of CPU on top of the plan's 0.10 s. With
personal links: 0.88 s against 4.8 s (load 2.4 to 3; 0.97 s before a learner's own message
stopped validating the roll's name and zone again). The production planner with personal links:
1.2 s (0.45 s plan, 0.77 s rows) against 3.7 s for its previous per-reminder copies (load 2.2 to
2.8). A tick with nothing due 2–3 µs for either roll; 0.2–1 µs per due intent, 0.9–1.7 µs per
row with the rows (load 2 to 5).

    .venv/bin/python benchmarks/bench_reminders.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time as clock
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from types import SimpleNamespace
from typing import Any, cast

from pydantic import AnyHttpUrl

from blendkit import ItemLocked
from blendkit.courses import Course, Enrolment, LiveSessionRecord, ReminderLinks, ReminderPlanner
from blendkit.courses._reminder_store import ReminderSettings
from blendkit.courses._reminders import _LearnerStates
from blendkit.errors import BlendkitError
from blendkit.notify import (
    Addressee,
    DeadlineApproaching,
    PlannedEvent,
    ReminderPlan,
    SessionStarting,
    due_per_learner,
    parse_offsets,
)
from blendkit.notify._queue_rows import reminder_rows
from blendkit.progression import Item, Module, Path
from blendkit.store import Store

NOW = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)
ZONES = [
    "Europe/Paris", "Asia/Tokyo", "America/New_York", "Asia/Kolkata", "Australia/Adelaide",
    "Asia/Kathmandu", "America/Sao_Paulo", "Africa/Lagos", "Pacific/Auckland", "UTC",
]  # fmt: skip
DEADLINE = parse_offsets("48h,2h")
SESSION = parse_offsets("24h,15m")


def median_ms(func: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        began = clock.perf_counter()
        func()
        times.append(clock.perf_counter() - began)
    return statistics.median(times) * 1000


def median_stages_ms(
    first: Callable[[], Any], then: Callable[[Any], object], repeats: int
) -> dict[str, float]:
    """Medians of ``first()`` alone and of ``then(first())``, in wall-clock and in this
    process's CPU time (less moved by other processes on a shared machine), one run timing
    both; what they made is freed outside the timings."""
    times: dict[str, list[float]] = {"alone": [], "both": [], "alone_cpu": [], "both_cpu": []}
    for _ in range(repeats):
        began, began_cpu = clock.perf_counter(), clock.process_time()
        made = first()
        middle, middle_cpu = clock.perf_counter(), clock.process_time()
        kept = then(made)
        ended, ended_cpu = clock.perf_counter(), clock.process_time()
        times["alone"].append(middle - began)
        times["both"].append(ended - began)
        times["alone_cpu"].append(middle_cpu - began_cpu)
        times["both_cpu"].append(ended_cpu - began_cpu)
        del made, kept
    return {name: statistics.median(values) * 1000 for name, values in times.items()}


def learners(count: int) -> list[Addressee]:
    return [Addressee(f"l{i}", f"Learner {i}", ZONES[i % len(ZONES)]) for i in range(count)]


def events(recipients: tuple[str, ...] | None = None) -> list[PlannedEvent]:
    """10 deadlines every 5 days and 10 weekly sittings, from three days ago on."""
    out: list[PlannedEvent] = []
    for n in range(10):
        due = NOW - timedelta(days=3) + timedelta(days=5 * n, hours=13)
        out.append(
            PlannedEvent(
                event=f"deadline:item-{n}", version=due.isoformat(), moment=due, offsets=DEADLINE,
                context=DeadlineApproaching(
                    recipient_name="learner", course_title="Global cohort",
                    item_title=f"Pre-work {n}", item_url=f"https://tool.example/items/{n}",
                    due=due, time_zone="UTC",
                ),
                recipients=recipients,
            )
        )  # fmt: skip
        starts = NOW - timedelta(days=6) + timedelta(days=7 * n, hours=7)
        out.append(
            PlannedEvent(
                event=f"session:s{n}", version=starts.isoformat(), moment=starts, offsets=SESSION,
                context=SessionStarting(
                    recipient_name="learner", course_title="Global cohort",
                    session_title=f"Week {n} live session", starts=starts, time_zone="UTC",
                    join_url="https://meet.example/j/1",
                ),
                recipients=recipients,
            )
        )  # fmt: skip
    return out


def emit(figure: str, ours: float, peer: float | None, peer_name: str | None, **extra: Any) -> None:
    line: dict[str, Any] = {"figure": figure, "blendkit_median_ms": round(ours, 3)}
    if peer is not None:
        line |= {
            "peer": peer_name,
            "peer_median_ms": round(peer, 2),
            "speedup": round(peer / ours, 2),
        }
    machine = {
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    print(json.dumps(line | extra | machine))


class MemoryCourses:
    """What the planner reads of a course service, answered from memory: the roll, no
    overrides, nobody completed anything (bookings and settings come from a real, empty store)."""

    def __init__(self, store: Store, roll: list[Enrolment]) -> None:
        self.store, self.roll = store, roll
        self.clock = lambda: NOW
        self.nothing_done = SimpleNamespace(items=())

    def enrolments(self, course: Course, *, learners_only: bool = False) -> list[Enrolment]:
        return self.roll

    def overrides(self, course: Course) -> list[Any]:
        return []

    def learner_path(self, course: Course, sub: str, now: datetime | None = None) -> Any:
        return self.nothing_done


class DictLive:
    """A live-session service whose sittings are given and whose ``join_link`` answers from a
    dict (a learner missing from it is refused, as while the sitting's item is locked)."""

    def __init__(self, sittings: list[LiveSessionRecord], links: dict[tuple[str, str], str]):
        self.sittings, self.links = sittings, links

    def sessions(self, course: Course) -> list[LiveSessionRecord]:
        return self.sittings

    def join_link(self, course: Course, session_id: str, sub: str) -> str:
        url = self.links.get((session_id, sub))
        if url is None:
            raise ItemLocked("locked for this learner", code="courses.item_locked")
        return url


def planner_course(count: int) -> tuple[Course, list[Enrolment], list[LiveSessionRecord]]:
    """The course of ``events()`` as the planner reads it: 10 items due every 5 days, 10 weekly
    sittings, ``count`` learners in 10 zones."""
    items = tuple(
        Item(id=f"item-{n}", title=f"Pre-work {n}",
             due=NOW - timedelta(days=3) + timedelta(days=5 * n, hours=13))
        for n in range(10)
    )  # fmt: skip
    course = Course(
        id=1, issuer="https://lms.example", client_id="c", deployment_id="d", context_id="ctx",
        activity_key="https://tool.example/courses/1", title="Global cohort",
        path=Path(id="global", modules=(Module(id="m", items=items),)),
    )  # fmt: skip
    roll = [
        Enrolment(sub=f"l{i}", name=f"Learner {i}", time_zone=ZONES[i % len(ZONES)])
        for i in range(count)
    ]
    sittings = [
        LiveSessionRecord(
            id=f"s{n}", item=None, title=f"Week {n} live session",
            start_utc=NOW - timedelta(days=6) + timedelta(days=7 * n, hours=7),
            time_zone="UTC", duration_minutes=60, provider="fake", provider_meeting_id=f"m{n}",
            occurrence_id=None, join_url="https://meet.example/j/1", attendance_imported=False,
        )
        for n in range(10)
    ]  # fmt: skip
    return course, roll, sittings


def planner_figure(repeats: int, horizon: timedelta) -> None:
    """``ReminderPlanner.plan_course`` + rows with each learner's link from the live service,
    against the planner's previous path: the same plan, then each due sitting reminder's
    message copied with the link (``model_copy``)."""
    course, roll, sittings = planner_course(100_000)
    links = {
        (s.id, p.sub): f"https://meet.example/j/{s.id}?tk={p.sub}"
        for s in sittings
        for n, p in enumerate(roll)
        if n % 50  # one learner in 50 may not join: their sitting item is locked
    }
    live = DictLive(sittings, links)
    with tempfile.TemporaryDirectory() as folder:
        store = Store(f"sqlite:///{folder}/bench.sqlite3")
        store.migrate()
        courses = cast(Any, MemoryCourses(store, roll))
        planner = ReminderPlanner(
            courses, cast(Any, live), ReminderLinks("https://tool.example"),
            settings=ReminderSettings(store), horizon=horizon,
        )  # fmt: skip

        def ours() -> list[Any]:
            return planner.plan_course(course, NOW)

        def personalise(intent: Any) -> Any:
            """The planner's previous step, per due reminder: a sitting's message copied with
            the learner's link (None: refused)."""
            if intent.template != SessionStarting.template:
                return intent
            session_id = intent.event.removeprefix("session:")
            try:
                url = live.join_link(course, session_id, intent.recipient)
            except BlendkitError:
                return None
            update = {"join_url": AnyHttpUrl(url)}
            return intent.with_context(intent.context.model_copy(update=update))

        def copied() -> list[Any]:
            due = planner.plan(course, NOW).due(
                NOW, horizon, skip=_LearnerStates(planner, course, NOW).skip
            )
            return [i for i in map(personalise, due) if i is not None]

        def rows(intents: list[Any]) -> list[dict[str, Any]]:
            return reminder_rows(intents, NOW)

        stored = rows(ours())
        assert stored == rows(copied()), "the rows differ"
        personal = sum(1 for row in stored if "?tk=" in row["context"])
        count = len(stored)
        del stored
        mine = median_stages_ms(ours, rows, repeats)
        theirs = median_stages_ms(copied, rows, repeats)
        store.dispose()
    emit(
        "reminders.planner_rows_personal_links_100k_x_20",
        mine["both"],
        theirs["both"],
        "the planner's plan, then each due sitting reminder's message copied with the link",
        learners=len(roll),
        events=20,
        horizon_hours=int(horizon.total_seconds() // 3600),
        rows=count,
        rows_with_own_link=personal,
        plan_ms=round(mine["alone"], 3),
        rows_ms=round(mine["both"] - mine["alone"], 3),
        peer_plan_ms=round(theirs["alone"], 2),
        blendkit_cpu_median_ms=round(mine["both_cpu"], 3),
        peer_cpu_median_ms=round(theirs["both_cpu"], 2),
        target_ms=2000,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    repeats = max(5, parser.parse_args().repeats)
    horizon = timedelta(hours=48)

    roll = learners(100_000)
    dated = events()

    def ours() -> list[Any]:
        return ReminderPlan(1, roll, dated).due(NOW, horizon)

    def peer() -> list[Any]:
        return due_per_learner(1, roll, dated, NOW, horizon)

    def rows(intents: list[Any]) -> list[dict[str, Any]]:
        return reminder_rows(intents, NOW)

    mine, theirs = ours(), peer()
    assert {i.key for i in mine} == {i.key for i in theirs}, "the plan and the loop disagree"
    stored = sorted(rows(mine), key=itemgetter("key"))
    assert stored == sorted(rows(theirs), key=itemgetter("key")), "the rows differ"
    del theirs, stored
    ours_ms = median_stages_ms(ours, rows, repeats)
    peer_ms = median_stages_ms(peer, rows, repeats)
    shape = {"learners": len(roll), "events": len(dated), "intents": len(mine), "horizon_hours": 48}
    emit(
        "reminders.plan_rows_100k_x_20",
        ours_ms["both"],
        peer_ms["both"],
        "per-learner loop over every event and offset, each row built from its message",
        **shape,
        rows=len(mine),
        plan_ms=round(ours_ms["alone"], 3),
        rows_ms=round(ours_ms["both"] - ours_ms["alone"], 3),
        blendkit_cpu_median_ms=round(ours_ms["both_cpu"], 3),
        peer_cpu_median_ms=round(peer_ms["both_cpu"], 2),
        target_ms=2000,
    )
    emit(
        "reminders.plan_100k_x_20",
        ours_ms["alone"],
        peer_ms["alone"],
        "per-learner loop over every event and offset",
        **shape,
        blendkit_cpu_median_ms=round(ours_ms["alone_cpu"], 3),
        peer_cpu_median_ms=round(peer_ms["alone_cpu"], 2),
    )
    del mine

    # The same with a personal join link for every learner in every sitting's reminders.
    links = {p.sub: {"join_url": f"https://meet.example/j/1?tk={p.sub}"} for p in roll}
    linked = [replace(e, personal=links) if e.event.startswith("session:") else e for e in dated]

    def own_links() -> list[Any]:
        return ReminderPlan(1, roll, linked).due(NOW, horizon)

    def loop_links() -> list[Any]:
        return due_per_learner(1, roll, linked, NOW, horizon)

    stored = sorted(rows(own_links()), key=itemgetter("key"))
    assert stored == sorted(rows(loop_links()), key=itemgetter("key")), "the rows differ"
    personal = sum(1 for row in stored if "?tk=" in row["context"])
    del stored
    own = median_stages_ms(own_links, rows, repeats)
    loop = median_stages_ms(loop_links, rows, repeats)
    emit(
        "reminders.plan_rows_personal_links_100k_x_20",
        own["both"],
        loop["both"],
        "per-learner loop over every event and offset, each row built from its message",
        **shape,
        rows_with_own_link=personal,
        plan_ms=round(own["alone"], 3),
        rows_ms=round(own["both"] - own["alone"], 3),
        blendkit_cpu_median_ms=round(own["both_cpu"], 3),
        peer_cpu_median_ms=round(loop["both_cpu"], 2),
    )
    planner_figure(repeats, horizon)

    quiet = NOW + timedelta(days=80)  # after the term: nothing is due
    for count in (1_000, 100_000):
        plan = ReminderPlan(1, learners(count), dated)
        assert plan.due(quiet, timedelta(hours=1)) == []
        emit(
            f"reminders.tick_nothing_due_{count}",
            median_ms(lambda plan=plan: plan.due(quiet, timedelta(hours=1)), repeats),  # type: ignore[misc]
            None,
            None,
            learners=count,
            intents=0,
        )

    for audience in (1_000, 10_000, 100_000):
        group = tuple(f"l{i}" for i in range(audience))
        plan = ReminderPlan(1, roll, events(group))
        window = (NOW + timedelta(hours=12), timedelta(hours=2))  # one 48 h reminder is due
        due = plan.due(*window)
        tick = median_stages_ms(
            lambda plan=plan, window=window: plan.due(*window),  # type: ignore[misc]
            rows,
            repeats,
        )
        emit(
            f"reminders.tick_due_{audience}",
            tick["alone"],
            None,
            None,
            learners=len(roll),
            intents=len(due),
            per_intent_us=round(tick["alone"] * 1000 / max(1, len(due)), 3),
            with_rows_ms=round(tick["both"], 3),
            per_row_us=round(tick["both"] * 1000 / max(1, len(due)), 3),
        )


if __name__ == "__main__":
    main()
