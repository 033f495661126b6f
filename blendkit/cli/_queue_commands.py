"""The commands every durable delivery queue shares (``blendkit outbox``, ``blendkit notify``):
``retry-dead``, ``prune`` and the body of ``run``, each built from what differs between queues
(names, settings, messages) so the two CLIs keep one behaviour."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import click

from blendkit.cli._shared import Stopper, handle_errors, migrated, settings
from blendkit.config import Settings
from blendkit.store import Store
from blendkit.store._queue import DeliveryReport

__all__ = ["Retention", "add_prune", "add_retry_dead", "deliver_until_stopped"]

_Report = TypeVar("_Report", bound=DeliveryReport)


def add_retry_dead(
    group: click.Group,
    *,
    argument: str,
    kind: type[str] | type[int],
    doc: str,
    retry: Callable[[Sequence[Any] | None], int],
    noun: str,
) -> None:
    """``<group> retry-dead [ARGUMENT]...``: queue dead rows again (all, or the ones named)."""

    @group.command(name="retry-dead", help=doc)
    @click.argument(argument, nargs=-1, type=kind)
    @handle_errors
    def retry_dead(**named: tuple[Any, ...]) -> None:
        moved = retry(list(named[argument]) or None)
        click.echo(f"queued {moved} {noun}(s) again")


@dataclass(frozen=True)
class Retention:
    """How one queue's ``prune`` reads its setting and words its answers."""

    setting: str
    """The setting as the messages name it, e.g. ``[xapi] keep_delivered_days``."""
    days: Callable[[Settings], float]
    option_help: str
    doc: str
    kept: str
    """What ``setting = 0`` keeps, e.g. ``delivered statements``."""
    pruned: str
    """What was deleted, e.g. ``delivered statement``."""


def add_prune(group: click.Group, retention: Retention, prune: Callable[[timedelta], int]) -> None:
    """``<group> prune [--older-than-days N]``: delete old finished rows (the setting's days by
    default; a setting of 0 keeps them)."""

    @group.command(name="prune", help=retention.doc)
    @click.option(
        "--older-than-days", type=click.FloatRange(0), default=None, help=retention.option_help
    )
    @handle_errors
    def prune_command(older_than_days: float | None) -> None:
        days = retention.days(settings()) if older_than_days is None else older_than_days
        if older_than_days is None and days == 0:
            click.echo(f"{retention.setting} = 0 keeps {retention.kept}; nothing pruned")
            return
        deleted = prune(timedelta(days=days))
        click.echo(f"pruned {deleted} {retention.pruned}(s) older than {days:g} day(s)")


def deliver_until_stopped(
    store: Store,
    stopper: Stopper,
    poll: float,
    *,
    database: str,
    started: str,
    deliver: Callable[[], _Report],
    summary: Callable[[_Report], str],
) -> None:
    """The body of a ``run`` command once its queue is built: wait for the database and its
    migrations, say it started, deliver until stopped, print what was done."""
    if not migrated(store, stopper, poll, database):
        click.echo("stopped before the database answered", err=True)
        return
    click.echo(started, err=True)
    click.echo(f"stopped: {summary(deliver())}", err=True)
