"""A learner's stored evidence as a timeline, replayed through the gates (see
:mod:`blendkit.progression._replay`): the one place the store's rows become engine evidence.

Each stored piece happened at its own time when it carries one (a score's ``at``, the end of the
attended meeting), never later than when it was stored; overrides at the moment an instructor
granted them. Enrolment, groups and roles are facts without a moment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import TypeAdapter
from sqlalchemy import Connection, bindparam, exists, literal_column, null, select, update
from sqlalchemy.orm import Session

from blendkit.courses._models import Enrolment, aware
from blendkit.courses._records import CourseRecords, override_piece
from blendkit.errors import ItemLocked
from blendkit.progression import (
    Enrolled,
    Evidence,
    EvidencePiece,
    GroupJoined,
    RoleGranted,
    TimedPiece,
)
from blendkit.store._tables_courses import course_enrolments, course_evidence, course_overrides

__all__ = ["Timeline", "item_locked", "moment", "serialise_learner"]

_PIECE: TypeAdapter[EvidencePiece] = TypeAdapter(EvidencePiece)
# Built once: they run on every page a learner opens. The evidence query carries one more row,
# all NULL, when the learner has overrides: most learners have none, and their timeline then
# costs one round trip instead of two.
_EVIDENCE = (
    select(course_evidence.c.id, course_evidence.c.piece, course_evidence.c.recorded_at)
    .where(
        course_evidence.c.course_id == bindparam("course_id"),
        course_evidence.c.sub == bindparam("sub"),
    )
    .union_all(
        select(null(), null(), null()).where(
            exists().where(
                course_overrides.c.course_id == bindparam("course_id"),
                course_overrides.c.sub == bindparam("sub"),
            )
        )
    )
    .order_by(literal_column("id"))
)
_OVERRIDES = (
    select(course_overrides)
    .where(
        course_overrides.c.course_id == bindparam("course_id"),
        course_overrides.c.sub == bindparam("sub"),
    )
    .order_by(course_overrides.c.id)
)
_TOUCH_ENROLMENT = (
    update(course_enrolments)
    .where(
        course_enrolments.c.course_id == bindparam("c_id"),
        course_enrolments.c.sub == bindparam("c_sub"),
    )
    .values(sub=course_enrolments.c.sub)
)


def moment(piece: EvidencePiece, stored_at: datetime) -> datetime:
    """When ``piece`` happened: its own time if it has one, never later than it was stored."""
    stored = aware(stored_at)
    own = piece.activity_at()
    return min(own, stored) if own is not None else stored


def item_locked(item: str | None) -> ItemLocked:
    """The refusal for work on an item the learner cannot open yet."""
    return ItemLocked(
        f"{item!r} is still locked for this learner: its page lists what to complete first; "
        "an instructor can unlock it with an override",
        code="courses.item_locked",
        http_status=403,
    )


def serialise_learner(s: Connection | Session, course_id: int, sub: str) -> None:
    """Take the learner's enrolment row lock for the rest of the transaction, so read-check-
    write sequences of one learner (attempt limits) run one after the other on SQLite and
    PostgreSQL alike."""
    s.execute(_TOUCH_ENROLMENT, {"c_id": course_id, "c_sub": sub})


@dataclass(frozen=True)
class Timeline:
    """One learner's base facts and time-ordered pieces, with the evidence row of each piece."""

    base: Evidence
    pieces: list[TimedPiece]
    rows: list[int | None]
    """Evidence row id of each piece (None for overrides)."""

    @classmethod
    def load(cls, s: Connection | Session, course_id: int, person: Enrolment) -> Timeline:
        """Read the learner's evidence and override rows (in the caller's transaction)."""
        key = {"course_id": course_id, "sub": person.sub}
        rows = s.execute(_EVIDENCE, key).all()
        overridden = any(row.id is None for row in rows)  # the marker: the learner has overrides
        return cls.from_rows(
            s, course_id, person, [r for r in rows if r.id is not None], overridden
        )

    @classmethod
    def from_rows(
        cls,
        s: Connection | Session | None,
        course_id: int,
        person: Enrolment,
        evidence: Sequence[tuple[int, str, datetime]],
        overridden: bool,
    ) -> Timeline:
        """The timeline from evidence rows the caller read (``(id, piece, recorded_at)`` in id
        order, joined to a read of its own); the override rows are read on ``s`` when
        ``overridden`` (``s`` may be None otherwise)."""
        base_pieces: list[EvidencePiece] = []
        if person.enrolled_at is not None:
            base_pieces.append(Enrolled(at=person.enrolled_at))
        base_pieces.extend(GroupJoined(group=g) for g in person.groups)
        base_pieces.extend(RoleGranted(role=r) for r in person.roles)
        base = Evidence(learner=person.sub).apply_all(base_pieces)
        pieces: list[TimedPiece] = []
        rows: list[int | None] = []
        for row_id, stored, recorded_at in evidence:
            piece = _PIECE.validate_json(stored)
            pieces.append(TimedPiece(at=moment(piece, recorded_at), piece=piece))
            rows.append(row_id)
        if overridden and s is None:
            raise TypeError("the override rows are read on a connection: pass one")
        key = {"course_id": course_id, "sub": person.sub}
        for row in s.execute(_OVERRIDES, key).all() if overridden and s is not None else ():
            record = CourseRecords._override(row)
            pieces.append(TimedPiece(at=aware(record.at), piece=override_piece(record)))
            rows.append(None)
        return cls(base=base, pieces=pieces, rows=rows)

    def with_pieces(self, extra: list[TimedPiece]) -> Timeline:
        """This timeline with ``extra`` pieces (not stored yet) at the end."""
        return Timeline(
            base=self.base, pieces=[*self.pieces, *extra], rows=[*self.rows, *(None,) * len(extra)]
        )
