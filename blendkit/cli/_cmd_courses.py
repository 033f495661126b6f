"""``blendkit grades``: deliver queued scores to the platforms' gradebooks (LTI AGS);
``blendkit courses``: list courses and assign those from before deployment tenancy."""

from __future__ import annotations

import logging
import time
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
from blendkit.courses import (
    CourseAssignments,
    GradePassback,
    GradeReport,
    prune_learner_requests,
)
from blendkit.http import CircuitBreaker
from blendkit.lti import StorePlatformRegistry, Tenant
from blendkit.store import Store
from blendkit.store._queue import DATABASE_ERRORS
from blendkit.store._queue_loop import describe_outage

__all__ = ["commands"]

_log = logging.getLogger("blendkit.courses")


def _passback(http: httpx.Client) -> GradePassback:
    store = open_store()
    return GradePassback(store, StorePlatformRegistry(store), access_tokens(store, http))


@click.group()
def grades() -> None:
    """Scores waiting for, or done with, passback to the LMS gradebooks."""


@grades.command()
@handle_errors
def status() -> None:
    """Show how many scores are pending, sent and failed."""
    with httpx.Client(timeout=settings().lti.http_timeout_seconds) as http:
        for key, count in _passback(http).counts().items():
            click.echo(f"{key}: {count}")


@grades.command()
@click.option("--limit", default=200, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--loop", is_flag=True, help="Keep delivering until SIGTERM/SIGINT.")
@click.option("--poll-seconds", default=30.0, show_default=True, type=click.FloatRange(0.1))
@handle_errors
def deliver(limit: int, loop: bool, poll_seconds: float) -> None:
    """Send due scores; failures stay queued with their reason and are retried later.

    With --loop, a database or network error never ends the process: it is logged once when it
    starts and once when it is over, and retried with backoff; SIGTERM finishes the scores in
    hand and exits 0. It also deletes learner request keys older than [courses]
    keep_request_days, once an hour.
    """
    if not loop:
        with httpx.Client(timeout=settings().lti.http_timeout_seconds) as http:
            _report(_passback(http).deliver_due(limit))
        return
    start_service_logging()
    stopper = Stopper()
    outage = CircuitBreaker(
        "grade delivery (database)",
        initial_seconds=poll_seconds,
        max_seconds=max(poll_seconds, 300),
    )
    pruning = _HourlyPrune(settings().courses.keep_request_days)
    with httpx.Client(timeout=settings().lti.http_timeout_seconds) as http:
        passback: GradePassback | None = None
        while not stopper():
            try:
                passback = passback or _passback(http)
                report = passback.deliver_due(limit)
                pruning.step(passback.store)
            except (*DATABASE_ERRORS, httpx.HTTPError) as exc:
                outage.failure(_describe(exc))
                stopper.sleep(outage.wait_seconds())
                continue
            outage.success()
            _report(report)
            stopper.sleep(poll_seconds)


def _describe(exc: BaseException) -> str:
    """Class and code of a database error (never its values); a network error's first line."""
    if isinstance(exc, DATABASE_ERRORS):
        return describe_outage(exc)
    first = (str(exc).strip().splitlines() or [""])[0][:200]
    return f"{type(exc).__name__}: {first}"


def _report(report: GradeReport) -> None:
    click.echo(f"sent: {report.sent}, retry later: {report.retried}, failed: {report.failed}")
    for error in report.errors[:5]:
        click.echo(f"  {error}", err=True)


@grades.command(name="retry-failed")
@handle_errors
def retry_failed() -> None:
    """Queue scores that gave up (after fixing the platform registration) again."""
    with httpx.Client(timeout=settings().lti.http_timeout_seconds) as http:
        click.echo(f"queued again: {_passback(http).retry_failed()}")


@click.group()
def courses() -> None:
    """Courses and the deployment (institution) each belongs to."""


@courses.command(name="list")
@click.option("--unassigned", is_flag=True, help="Only courses waiting for a deployment.")
@handle_errors
def list_courses(unassigned: bool) -> None:
    """List courses with issuer, client id, deployment and context (unassigned ones also show
    the deployments their stored launches came from)."""
    assignments = CourseAssignments(open_store())
    found = assignments.courses(unassigned_only=unassigned)
    for course in found:
        deployment = course.deployment_id if course.deployment_id is not None else "UNASSIGNED"
        click.echo(
            f"{course.id}\t{course.issuer}\tclient {course.client_id or '-'}\t"
            f"deployment {deployment}\tcontext {course.context_id}\t{course.title}"
        )
        if course.deployment_id is None:
            seen = assignments.launched_from(course)
            names = ", ".join(f"{t.client_id}/{t.deployment_id}" for t in seen) or "none stored"
            click.echo(f"\tlaunched from (client/deployment): {names}")
    click.echo(f"{len(found)} course(s)")


@courses.command(name="assign-deployment")
@click.argument("course_id", type=int)
@click.option("--client-id", required=True, help="Client id of the registration.")
@click.option("--deployment-id", required=True, help="Deployment the course belongs to.")
@handle_errors
def assign_deployment(course_id: int, client_id: str, deployment_id: str) -> None:
    """Give an unassigned course (from before deployment tenancy) to one deployment.

    Launches of that deployment into the course's context reach it (with its learners, evidence
    and xAPI activity id) from then on; launches of any other deployment never do.
    """
    assignments = CourseAssignments(open_store())
    course = next((c for c in assignments.courses() if c.id == course_id), None)
    if course is None:
        fail(f"course {course_id} does not exist; `blendkit courses list` names them")
        return
    tenant = Tenant(issuer=course.issuer, client_id=client_id, deployment_id=deployment_id)
    assigned = assignments.assign(course_id, tenant)
    click.echo(f"course {assigned.id} ({assigned.title}) now belongs to {tenant}")


@courses.command(name="prune-requests")
@click.option(
    "--older-than-days",
    type=click.FloatRange(0, min_open=True),
    default=None,
    help="Delete keys older than this ([courses] keep_request_days by default).",
)
@handle_errors
def prune_requests(older_than_days: float | None) -> None:
    """Delete the idempotency keys of learner forms older than the retention window (a form
    resent after that is recorded as new; `grades deliver --loop` does this every hour)."""
    days = settings().courses.keep_request_days if older_than_days is None else older_than_days
    if days == 0:
        click.echo("[courses] keep_request_days = 0 keeps request keys; nothing pruned")
        return
    deleted = prune_learner_requests(open_store(), timedelta(days=days))
    click.echo(f"pruned {deleted} learner request key(s) older than {days:g} day(s)")


class _HourlyPrune:
    """Request-key retention inside ``grades deliver --loop``: at start, then every hour."""

    def __init__(self, days: float) -> None:
        self.keep = timedelta(days=days) if days else None
        self.next_at = 0.0

    def step(self, store: Store) -> None:
        if self.keep is None or time.monotonic() < self.next_at:
            return
        deleted = prune_learner_requests(store, self.keep)
        self.next_at = time.monotonic() + 3600
        if deleted:
            _log.info("grades: pruned %d learner request key(s) older than %s", deleted, self.keep)


commands: list[click.Command] = [grades, courses]
