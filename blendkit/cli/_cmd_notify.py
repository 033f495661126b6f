"""``blendkit notify``: operate the durable notification queue (status, the deliverer process,
dead letters, retention)."""

from __future__ import annotations

import click

from blendkit.cli._queue_commands import (
    Retention,
    add_prune,
    add_retry_dead,
    deliver_until_stopped,
)
from blendkit.cli._shared import (
    Stopper,
    handle_errors,
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


add_retry_dead(
    notify,
    argument="ids",
    kind=int,
    doc="Queue dead reminders again (all of them, or only the queue IDS `status` shows).",
    retry=lambda ids: _queue().retry_dead(ids),
    noun="dead reminder",
)
add_prune(
    notify,
    Retention(
        setting="[notify] keep_sent_days",
        days=lambda config: config.notify.keep_sent_days,
        option_help="Delete finished reminders older than this ([notify] keep_sent_days by "
        "default).",
        doc="Delete old sent, cancelled and dropped reminders (never pending ones or dead "
        "letters).",
        kept="sent reminders",
        pruned="finished reminder",
    ),
    lambda age: _queue().prune_sent(age),
)


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
    deliver_until_stopped(
        store,
        stopper,
        poll,
        database="notification queue database",
        started="delivering reminders; stop with SIGTERM or Ctrl-C",
        deliver=lambda: queue.run_with_planner(
            stopper,
            poll_seconds=poll,
            planner=delivery.planner if plan else None,
            plan_every_seconds=config.notify.plan_every_seconds,
        ),
        summary=lambda report: (
            f"sent {report.delivered}, dead {report.dead}, retried {report.retried}"
        ),
    )


commands: list[click.Command] = [notify]
