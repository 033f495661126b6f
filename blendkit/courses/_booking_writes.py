"""The writes of one booking: a seat of the slot, its booking row, the learner's count for the
item and the booking's xAPI statement in the outbox.

The seat is the slot's first free one that no other booker holds (``FOR UPDATE SKIP LOCKED``,
after the slot's row ``FOR SHARE`` while the slot is open: an instructor's edit or cancellation
waits for the booking, other bookers do not); the booking row is unique per (slot, learner);
the count stays within the item's limit (a CHECK against the limit it was raised under).

On PostgreSQL the four are one statement of data-modifying CTEs that needs no transaction of its
own: whether the learner already holds the slot or the item's limit is read first, on the
statement's snapshot, and a seat is taken only when neither holds; the booking, the count and
the outbox row follow the seat. What the snapshot cannot see (the same learner booking at the
same moment) fails on a constraint, and a failed statement writes nothing. The statement runs
on the driver in one round trip (:class:`~blendkit.store._driver.DriverStatement`), or in a
savepoint of the caller's unit of work.

SQLite (one writer at a time, and no data-modifying CTE) runs the steps one after the other in a
write transaction that rolls back whatever a refused booking wrote.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from sqlalchemy import (
    BindParameter,
    Connection,
    Insert,
    Integer,
    Select,
    String,
    bindparam,
    exists,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError

from blendkit.store import Store
from blendkit.store._driver import DriverStatement
from blendkit.store._tables_booking import (
    course_booking_counts,
    course_booking_seats,
    course_booking_slots,
    course_bookings,
)
from blendkit.xapi._outbox_ops import OutboxOperations

__all__ = ["Refused", "take_booking"]

Refused = Literal["already_booked", "closed", "full", "limit"]
"""Which step refused a booking: the learner holds it, the slot was cancelled or has started,
no seat is free, or the learner holds the item's limit."""

_SLOT = course_booking_slots.c
_SEAT = course_booking_seats.c
_BOOKING = course_bookings.c
_COUNT = course_booking_counts.c
_COURSE = bindparam("b_course_id", type_=Integer)
_SLOT_ID = bindparam("b_slot_id", type_=String)
_SUB = bindparam("b_sub", type_=String)
_ITEM = bindparam("b_item", type_=String)
_LIMIT = bindparam("b_limit", type_=Integer)
_NOW: BindParameter[Any] = bindparam("b_now")

# The constraints a booking racing the same learner's other booking fails on.
_HELD_CONSTRAINTS = frozenset({"uq_course_bookings_slot_sub", "uq_course_booking_seats_slot_sub"})
_LIMIT_CONSTRAINT = "ck_course_booking_counts_within_limit"


def _open_slot(*also: Any) -> Any:
    """The CTE of the slot's row while it is open, locked FOR SHARE (with ``also`` computed
    for it)."""
    return (
        select(_SLOT.id, *also)
        .where(
            _SLOT.id == _SLOT_ID,
            _SLOT.course_id == _COURSE,
            _SLOT.cancelled.is_(False),
            _SLOT.start_utc > _NOW,
        )
        .with_for_update(read=True)
        .cte("open_slot")
    )


