"""``blendkit outbox`` and ``blendkit statements``: operate the xAPI outbox, move statements."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import cast

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

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
from blendkit.errors import XAPIError
from blendkit.store import Store
from blendkit.xapi import Outbox, Statement, parse_statement
from blendkit.xapi._outbox import ExportState

__all__ = ["commands"]

_IMPORT_CHUNK = 1000


def _outbox() -> Outbox:
    return Outbox.from_settings(settings(), store=open_store())


@click.group()
def outbox() -> None:
    """Inspect and drive the durable xAPI outbox."""


@outbox.command()
@handle_errors
def status() -> None:
    """Show pending, delivered and dead-letter counts and the next retry time."""
    box = _outbox()
    st = box.status()
    click.echo(f"pending: {st.pending}")
    click.echo(f"delivered: {st.delivered}")
    click.echo(f"dead: {st.dead}")
    if st.next_attempt_at is not None:
        click.echo(f"next attempt: {st.next_attempt_at.isoformat()}")
    if st.last_error:
        click.echo(f"last error: {st.last_error}")
    if box.client is None:
        click.echo("LRS: none configured ([xapi] endpoint); statements are kept locally")
    for letter in box.dead_letters(limit=5):
        click.echo(f"dead {letter.statement_id}: {letter.reason}")


@outbox.command()
@click.option(
    "--max-seconds",
    type=float,
    default=60.0,
    show_default=True,
    help="Give up retrying transient failures after this long.",
)
@handle_errors
def flush(max_seconds: float) -> None:
    """Deliver everything pending now; exit 0 only when nothing is left pending."""
    box = _outbox()
    if box.client is None:
        click.echo(
            f"error: no LRS configured ([xapi] endpoint); {box.status().pending} statement(s) "
            "stay pending locally (export them with `blendkit statements export`)",
            err=True,
        )
        sys.exit(1)
    report = box.flush(max_seconds=max_seconds)
    st = box.status()
    click.echo(f"delivered {report.delivered}, dead {report.dead}, still pending {st.pending}")
    if st.pending:
        if st.last_error:
            click.echo(f"error: {st.last_error}", err=True)
        sys.exit(1)


add_retry_dead(
    outbox,
    argument="statement_ids",
    kind=str,
    doc="Queue dead letters again (all of them, or only STATEMENT_IDS).",
    retry=lambda ids: _outbox().retry_dead(ids),
    noun="dead letter",
)
add_prune(
    outbox,
    Retention(
        setting="[xapi] keep_delivered_days",
        days=lambda config: config.xapi.keep_delivered_days,
        option_help="Delete delivered statements older than this ([xapi] keep_delivered_days "
        "by default).",
        doc="Delete old delivered statements (never pending ones or dead letters), in small "
        "batches.",
        kept="delivered statements",
        pruned="delivered statement",
    ),
    lambda age: _outbox().prune_delivered(age),
)


@outbox.command()
@click.option("--poll-seconds", type=float, default=None, help="Idle wait between checks.")
@handle_errors
def run(poll_seconds: float | None) -> None:
    """Deliver continuously until SIGTERM/SIGINT (the production deliverer process).

    Run one or several (PostgreSQL: they share the work without sending a statement twice).
    Database and LRS outages are logged once per change and retried; they never end the
    process. SIGTERM finishes the batch in flight and exits 0. Delivered statements older than
    [xapi] keep_delivered_days are pruned as it goes.
    """
    start_service_logging()
    config = settings()
    stopper = Stopper()
    store = Store.from_settings(config)
    box = Outbox.from_settings(config, store=store)
    box.sleep = stopper.sleep
    if box.client is None:
        click.echo("error: no LRS configured ([xapi] endpoint); nothing to deliver to", err=True)
        sys.exit(2)
    poll = poll_seconds or config.xapi.poll_seconds
    deliver_until_stopped(
        store,
        stopper,
        poll,
        database="outbox database",
        started="delivering; stop with SIGTERM or Ctrl-C",
        deliver=lambda: box.run(stopper, poll_seconds=poll),
        summary=lambda report: f"delivered {report.delivered}, dead {report.dead}",
    )


@click.group()
def statements() -> None:
    """Export and import xAPI statements as JSON lines."""


@statements.command(name="export")
@click.option("--format", "fmt", type=click.Choice(["jsonl"]), default="jsonl", show_default=True)
@click.option(
    "--state",
    type=click.Choice(["all", "pending", "delivered", "dead"]),
    default="all",
    show_default=True,
)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None)
@handle_errors
def export(fmt: str, state: str, output: Path | None) -> None:
    """Write the stored statements, one JSON statement per line (stdout by default)."""
    box = _outbox()
    which = cast(ExportState, state)
    if output is None:
        count = box.export(sys.stdout.buffer, state=which)
    else:
        with output.open("wb") as target:
            count = box.export(target, state=which)
    click.echo(f"exported {count} statement(s) as {fmt}", err=True)


def _queue(box: Outbox, chunk: list[tuple[int, Statement]], bad: list[str]) -> int:
    """Queue a chunk; if the chunk fails as a whole, queue its statements one by one so each
    bad one is reported by its line and no good one is lost with it."""
    if not chunk:
        return 0
    try:
        return len(box.emit([statement for _, statement in chunk]))
    except XAPIError:
        queued = 0
        for number, statement in chunk:
            try:
                queued += len(box.emit(statement))
            except XAPIError as exc:
                bad.append(f"line {number}: {exc.message} [{exc.code}]")
        return queued


@statements.command(name="import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--no-deliver", is_flag=True, help="Only queue; do not deliver afterwards.")
@handle_errors
def import_(file: Path, no_deliver: bool) -> None:
    """Validate each line of FILE (JSONL), queue the valid ones, report bad lines, deliver.

    A bad line is reported with its number and never keeps the good lines around it from being
    queued; the exit status is 2 when any line was rejected.
    """
    box = _outbox()
    bad: list[str] = []
    queued = 0
    chunk: list[tuple[int, Statement]] = []
    lines = file.read_bytes().splitlines()
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as progress:
        task = progress.add_task("importing", total=len(lines))
        for number, line in enumerate(lines, start=1):
            if line.strip():
                try:
                    statement = parse_statement(line, version=box.version)
                    box.prepare(statement)  # serialisable as stored, or this line alone fails
                    chunk.append((number, statement))
                except XAPIError as exc:
                    bad.append(f"line {number}: {exc.message} [{exc.code}]")
            if len(chunk) >= _IMPORT_CHUNK:
                queued += _queue(box, chunk, bad)
                chunk = []
            progress.advance(task)
        queued += _queue(box, chunk, bad)
    for problem in sorted(bad, key=lambda text: int(text.split(":")[0].removeprefix("line "))):
        click.echo(problem, err=True)
    click.echo(f"queued {queued} statement(s); rejected {len(bad)} line(s)")
    if box.client is not None and not no_deliver:
        report = box.flush()
        click.echo(f"delivered {report.delivered}, dead {report.dead}")
    if bad:
        sys.exit(2)


commands: list[click.Command] = [outbox, statements]
