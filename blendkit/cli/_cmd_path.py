"""``blendkit path``: check a learner's path, convert Moodle availability JSON, print templates."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path as FilePath

import click
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from blendkit.cli._shared import handle_errors
from blendkit.errors import PathInvalid, ProgressionError
from blendkit.limits import DOCUMENT_LIMITS
from blendkit.progression import (
    Evidence,
    MoodleIds,
    TimedPiece,
    at_risk,
    condition_from_dict,
    dump_condition,
    dump_path,
    evaluate,
    export_moodle,
    gated_item,
    import_moodle,
    parse_evidence_history,
    parse_path,
    replay,
    template,
    template_names,
)
from blendkit.progression import Path as CoursePath
from blendkit.progression._documents import error_lines, parse_document

__all__ = ["commands"]

_FILE = click.Path(exists=True, dir_okay=False, path_type=FilePath)


def _read(path: FilePath) -> bytes:
    """The bytes of a document file, never more than the document cap (checked, not cut)."""
    cap = DOCUMENT_LIMITS.max_bytes
    try:
        with path.open("rb") as handle:
            data = handle.read(cap + 1)
    except OSError as exc:
        raise ProgressionError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > cap:
        raise PathInvalid(
            f"{path} is larger than {cap} bytes, the most a document may hold",
            code="document.too_large",
        )
    return data


def _instant(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ProgressionError(
            f"--at {value!r} is not an ISO 8601 time (e.g. 2026-01-05T09:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        raise ProgressionError(
            f"--at {value!r} has no timezone: add Z or an offset (e.g. 2026-01-05T09:00:00Z)"
        )
    return moment.astimezone(UTC)


def _ids(path: FilePath | None) -> MoodleIds:
    if path is None:
        return MoodleIds()
    data = parse_document(_read(path), what="id mapping")
    try:
        return MoodleIds.model_validate(data)
    except ValidationError as exc:
        raise ProgressionError(f"{path}: not a Moodle id mapping ({error_lines(exc)[0]})") from None


@click.group()
def path() -> None:
    """Course paths: check states, advise on design, convert Moodle JSON, print templates."""


@path.command()
@click.argument("path_file", type=_FILE)
@click.option(
    "--evidence",
    "evidence_file",
    type=_FILE,
    required=True,
    help="Learner evidence (JSON or YAML).",
)
@click.option("--at", "at", metavar="ISO_TIME", help="Evaluate at this time (default: now).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@handle_errors
def check(path_file: FilePath, evidence_file: FilePath, at: str | None, as_json: bool) -> None:
    """Print each item's state and, for locked items, why.

    Evidence about an item that is locked completes nothing. A "history" in the evidence
    document (pieces with the moment each happened) is replayed in time order through the gates,
    as the app replays stored evidence: pieces that arrived while their item was locked are
    listed as held and never count.
    """
    course = parse_path(_read(path_file))
    moment = _instant(at)
    evidence, held = _learner_evidence(course, evidence_file, moment)
    result = evaluate(course, evidence, moment)
    if as_json:
        out = result.to_json()
        out["held"] = [
            {"at": p.at.isoformat(), "kind": p.piece.kind, "item": gated_item(p.piece)}
            for p in held
        ]
        click.echo(json.dumps(out, indent=2, ensure_ascii=False))
        return
    table = Table(title=f"{course.title or course.id} — {evidence.learner or 'learner'}")
    table.add_column("item")
    table.add_column("state")
    table.add_column("why")
    for status in result.items:
        why = "\n".join(reason.message for reason in status.reasons)
        table.add_row(status.id, status.state, why)
    Console(width=120).print(table)
    for piece in held:
        click.echo(
            f"held (its item was locked then; never counts): {piece.piece.kind} on "
            f"{gated_item(piece.piece)} at {piece.at.isoformat()}"
        )


def _learner_evidence(
    course: CoursePath, evidence_file: FilePath, moment: datetime
) -> tuple[Evidence, list[TimedPiece]]:
    """The evidence that counts, and the history pieces held because their item was locked."""
    evidence, history = parse_evidence_history(_read(evidence_file))
    if not history:
        return evidence, []
    replayed = replay(course, evidence, history, moment)
    return replayed.evidence, [history[n] for n in replayed.held]


@path.command()
@click.argument("path_file", type=_FILE)
@click.option("--evidence", "evidence_file", type=_FILE, required=True, help="Learner evidence.")
@click.option("--at", "at", metavar="ISO_TIME", help="Evaluate at this time (default: now).")
@handle_errors
def risks(path_file: FilePath, evidence_file: FilePath, at: str | None) -> None:
    """Print pacing and at-risk signals for one learner, one reason per line."""
    course = parse_path(_read(path_file))
    moment = _instant(at)
    evidence, _ = _learner_evidence(course, evidence_file, moment)
    for signal in at_risk(course, evidence, moment):
        click.echo(f"{signal.kind}: {signal.reason}")


@path.command()
@click.argument("path_file", type=_FILE)
@handle_errors
def validate(path_file: FilePath) -> None:
    """Check a path document (shape, item references, cycles)."""
    course = parse_path(_read(path_file))
    count = sum(1 for _ in course.items())
    click.echo(f"{path_file}: valid path {course.id!r} with {count} items")


@path.command("import-moodle")
@click.argument("file", type=_FILE)
@click.option("--ids", "ids_file", type=_FILE, help="Moodle id → blendkit id mapping (JSON/YAML).")
@handle_errors
def import_moodle_cmd(file: FilePath, ids_file: FilePath | None) -> None:
    """Print the blendkit condition equal to a Moodle availability JSON document."""
    condition = import_moodle(_read(file), _ids(ids_file))
    click.echo(json.dumps(dump_condition(condition), indent=2, ensure_ascii=False))


@path.command("export-moodle")
@click.argument("file", type=_FILE)
@click.option("--ids", "ids_file", type=_FILE, help="Moodle id → blendkit id mapping (JSON/YAML).")
@handle_errors
def export_moodle_cmd(file: FilePath, ids_file: FilePath | None) -> None:
    """Print the Moodle availability JSON equal to a blendkit condition document."""
    condition = condition_from_dict(parse_document(_read(file), what="condition"))
    click.echo(json.dumps(export_moodle(condition, _ids(ids_file))))


@path.command("template")
@click.argument("name", type=click.Choice(template_names()))
@click.option("--start", metavar="ISO_TIME", help="Course start (default: now).")
@click.option(
    "--format", "fmt", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True
)
@handle_errors
def template_cmd(name: str, start: str | None, fmt: str) -> None:
    """Print a template path to edit and save."""
    course = template(name, _instant(start))
    click.echo(dump_path(course, "json" if fmt == "json" else "yaml"), nl=False)


commands: list[click.Command] = [path]
