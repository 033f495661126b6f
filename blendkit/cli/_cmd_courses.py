"""``blendkit grades``: deliver queued scores to the platforms' gradebooks (LTI AGS)."""

from __future__ import annotations

import signal
import time
from types import FrameType

import click
import httpx

from blendkit.cli._shared import handle_errors, open_store, settings
from blendkit.courses import GradePassback
from blendkit.http import Fence
from blendkit.lti import AccessTokens, KeySet, StorePlatformRegistry

__all__ = ["commands"]


def _passback(http: httpx.Client) -> GradePassback:
    store = open_store()
    tokens = AccessTokens(KeySet(store), http=http, fence=Fence.from_settings(settings()))
    return GradePassback(store, StorePlatformRegistry(store), tokens)


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
    """Send due scores; failures stay queued with their reason and are retried later."""
    stop = False

    def _stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stop
        stop = True

    if loop:
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
    with httpx.Client(timeout=settings().lti.http_timeout_seconds) as http:
        passback = _passback(http)
        while True:
            report = passback.deliver_due(limit)
            click.echo(
                f"sent: {report.sent}, retry later: {report.retried}, failed: {report.failed}"
            )
            for error in report.errors[:5]:
                click.echo(f"  {error}", err=True)
            if not loop or stop:
                return
            time.sleep(poll_seconds)


@grades.command(name="retry-failed")
@handle_errors
def retry_failed() -> None:
    """Queue scores that gave up (after fixing the platform registration) again."""
    with httpx.Client(timeout=settings().lti.http_timeout_seconds) as http:
        click.echo(f"queued again: {_passback(http).retry_failed()}")


commands: list[click.Command] = [grades]
