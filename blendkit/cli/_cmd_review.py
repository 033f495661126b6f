"""``blendkit review allocate``: run peer-review allocation on every course (for cron)."""

from __future__ import annotations

import click

from blendkit.cli._shared import handle_errors, open_store, settings
from blendkit.courses import CourseService
from blendkit.review import PeerReviewService
from blendkit.xapi import Outbox, StatementFactory

__all__ = ["commands"]


@click.group()
def review() -> None:
    """Peer review: allocation of reviewers."""


@review.command()
@handle_errors
def allocate() -> None:
    """Place new submissions and replace reviewers who missed the review deadline, on every
    peer review of every course (pages do it when opened; run this from cron so it happens
    when nobody opens one)."""
    store = open_store()
    config = settings()
    courses = CourseService(
        store,
        outbox=Outbox.from_settings(config, store=store),
        statements=StatementFactory(config.tool.base_url),
    )
    for course, item, change in PeerReviewService(courses).allocate_all():
        click.echo(
            f"{course.id}\t{course.title}\t{item}: {len(change.added)} assigned, "
            f"{len(change.dropped)} taken back, {len(change.placed)} submission(s) placed"
        )


commands: list[click.Command] = [review]
