"""``blendkit grades``: deliver queued scores to the platforms' gradebooks (LTI AGS)."""

from __future__ import annotations

import logging

import click
import httpx
from sqlalchemy.exc import SQLAlchemyError

from blendkit.cli._shared import Stopper, handle_errors, open_store, settings
from blendkit.courses import GradePassback, GradeReport
from blendkit.errors import StoreError
from blendkit.http import CircuitBreaker
from blendkit.lti import AccessTokens, KeySet, StorePlatformRegistry

__all__ = ["commands"]


def _passback(http: httpx.Client) -> GradePassback:
    store = open_store()
    return GradePassback(
        store, StorePlatformRegistry(store), AccessTokens(KeySet(store), http=http)
    )


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
    hand and exits 0.
    """
    if not loop:
        with httpx.Client(timeout=settings().lti.http_timeout_seconds) as http:
            _report(_passback(http).deliver_due(limit))
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    stopper = Stopper()
    outage = CircuitBreaker(
        "grade delivery (database)",
        initial_seconds=poll_seconds,
        max_seconds=max(poll_seconds, 300),
    )
    with httpx.Client(timeout=settings().lti.http_timeout_seconds) as http:
        passback: GradePassback | None = None
        while not stopper():
            try:
                passback = passback or _passback(http)
                report = passback.deliver_due(limit)
            except (SQLAlchemyError, StoreError, httpx.HTTPError) as exc:
                outage.failure(f"{type(exc).__name__}: {_first_line(exc)}")
                stopper.sleep(outage.wait_seconds())
                continue
            outage.success()
            _report(report)
            stopper.sleep(poll_seconds)


def _first_line(exc: BaseException) -> str:
    origin = getattr(exc, "orig", None) or exc
    return (str(origin).strip().splitlines() or [""])[0][:200]


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


commands: list[click.Command] = [grades]
