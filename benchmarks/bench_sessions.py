"""Live-sessions core: attendance merge + mapping, and cohort slot planning, against naive peers.

Figures (one JSON line each, medians of --repeats runs, peers measured in the same run):

- ``sessions.attendance_10k``: 10,000 participant records (rejoins, second devices, overlaps,
  open intervals, unmatched guests) of 2,000 learners merged and mapped into a report.
  Peer: the obvious implementation that marks every minute present in a per-learner set.
- ``sessions.plan_2000_30_zones``: 2,000 learners in 30 zones, 15-week term, 90-minute sessions
  on a 30-minute grid. Peer: zones grouped, every occurrence converted with datetime directly.
- ``sessions.plan_2000_all_zones``: the same with learners spread over every IANA zone (no peer:
  it is the worst case for the grouping, reported for scale).
- ``sessions.plan_2000_30_zones_vs_previous``: the 30-zone case against the planner before
  weekdays and hours were read on each learner's own clock (``plan_slots`` as of commit
  ``PREVIOUS``, read from git history and run on today's clock and model modules; skipped
  outside a git checkout).

    .venv/bin/python benchmarks/bench_sessions.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time as clock
import types
import zoneinfo
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from blendkit.sessions import (
    JoinLink,
    Learner,
    Occurrence,
    ParticipantRecord,
    build_attendance_report,
    normalise_email,
    plan_slots,
)

START = datetime(2026, 3, 3, 16, 0, tzinfo=UTC)
LENGTH = 90
TERM = (date(2026, 2, 16), date(2026, 5, 31))  # 15 weeks
COMMON_ZONES = [
    "Europe/Berlin", "Europe/London", "Europe/Paris", "Europe/Madrid", "Europe/Warsaw",
    "Europe/Athens", "Europe/Istanbul", "Africa/Lagos", "Africa/Nairobi", "Africa/Johannesburg",
    "Africa/Cairo", "Asia/Dubai", "Asia/Kolkata", "Asia/Karachi", "Asia/Dhaka",
    "Asia/Bangkok", "Asia/Shanghai", "Asia/Singapore", "Asia/Tokyo", "Asia/Seoul",
    "Australia/Sydney", "Australia/Perth", "Pacific/Auckland", "America/New_York",
    "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Mexico_City",
    "America/Sao_Paulo", "America/Bogota",
]  # fmt: skip


def median_ms(func: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        began = clock.perf_counter()
        func()
        times.append(clock.perf_counter() - began)
    return statistics.median(times) * 1000


def attendance_case(seed: int = 7) -> tuple[list[ParticipantRecord], list[Learner], list[JoinLink]]:
    rnd = random.Random(seed)
    learners = [
        Learner(id=f"l{i}", email=f"learner{i}@example.org", provider_user_ids=(f"u{i}",))
        for i in range(2000)
    ]
    links = [
        JoinLink(meeting_id="m", learner_id=f"l{i}", url="https://x/j", registrant_id=f"r{i}")
        for i in range(0, 2000, 2)
    ]
    records = []
    for n in range(10_000):
        i = rnd.randrange(2200)  # about 9 % are guests outside the roster
        key = rnd.choice(["registrant_id", "provider_user_id", "email"])
        ids = {
            "registrant_id": {"registrant_id": f"r{i}"},
            "provider_user_id": {"provider_user_id": f"u{i}"},
            "email": {"email": f" Learner{i}@Example.org"},
        }[key]
        join = rnd.randrange(-20 * 60, (LENGTH + 10) * 60)  # seconds, as providers report
        leave = None if rnd.random() < 0.05 else join + rnd.randrange(60, 3600)
        records.append(
            ParticipantRecord(
                join_time=START + timedelta(seconds=join),
                leave_time=None if leave is None else START + timedelta(seconds=leave),
                connection_id=f"c{n % 3}",
                display_name=f"Person {i}",
                **ids,
            )
        )
    return records, learners, links


def naive_attendance(
    records: list[ParticipantRecord],
    learners: list[Learner],
    links: list[JoinLink],
    resolution: int = 60,
) -> dict[str, int]:
    """Time present per learner (in ``resolution`` units), marking every covered unit in a set.

    With minutes the answer is only exact for whole-minute data; with seconds (the resolution
    providers report) it is exact, and the cost grows with the length of the meeting.
    """
    by_registrant = {link.registrant_id: link.learner_id for link in links}
    by_user = {u: learner.id for learner in learners for u in learner.provider_user_ids}
    by_email = {normalise_email(learner.email): learner.id for learner in learners}
    minutes: dict[str, set[int]] = defaultdict(set)
    for record in records:
        learner = (
            by_registrant.get(record.registrant_id)
            or by_user.get(record.provider_user_id or "")
            or by_email.get(normalise_email(record.email))
        )
        if learner is None:
            continue
        end = LENGTH * 60 // resolution
        first = int((record.join_time - START).total_seconds() // resolution)
        last = (
            end
            if record.leave_time is None
            else int((record.leave_time - START).total_seconds() // resolution)
        )
        minutes[learner].update(range(max(first, 0), min(last, end)))
    return {learner: len(covered) for learner, covered in minutes.items() if covered}


def naive_plan(learners: dict[str, str], length: int, grid: int) -> list[tuple[int, int, int]]:
    """(worst week, weekday, minute) per slot: zones grouped, datetime conversion per occurrence."""
    by_zone: dict[str, int] = defaultdict(int)
    for zone in learners.values():
        by_zone[zone] += 1
    zones = {name: zoneinfo.ZoneInfo(name) for name in by_zone}
    days = [TERM[0] + timedelta(days=n) for n in range((TERM[1] - TERM[0]).days + 1)]
    results = []
    for weekday in range(7):
        dates = [d for d in days if d.weekday() == weekday]
        for minute in range(0, 1440, grid):
            counts = []
            for day in dates:
                start = datetime.combine(day, time(minute // 60, minute % 60), UTC)
                end = start + timedelta(minutes=length)
                inside = 0
                for name, size in by_zone.items():
                    local_start, local_end = (
                        start.astimezone(zones[name]),
                        end.astimezone(zones[name]),
                    )
                    if (
                        local_start.date() == local_end.date()
                        and local_start.weekday() < 5  # Monday to Friday, local
                        and local_start.time() >= time(8)
                        and local_end.time() <= time(21)
                    ):
                        inside += size
                counts.append(inside)
            results.append((min(counts), weekday, minute))
    return results


PREVIOUS = "ad508ed"
"""The last commit whose planner counted UTC weekdays and one course-wide window."""


def previous_plan_slots() -> Callable[..., Any] | None:
    """``plan_slots`` of :data:`PREVIOUS`, or None outside a git checkout with that history."""
    root = Path(__file__).resolve().parents[1]
    try:
        source = subprocess.run(
            ["git", "show", f"{PREVIOUS}:blendkit/sessions/_schedule.py"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    module = types.ModuleType("blendkit_previous_schedule")
    sys.modules[module.__name__] = module  # its dataclasses look their module up
    exec(compile(source, f"{PREVIOUS}:_schedule.py", "exec"), module.__dict__)
    return module.plan_slots  # type: ignore[no-any-return]


def emit(figure: str, ours: float, peer: float | None, peer_name: str | None, **extra: Any) -> None:
    line: dict[str, Any] = {"figure": figure, "blendkit_median_ms": round(ours, 2)}
    if peer is not None:
        line |= {
            "peer": peer_name,
            "peer_median_ms": round(peer, 2),
            "speedup": round(peer / ours, 2),
        }
    print(json.dumps(line | extra))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    repeats = max(5, parser.parse_args().repeats)

    records, learners, links = attendance_case()
    occurrence = Occurrence(index=0, start_utc=START, end_utc=START + timedelta(minutes=LENGTH))
    report = build_attendance_report(
        records, learners, occurrence, meeting_id="m", join_links=links
    )
    ours_seconds = {
        a.learner_id: round(a.minutes_present * 60) for a in report.attendance if a.attended
    }
    assert ours_seconds == naive_attendance(records, learners, links, 1), "peer disagrees"
    emit(
        "sessions.attendance_10k",
        median_ms(
            lambda: build_attendance_report(
                records, learners, occurrence, meeting_id="m", join_links=links
            ),
            repeats,
        ),
        median_ms(lambda: naive_attendance(records, learners, links, 1), repeats),
        "second-by-second sets (exact at the providers' resolution)",
        records=len(records),
        learners=len(learners),
        unmatched=len(report.unmatched),
        target_ms=100,
    )
    emit(
        "sessions.attendance_10k_vs_minutes",
        median_ms(
            lambda: build_attendance_report(
                records, learners, occurrence, meeting_id="m", join_links=links
            ),
            repeats,
        ),
        median_ms(lambda: naive_attendance(records, learners, links), repeats),
        "minute-by-minute sets (approximate, minutes only, no report values)",
    )

    rnd = random.Random(11)
    cohort = {f"l{i}": rnd.choice(COMMON_ZONES) for i in range(2000)}
    plan = plan_slots(cohort, term_start=TERM[0], term_end=TERM[1], duration_minutes=LENGTH, top=1)
    reference = max(naive_plan(cohort, LENGTH, 30), key=lambda r: r[0])[0]
    assert plan.slots[0].worst_week_inside == reference, "planner and the naive peer disagree"
    run = lambda: plan_slots(  # noqa: E731
        cohort, term_start=TERM[0], term_end=TERM[1], duration_minutes=LENGTH, per_week=2
    )
    emit(
        "sessions.plan_2000_30_zones",
        median_ms(run, repeats),
        median_ms(lambda: naive_plan(cohort, LENGTH, 30), repeats),
        "per-zone datetime conversion of every occurrence",
        learners=2000,
        zones=len(set(cohort.values())),
        weeks=15,
        per_week=2,
    )
    previous = previous_plan_slots()
    if previous is not None:
        emit(
            "sessions.plan_2000_30_zones_vs_previous",
            median_ms(run, repeats),
            median_ms(
                lambda: previous(
                    cohort,
                    term_start=TERM[0],
                    term_end=TERM[1],
                    duration_minutes=LENGTH,
                    per_week=2,
                ),
                repeats,
            ),
            f"the planner of {PREVIOUS} (UTC weekdays, one window, no coverage)",
            learners=2000,
            zones=len(set(cohort.values())),
        )
    every = sorted(zoneinfo.available_timezones())
    spread = {f"l{i}": rnd.choice(every) for i in range(2000)}
    emit(
        "sessions.plan_2000_all_zones",
        median_ms(
            lambda: plan_slots(
                spread, term_start=TERM[0], term_end=TERM[1], duration_minutes=LENGTH, per_week=2
            ),
            repeats,
        ),
        None,
        None,
        learners=2000,
        zones=len(set(spread.values())),
        weeks=15,
    )


if __name__ == "__main__":
    main()
