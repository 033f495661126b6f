"""``blendkit notify``: operate the durable notification queue (status, the deliverer process,
dead letters, retention)."""

from __future__ import annotations

from datetime import timedelta

import click

from blendkit.cli._shared import (
    Stopper,
    handle_errors,
    migrated,
    open_store,
    settings,
    start_service_logging,
)
from blendkit.courses import reminder_delivery
from blendkit.notify import NotificationQueue
from blendkit.store import Store

__all__ = ["commands"]


def _queue() -> NotificationQueue:
    return NotificationQueue.from_settings(settings(), store=open_store())


@click.group()
def notify() -> None:
    """Inspect and drive the durable notification queue."""


@notify.command()
@handle_errors
def status() -> None:
    """Show pending, sent, cancelled, dropped and dead counts and the next due time."""
    queue = _queue()
    st = queue.status()
    for name in ("pending", "sent", "cancelled", "dropped", "dead"):
        click.echo(f"{name}: {getattr(st, name)}")
    if st.next_attempt_at is not None:
        click.echo(f"next attempt: {st.next_attempt_at.isoformat()}")
    if st.oldest_pending_at is not None:
        click.echo(f"oldest pending since: {st.oldest_pending_at.isoformat()}")
    if st.last_error:
        click.echo(f"last error: {st.last_error}")
    for letter in queue.dead_letters(limit=5):
        click.echo(f"dead {letter.id} ({letter.event}, {letter.notifier}): {letter.reason}")


@notify.command(name="retry-dead")
@click.argument("ids", nargs=-1, type=int)
@handle_errors
def retry_dead(ids: tuple[int, ...]) -> None:
    """Queue dead reminders again (all of them, or only the queue IDS `status` shows)."""
    moved = _queue().retry_dead(list(ids) or None)
    click.echo(f"queued {moved} dead reminder(s) again")


@notify.command()
@click.option(
    "--older-than-days",
    type=click.FloatRange(0),
    default=None,
    help="Delete finished reminders older than this ([notify] keep_sent_days by default).",
)
@handle_errors
def prune(older_than_days: float | None) -> None:
    """Delete old sent, cancelled and dropped reminders (never pending ones or dead letters)."""
    config = settings()
    days = config.notify.keep_sent_days if older_than_days is None else older_than_days
    if older_than_days is None and days == 0:
        click.echo("[notify] keep_sent_days = 0 keeps sent reminders; nothing pruned")
        return
    deleted = _queue().prune_sent(timedelta(days=days))
    click.echo(f"pruned {deleted} finished reminder(s) older than {days:g} day(s)")


@notify.command()
@click.option("--poll-seconds", type=float, default=None, help="Idle wait between checks.")
@click.option(
    "--plan/--no-plan",
    default=True,
    show_default=True,
    help="Also plan the reminders falling due (unlocks, deadlines, sessions, recordings, "
    "nudges, digests) every [notify] plan_every_seconds; --no-plan only delivers what others "
    "queued.",
)
@handle_errors
def run(poll_seconds: float | None, plan: bool) -> None:
    """Deliver reminders continuously until SIGTERM/SIGINT (the production notifier process).

    Each run also plans what falls due (unless --no-plan) and applies every learner's
    preferences: channel, quiet hours, daily digest, the one-click unsubscribe link (signed
    with [tool] secret_key, or the key the tool generated and keeps in the database).
    Run one or several (PostgreSQL: they share the work without sending a reminder twice).
    Database and SMTP/webhook outages are logged once per change and retried; they never end
    the process. SIGTERM finishes the batch in flight and exits 0. Finished reminders older than
    [notify] keep_sent_days are pruned as it goes.
    """
    start_service_logging()
    config = settings()
    stopper = Stopper()
    store = Store.from_settings(config)
    delivery = reminder_delivery(config, store)
    queue = delivery.queue
    queue.sleep = stopper.sleep
    queue.notifier(config.notify.channel)  # a channel that cannot be built is refused now
    poll = poll_seconds or config.notify.poll_seconds
    if not migrated(store, stopper, poll, "notification queue database"):
        click.echo("stopped before the database answered", err=True)
        return
    click.echo("delivering reminders; stop with SIGTERM or Ctrl-C", err=True)
    report = queue.run_with_planner(
        stopper,
        poll_seconds=poll,
        planner=delivery.planner if plan else None,
        plan_every_seconds=config.notify.plan_every_seconds,
    )
    click.echo(
        f"stopped: sent {report.delivered}, dead {report.dead}, retried {report.retried}", err=True
    )


commands: list[click.Command] = [notify]
