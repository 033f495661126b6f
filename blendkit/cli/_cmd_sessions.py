"""``blendkit sessions``: plan time-zone-friendly slots and list meeting providers."""

from __future__ import annotations

import csv
import json
import sys
from collections import defaultdict
from collections.abc import Iterator
from contextlib import nullcontext
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from rich.console import Console
from rich.table import Table

from blendkit.cli._shared import handle_errors
from blendkit.errors import BlendkitError, ScheduleError
from blendkit.sessions import (
    Availability,
    LearnerOutside,
    SchedulePlan,
    SlotProposal,
    ZoneCoverage,
    available_meeting_providers,
    plan_slots,
)

if TYPE_CHECKING:
    from blendkit.courses import LiveSessionService

__all__ = ["commands", "read_cohort_file", "read_zone_file"]

HEADER = ["learner", "time_zone"]
HOURS = "hours"


def read_zone_file(path: Path) -> list[tuple[str, str]]:
    """``(learner, time_zone)`` pairs from a CSV file; errors name the line."""
    return read_cohort_file(path)[0]


def read_cohort_file(path: Path) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """``(learner, time_zone)`` pairs and each learner's own hours (optional third column)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScheduleError(f"cannot read zone file {path}: {exc}") from exc
    reader = csv.reader(text.splitlines())
    rows = _rows(reader, path)
    header = [cell.strip().lower() for cell in next(rows, [])]
    if header not in (HEADER, [*HEADER, HOURS]):
        raise ScheduleError(
            f"{path} line 1: the header must be 'learner,time_zone' or 'learner,time_zone,hours' "
            f"(found {_cut(','.join(header))!r})"
        )
    pairs: list[tuple[str, str]] = []
    hours: dict[str, str] = {}
    seen: dict[str, int] = {}
    known: set[str] = set()
    for row in rows:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise ScheduleError(
                f"{path} line {line}: expected {len(header)} columns, found {len(row)}"
            )
        learner, zone = row[0].strip(), row[1].strip()
        if not learner:
            raise ScheduleError(f"{path} line {line}: the learner column is empty")
        if learner in seen:
            raise ScheduleError(
                f"{path} line {line}: learner {_cut(learner)!r} is already listed on line "
                f"{seen[learner]}; list each learner once"
            )
        if zone not in known:
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
                raise ScheduleError(
                    f"{path} line {line}: unknown time zone {_cut(zone)!r} for learner "
                    f"{_cut(learner)!r}; use IANA names such as Europe/Berlin or America/New_York"
                ) from exc
            known.add(zone)
        seen[learner] = line
        pairs.append((learner, zone))
        if len(row) > 2 and row[2].strip():
            try:
                Availability.parse(row[2])
            except ScheduleError as exc:
                raise ScheduleError(f"{path} line {line}: {exc.message}") from None
            hours[learner] = row[2].strip()
    return pairs, hours


def _rows(reader: Iterator[list[str]], path: Path) -> Iterator[list[str]]:
    """The rows of ``reader``; a line the csv module cannot read is refused by its number."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line = getattr(reader, "line_num", "?")
            raise ScheduleError(f"{path} line {line}: not readable as CSV ({exc})") from None
        yield row