def _seat_taken(open_slot: Any, *only_if: Any) -> Any:
    """UPDATE taking the slot's first free seat (while ``only_if`` holds)."""
    free = (
        select(_SEAT.seat)
        .where(
            _SEAT.slot_id == select(open_slot.c.id).scalar_subquery(),
            _SEAT.sub.is_(None),
            *only_if,
        )
        .order_by(_SEAT.seat)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    return (
        update(course_booking_seats)
        .where(_SEAT.slot_id == _SLOT_ID, _SEAT.seat == free, _SEAT.sub.is_(None))
        .values(sub=_SUB)
        .returning(_SEAT.seat)
    )


def _count_raised(
    store: Store, select_from: Select[Any, Any, Any, Any, Any] | None = None
) -> Insert:
    """The learner's count for the item, raised by one under the limit (recorded with it)."""
    values = {"course_id": _COURSE, "item": _ITEM, "sub": _SUB, "booked": 1, "booked_limit": _LIMIT}
    if select_from is None:
        return store.insert_or_add(
            course_booking_counts,
            ("course_id", "item", "sub"),
            values,
            ("booked",),
            where=_COUNT.booked < _LIMIT,
            replace=("booked_limit",),
        ).returning(_COUNT.booked)
    # PostgreSQL: no WHERE; a count already at the limit fails the CHECK (the pre-check on
    # the snapshot refuses the ordinary case without an error).
    raise_count = postgresql.insert(course_booking_counts).from_select(list(values), select_from)
    return raise_count.on_conflict_do_update(
        index_elements=["course_id", "item", "sub"],
        set_={
            "booked": _COUNT.booked + raise_count.excluded.booked,
            "booked_limit": raise_count.excluded.booked_limit,
        },
    ).returning(_COUNT.booked)


def _one_statement(outbox: OutboxOperations) -> DriverStatement:
    """PostgreSQL: the checks and the four writes as one statement."""
    # Bookings by one learner for one item take turns (a transaction-scoped advisory lock,
    # taken with the slot's row, before any seat is looked at): a learner's attempts sent at
    # the same moment then meet the booking row and the count of the one before, and fail on
    # their constraints, instead of taking the slot's other seats and finding it full.
    learner = func.concat("blendkit.booking:", _COURSE, ":", _ITEM, ":", _SUB)
    open_slot = _open_slot(
        func.pg_advisory_xact_lock(func.hashtextextended(learner, 0)).label("turn")
    )
    held = exists().where(_BOOKING.slot_id == _SLOT_ID, _BOOKING.sub == _SUB)
    at_limit = exists().where(
        _COUNT.course_id == _COURSE,
        _COUNT.item == _ITEM,
        _COUNT.sub == _SUB,
        _COUNT.booked >= _LIMIT,
    )
    seat = _seat_taken(open_slot, ~held, ~at_limit).cte("seat")
    booking = (
        postgresql.insert(course_bookings)
        .from_select(
            ["course_id", "slot_id", "sub", "booked_at"],
            select(_COURSE, _SLOT_ID, _SUB, _NOW).where(exists(seat.select())),
        )
        .returning(_BOOKING.id)
        .cte("booking")
    )
    counted = _count_raised(
        outbox.store,
        select(_COURSE, _ITEM, _SUB, literal(1), _LIMIT).where(exists(booking.select())),
    ).cte("counted")
    queued = outbox.row_insert(exists(counted.select())).returning(literal(1)).cte("queued")
    return DriverStatement(
        select(
            exists(seat.select()).label("seated"),
            exists(open_slot.select()).label("open"),
            held.label("held"),
            at_limit.label("at_limit"),
            # Always false when the statement id was queued before (ignored, as emit does).
            exists(queued.select()).label("queued"),
        )
    )


def _steps(store: Store) -> tuple[Insert, Any, Insert, Select[bool]]:
    """SQLite: the booking row, the seat and the count, as three statements, and the read that
    tells a closed slot from a full one (the outbox's row comes after the count)."""
    booking = (
        store.insert_ignoring_conflicts(course_bookings, "slot_id", "sub")
        .values(course_id=_COURSE, slot_id=_SLOT_ID, sub=_SUB, booked_at=_NOW)
        .returning(_BOOKING.id)
    )
    open_slot = _open_slot()
    return booking, _seat_taken(open_slot), _count_raised(store), select(exists(open_slot.select()))


_BUILT: dict[str, tuple[Insert, Any, Insert, Select[bool]]] = {}
_QUEUE: dict[str, Insert] = {}
_ONE_STATEMENT: list[DriverStatement] = []


class _RollBack(Exception):
    """Leaves a SQLite booking's write transaction, undoing what it wrote."""

    def __init__(self, refused: Refused) -> None:
        super().__init__(refused)
        self.refused = refused


def take_booking(outbox: OutboxOperations, values: Mapping[str, Any]) -> Refused | None:
    """Write one booking and queue its statement in ``outbox`` (in the caller's unit of work
    when one is open, else on its own); the step that refused it, or None. ``values``:
    ``b_course_id``, ``b_slot_id``, ``b_sub``, ``b_item``, ``b_limit`` (the item's limit),
    ``b_now`` and the outbox's row (:meth:`blendkit.xapi.Outbox.row`)."""
    store = outbox.store
    if store.is_postgres:
        if not _ONE_STATEMENT:  # the same text for every outbox: built once per process
            _ONE_STATEMENT.append(_one_statement(outbox))
        try:
            (row,) = _ONE_STATEMENT[0].rows(store, values, savepoint=True)
        except IntegrityError as exc:
            constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
            if constraint in _HELD_CONSTRAINTS:
                return "already_booked"
            if constraint == _LIMIT_CONSTRAINT:
                return "limit"
            raise
        if row.seated:
            return None
        if not row.open:
            return "closed"
        if row.held:
            return "already_booked"
        return "limit" if row.at_limit else "full"
    try:
        with store.write_transaction(savepoint=True) as s:
            refused = _sqlite_steps(outbox, s, values)
            if refused is not None:
                raise _RollBack(refused)
    except _RollBack as undone:
        return undone.refused
    return None


def _sqlite_steps(
    outbox: OutboxOperations, s: Connection, values: Mapping[str, Any]
) -> Refused | None:
    store = outbox.store
    steps = _BUILT.get(store.dialect)
    if steps is None:
        steps = _BUILT[store.dialect] = _steps(store)
    booking, seat, count, still_open = steps
    if s.execute(booking, values).first() is None:
        return "already_booked"
    # The seat before the count: a booker who finds none gives up at once.
    if s.execute(seat, values).first() is None:
        return "full" if s.execute(still_open, values).scalar_one() else "closed"
    if s.execute(count, values).first() is None:
        return "limit"
    queue = _QUEUE.get(store.dialect)
    if queue is None:
        queue = _QUEUE[store.dialect] = outbox.row_insert()
    s.execute(queue, values)
    return None
