"""``blendkit path advise``: how to deliver each item of a path, and its design pitfalls."""

from __future__ import annotations

import json
from pathlib import Path as FilePath

import click
from rich.console import Console
from rich.table import Table

from blendkit.advisor import AdvisorThresholds, CohortFacts, CourseAdvice, advise
from blendkit.cli._cmd_path import _FILE, _instant, _read, path
from blendkit.cli._cmd_sessions import read_cohort_file
from blendkit.cli._shared import handle_errors
from blendkit.errors import ScheduleError
from blendkit.progression import parse_path

__all__ = ["EXIT_FINDINGS", "commands"]

EXIT_FINDINGS = 1
"""``path advise`` found at least one pitfall (0: none; 2: the input was refused)."""


def _zone_counts(values: tuple[str, ...]) -> dict[str, str]:
    """Learners from ``--zones ZONE=COUNT`` options, named ``<zone>#<n>``."""
    learners: dict[str, str] = {}
    for value in values:
        zone, _, count = value.partition("=")
        try:
            number = int(count) if count else 1
        except ValueError:
            number = 0
        if not zone.strip() or number < 1:
            raise ScheduleError(
                f"--zones {value!r} must be a time zone and a learner count, e.g. Asia/Tokyo=12"
            )
        learners |= {f"{zone.strip()}#{n}": zone.strip() for n in range(1, number + 1)}
    return learners


def _print(advice: CourseAdvice, title: str) -> None:
    console = Console(width=140)
    table = Table(title=f"{title} — delivery")
    for column in ("item", "recommendation", "rule", "why"):
        table.add_column(column)
    for rec in advice.recommendations:
        label = rec.id if rec.subject == "item" else f"session {rec.id}"
        table.add_row(label, rec.mode.replace("_", " "), rec.rule, rec.reason)
    console.print(table)
    if advice.live_share is not None:
        click.echo(
            f"{advice.learners} learners in {advice.time_zones} time zones; one weekly live slot "
            f"serves {advice.live_share:.0%}"
            + (" (globally distributed)" if advice.global_cohort else "")
        )
    for slot in advice.office_hours:
        click.echo(
            f"office hours: {slot.weekday_name} {slot.utc_start:%H:%M} UTC "
            f"({slot.inside_every_week} of {slot.learners} learners inside local hours)"
        )
    if not advice.findings:
        click.echo("no pitfalls found")
        return
    findings = Table(title="pitfalls")
    for column in ("rule", "where", "finding", "why", "fix"):
        findings.add_column(column)
    for f in advice.findings:
        findings.add_row(f.rule, f.subject, f.message, f.why, f.fix)
    console.print(findings)


@path.command("advise")
@click.argument("path_file", type=_FILE)
@click.option(
    "--learners",
    "learners_file",
    type=_FILE,
    help="Cohort CSV with the header learner,time_zone (as for 'sessions plan').",
)
@click.option(
    "--zones",
    multiple=True,
    metavar="ZONE=COUNT",
    help="Learners per time zone, e.g. --zones Asia/Tokyo=12 (repeatable; adds to --learners).",
)
@click.option(
    "--at", "at", metavar="ISO_TIME", help="Plan the term from here if the path has no start."
)
@click.option("--lecture-minutes", type=click.FloatRange(min=1), default=60, show_default=True,
              help="Live sessions longer than this need polls or questions.")  # fmt: skip
@click.option("--content-items", type=click.IntRange(min=1), default=15, show_default=True,
              help="Paths this long need a gate, deadline or milestone.")  # fmt: skip
@click.option("--micro-minutes", type=click.FloatRange(min=1), default=10, show_default=True,
              help="The longest micro-learning unit.")  # fmt: skip
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
)
@handle_errors
def advise_cmd(
    *,
    path_file: FilePath,
    learners_file: FilePath | None,
    zones: tuple[str, ...],
    at: str | None,
    lecture_minutes: float,
    content_items: int,
    micro_minutes: float,
    fmt: str,
) -> None:
    """Recommend how to deliver each item (synchronous, asynchronous, office hours, recording,
    micro-learning) with the rule and evidence behind it, and list the design pitfalls.

    Exit status: 0 when no pitfall is found, 1 when there are findings, 2 when the input is
    refused.
    """
    course = parse_path(_read(path_file))
    learners = dict(read_cohort_file(learners_file)[0]) if learners_file else {}
    learners |= _zone_counts(zones)
    limits = AdvisorThresholds(
        lecture_minutes=lecture_minutes, content_items=content_items, micro_minutes=micro_minutes
    )
    advice = advise(course, now=_instant(at), cohort=CohortFacts(zones=learners), thresholds=limits)
    if fmt == "json":
        click.echo(json.dumps(advice.to_json(), indent=2, ensure_ascii=False))
    else:
        _print(advice, course.title or course.id)
    if advice.findings:
        raise SystemExit(EXIT_FINDINGS)


commands: list[click.Command] = []
"""``advise`` joins the ``path`` group, which ``_cmd_path`` lists."""