def _cut(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _parse_date(_ctx: click.Context, param: click.Parameter, value: str) -> date:
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()  # a calendar date
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date like 2026-03-02", param=param) from exc


_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _parse_weekdays(_ctx: click.Context, param: click.Parameter, value: str) -> tuple[int, ...]:
    names = [part.strip().lower()[:3] for part in value.split(",") if part.strip()]
    unknown = [name for name in names if name not in _DAYS]
    if unknown or not names:
        raise click.BadParameter(
            f"{value!r}: use weekday names such as mon,tue,wed (each learner's local weekdays)",
            param=param,
        )
    return tuple(sorted({_DAYS.index(name) for name in names}))


def _outside_summary(outside: tuple[LearnerOutside, ...], limit: int = 3) -> str:
    by_zone: dict[str, list[LearnerOutside]] = defaultdict(list)
    for item in outside:
        by_zone[item.time_zone].append(item)
    parts = []
    for zone, items in sorted(by_zone.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:limit]:
        dates = sorted({d for item in items for d in item.dates})
        span = (
            f"{dates[0]:%d %b}" if len(dates) == 1 else f"{len(dates)} dates from {dates[0]:%d %b}"
        )
        parts.append(f"{zone} ×{len(items)} ({span})")
    if len(by_zone) > limit:
        parts.append(f"+{len(by_zone) - limit} more zones")
    return "; ".join(parts) or "-"


def _coverage_summary(coverage: tuple[ZoneCoverage, ...], limit: int = 4) -> str:
    parts = [f"{c.time_zone} {len(c.attending)}/{c.learners}" for c in coverage[:limit]]
    if len(coverage) > limit:
        parts.append(f"+{len(coverage) - limit} more zones")
    return "; ".join(parts)


def _slot_table(title: str, slots: tuple[SlotProposal, ...]) -> Table:
    table = Table(title=title)
    columns = ("#", "slot (UTC)", "worst week", "average", "every week", "can attend", "outside")
    for column in columns:
        table.add_column(column, overflow="fold")
    for rank, slot in enumerate(slots, start=1):
        table.add_row(
            str(rank),
            f"{slot.weekday_name} {slot.utc_start:%H:%M}",
            f"{slot.worst_week_inside}/{slot.learners}",
            f"{slot.average_inside:g}",
            str(slot.inside_every_week),
            _coverage_summary(slot.coverage),
            _outside_summary(slot.outside),
        )
    return table


def _print_plan(plan: SchedulePlan) -> None:
    console = Console()
    console.print(
        f"{plan.learners} learners in {plan.time_zones} time zones, "
        f"{plan.term_start} to {plan.term_end}, {plan.duration_minutes}-minute sessions, "
        f"local hours {plan.local_start:%H:%M}-{plan.local_end:%H:%M} on "
        + ",".join(_DAYS[d] for d in plan.weekdays)
        + " in each learner's own zone"
    )
    console.print(_slot_table("Best single slots", plan.slots))
    for rank, slot in enumerate(plan.slots, start=1):
        for cover in slot.coverage:
            who = ", ".join(cover.attending) or "nobody"
            console.print(
                f"#{rank} {slot.label}: {cover.time_zone}: {len(cover.attending)} of "
                f"{cover.learners} can attend ({who})",
                soft_wrap=True,
            )
    if plan.per_week > 1:
        console.print(_slot_table(f"{plan.per_week} slots a week, chosen together", plan.chosen))
    console.print(f"Learners served every week: {plan.covered}/{plan.learners}")
    console.print(plan.recommendation.message)
    if plan.recommendation.office_hours:
        console.print(_slot_table("Suggested office hours", plan.recommendation.office_hours))


@click.group()
def sessions() -> None:
    """Live sessions: scheduling across time zones and meeting providers."""


@sessions.command()
@click.option(
    "--zones",
    "zones_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV file with the header 'learner,time_zone' (IANA names) and optionally 'hours' "
    "(a learner's own windows such as 18:00-21:00).",
)
@click.option("--from", "term_start", required=True, callback=_parse_date, help="First day.")
@click.option("--to", "term_end", required=True, callback=_parse_date, help="Last day.")
@click.option("--minutes", required=True, type=click.IntRange(1, 780), help="Session length.")
@click.option("--per-week", default=1, show_default=True, type=click.IntRange(1, 14))
@click.option(
    "--min-share",
    default=0.8,
    show_default=True,
    type=click.FloatRange(0, 1, min_open=True),
    help="Share of learners live sessions must serve; below it, asynchronous is advised.",
)
@click.option("--grid", default="30", show_default=True, type=click.Choice(["15", "30", "60"]))
@click.option(
    "--top", default=5, show_default=True, type=click.IntRange(1, 2016), help="Slots to list."
)
@click.option(
    "--weekdays",
    default="mon,tue,wed,thu,fri",
    show_default=True,
    callback=_parse_weekdays,
    help="Weekdays sessions may fall on in each learner's own zone, comma-separated.",
)
@click.option(
    "--hours",
    default="08:00-21:00",
    show_default=True,
    help="Local windows sessions must fit in, e.g. '09:00-17:00' or '09:00-12:00 18:00-21:00'; "
    "a learner's own hours in the zone file replace them.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@handle_errors
def plan(
    *,
    zones_file: Path,
    term_start: date,
    term_end: date,
    minutes: int,
    per_week: int,
    min_share: float,
    grid: str,
    top: int,
    weekdays: tuple[int, ...],
    hours: str,
    as_json: bool,
) -> None:
    """Propose weekly UTC slots that keep learners inside their local hours all term.

    Every occurrence is checked on its own date in each learner's zone, so daylight-saving
    changes (which differ between regions) are taken into account, and a session counts for a
    learner only on an allowed weekday of their own (Monday to Friday unless --weekdays says
    otherwise). Each slot lists who can attend, per zone.
    """
    learners, own_hours = read_cohort_file(zones_file)
    course = Availability.parse(hours, weekdays)
    availability = {
        lid: Availability.parse(own_hours[lid], weekdays) if lid in own_hours else course
        for lid, _ in learners
    }
    result = plan_slots(
        learners,
        availability=availability,
        local_start=min(a for a, _ in course.windows),
        local_end=max(b for _, b in course.windows),
        term_start=term_start,
        term_end=term_end,
        duration_minutes=minutes,
        per_week=per_week,
        min_share=min_share,
        grid_minutes=int(grid),
        top=top,
        weekdays=weekdays,
    )
    if as_json:
        click.echo(json.dumps(result.model_dump(mode="json"), indent=2))
    else:
        _print_plan(result)


@sessions.command()
def providers() -> None:
    """List the installed meeting providers (entry points blendkit.meeting_providers)."""
    found = available_meeting_providers()
    for name, factory in sorted(found.items()):
        click.echo(f"{name}\t{getattr(factory, '__module__', '?')}")
    if not found:
        click.echo("no meeting provider installed", err=True)


@sessions.command("import-ended")
@click.option(
    "--grace-minutes",
    default=15,
    show_default=True,
    type=click.IntRange(0, 24 * 60),
    help="Wait this long after a session's end (providers finish their reports late).",
)
@handle_errors
def import_ended(grace_minutes: int) -> None:
    """Import attendance and recordings of every ended session not imported yet, then the
    transcripts still missing as captions.

    Run it from cron for Teams (Graph sends no "meeting ended" event) and as a safety net for
    missed Zoom and Meet webhooks; it also renews the provider's expiring event subscriptions
    (Meet, Teams) and makes the missing ones of sessions with a sitting left (Teams); started on
    several hosts at once, one keeps the subscriptions and the others skip them. Exits 1 when
    a session or a transcript could not be imported (it is retried next run) or the
    subscriptions could not be renewed or made.
    """
    from blendkit.cli._shared import open_store, settings
    from blendkit.courses import CourseService, LiveSessionService
    from blendkit.sessions import SessionSubscriber, SubscriptionRenewer, load_meeting_provider
    from blendkit.store import exclusively
    from blendkit.xapi import Outbox, StatementFactory

    config = settings()
    store = open_store()
    courses = CourseService(
        store,
        outbox=Outbox.from_settings(config, store=store),
        statements=StatementFactory(config.tool.base_url),
    )
    provider = load_meeting_provider(config)
    live = LiveSessionService(courses, provider)
    failed = 0
    renewal_failed = False
    upkeep = isinstance(provider, SubscriptionRenewer | SessionSubscriber)
    # Cron may start this on several hosts at once: one of them keeps the subscriptions (two
    # would both find a session's missing and both make them), the others import only.
    with exclusively(store, "sessions.subscriptions") if upkeep else nullcontext(True) as ours:
        if upkeep and not ours:
            click.echo(
                f"{provider.name} event subscriptions: another process is keeping them now; "
                "skipped here"
            )
        else:
            renewal_failed = _keep_subscriptions(provider, live)
    outcomes = live.import_ended(now=datetime.now(UTC), grace_minutes=grace_minutes)
    for record, result in outcomes:
        if isinstance(result, BlendkitError):
            failed += 1
            click.echo(f"{record.title} ({record.id}): not imported: {result}", err=True)
        else:
            matched = len(result.attendance)
            click.echo(
                f"{record.title} ({record.id}): {matched} learner(s) matched, "
                f"{len(result.unmatched)} participant(s) unmatched"
            )
    click.echo(f"{len(outcomes) - failed} session(s) imported, {failed} failed")
    missed = 0
    for record, done in live.import_transcripts_due():
        if done.imported:
            click.echo(
                f"{record.title} ({record.id}): transcript kept as captions, {done.cues} cue(s)"
            )
        else:
            missed += 1
            click.echo(
                f"{record.title} ({record.id}): transcript {done.provider_id or '(listing)'} not "
                f"imported: [{done.error_code}] {done.reason}",
                err=True,
            )
    if failed or missed or renewal_failed:
        sys.exit(1)


commands: list[click.Command] = [sessions]


def _keep_subscriptions(provider: object, live: LiveSessionService) -> bool:
    """Renew the provider's expiring event subscriptions and make the missing ones of sessions
    with a sitting left (each where the provider does it); True when either failed."""
    from blendkit.sessions import SessionSubscriber, SubscriptionRenewer

    failed = False
    name = getattr(provider, "name", "provider")
    if isinstance(provider, SubscriptionRenewer):
        try:
            renewed = provider.renew_subscriptions(datetime.now(UTC))
        except BlendkitError as exc:  # still import: attendance does not need the events
            failed = True
            click.echo(f"{name} event subscriptions not renewed: {exc}", err=True)
        else:
            click.echo(f"{renewed} {name} event subscription(s) renewed")
    if isinstance(provider, SessionSubscriber):
        now = datetime.now(UTC)
        try:
            meetings = live.meetings_with_sittings_after(now - timedelta(days=1))
            made = provider.subscribe_missing(meetings, now)
        except BlendkitError as exc:
            failed = True
            click.echo(f"{name} event subscriptions not made: {exc}", err=True)
        else:
            click.echo(f"{made} missing {name} event subscription(s) made")
    return failed
