"""``blendkit roster``: read courses' rosters through NRPS into their enrolments (the whole
roster, not only the people who launched), once or as the long-running sync process."""

from __future__ import annotations

import logging
from datetime import timedelta

import click
import httpx

from blendkit.cli._shared import (
    Stopper,
    access_tokens,
    fail,
    handle_errors,
    open_store,
    settings,
    start_service_logging,
)
from blendkit.courses import RosterReport, RosterSync
from blendkit.errors import NotFound
from blendkit.http import CircuitBreaker
from blendkit.lti import StorePlatformRegistry
from blendkit.store._queue import DATABASE_ERRORS
from blendkit.store._queue_loop import describe_outage

__all__ = ["commands"]

_log = logging.getLogger("blendkit.roster")


def _sync(http: httpx.Client, every_hours: float) -> RosterSync:
    store = open_store()
    return RosterSync(
        store,
        StorePlatformRegistry(store),
        access_tokens(store, http),
        every=timedelta(hours=every_hours),
    )


@click.group()
def roster() -> None:
    """Course rosters read from the platforms (LTI Names and Role Provisioning Services)."""


def _line(report: RosterReport) -> str:
    if report.error:
        return (
            f"course {report.course_id}: {report.mode} read failed, retried later: {report.error}"
        )
    return (
        f"course {report.course_id}: {report.mode} read of {report.read} member(s) in "
        f"{report.pages} page(s): {report.added} added, {report.updated} updated, "
        f"{report.deactivated} made inactive"
    )


@roster.command()
@click.option("--course", "course_id", type=int, default=None, help="Sync this course only.")
@click.option("--full", is_flag=True, help="Read the whole roster, not the differences.")
@click.option("--loop", is_flag=True, help="Keep syncing until SIGTERM/SIGINT.")
@click.option(
    "--interval",
    default=30.0,
    show_default=True,
    type=click.FloatRange(0.1),
    help="Seconds between looks for requested or stale courses (with --loop).",
)
@click.option(
    "--every-hours",
    default=6.0,
    show_default=True,
    type=click.FloatRange(0.01),
    help="A course is synced again when its last sync is older than this.",
)
@handle_errors
def sync(
    course_id: int | None, full: bool, loop: bool, interval: float, every_hours: float
) -> None:
    """Sync the rosters of courses an instructor's launch asked for, and of those not synced
    for --every-hours (or one --course now).

    Members who have not launched yet become enrolments marked not launched; members the
    platform dropped become inactive (their records stay). With --loop, a database or network
    error never ends the process: it is logged once when it starts and once when it is over;
    SIGTERM finishes the course in hand and exits 0.
    """
    if loop and course_id is not None:
        fail("--loop syncs every due course; leave out --course")
    if not loop:
        with httpx.Client(timeout=settings().lti.http_timeout_seconds) as http:
            syncer = _sync(http, every_hours)
            if course_id is not None:
                try:
                    reports = [syncer.sync(course_id, full=full)]
                except NotFound as exc:
                    fail(str(exc))
            else:
                reports = syncer.sync_due()
        for report in reports:
            click.echo(_line(report))
        click.echo(f"{len(reports)} course(s) synced")
        if any(r.error for r in reports):
            raise SystemExit(1)
        return
    _run_loop(interval, every_hours)


def _run_loop(interval: float, every_hours: float) -> None:
    start_service_logging()
    stopper = Stopper()
    outage = CircuitBreaker(
        "roster sync (database)", initial_seconds=interval, max_seconds=max(interval, 300)
    )
    failing: set[int] = set()
    with httpx.Client(timeout=settings().lti.http_timeout_seconds) as http:
        syncer: RosterSync | None = None
        while not stopper():
            try:
                syncer = syncer or _sync(http, every_hours)
                reports = syncer.sync_due(should_stop=stopper)
            except (*DATABASE_ERRORS, httpx.HTTPError) as exc:
                outage.failure(
                    describe_outage(exc) if isinstance(exc, DATABASE_ERRORS) else type(exc).__name__
                )
                stopper.sleep(outage.wait_seconds())
                continue
            outage.success()
            for report in reports:
                # One line when a course starts failing and one when it is back, not per pass.
                if report.error and report.course_id not in failing:
                    failing.add(report.course_id)
                    _log.warning("roster: %s", _line(report))
                elif not report.error:
                    if report.course_id in failing:
                        failing.discard(report.course_id)
                        _log.warning("roster: course %d syncs again", report.course_id)
                    _log.info("roster: %s", _line(report))
            stopper.sleep(interval)


commands: list[click.Command] = [roster]
