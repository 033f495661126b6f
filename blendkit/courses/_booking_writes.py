"""The writes of one booking: its row, a seat of the slot, the learner's count for the item and
the booking's xAPI statement in the outbox.

Each step refuses on its own (nothing returned): the booking row is unique per (slot, learner),
the seat is the slot's first free one that no other booker holds (``FOR UPDATE SKIP LOCKED``,
after the slot's row ``FOR SHARE`` while the slot is open: an instructor's edit or cancellation
waits for the booking, other bookers do not), and the count rises only below the item's limit.

On PostgreSQL the four are one statement of data-modifying CTEs, each step running only when
the one before it wrote: one round trip instead of four. SQLite (one writer at a time, and no
data-modifying CTE) runs them one after the other. Either way the caller's transaction rolls
back whatever a refused booking wrote.
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
    literal,
    select,
    update,
)
from sqlalchemy.dialects import postgresql

from blendkit.store import Store
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


def _seat_taken(*after: Any) -> tuple[Any, Any]:
    """UPDATE taking the slot's first free seat (only once ``after`` holds, on PostgreSQL),
    and the CTE of the slot's row while it is open."""
    open_slot = (
        select(_SLOT.id)
        .where(
            _SLOT.id == _SLOT_ID,
            _SLOT.course_id == _COURSE,
            _SLOT.cancelled.is_(False),
            _SLOT.start_utc > _NOW,
            *after,
        )
        .with_for_update(read=True)
        .cte("open_slot")
    )
    free = (
        select(_SEAT.seat)
        .where(_SEAT.slot_id == select(open_slot.c.id).scalar_subquery(), _SEAT.sub.is_(None))
        .order_by(_SEAT.seat)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    taken = (
        update(course_booking_seats)
        .where(_SEAT.slot_id == _SLOT_ID, _SEAT.seat == free, _SEAT.sub.is_(None))
        .values(sub=_SUB)
        .returning(_SEAT.seat)
    )
    return taken, open_slot


def _steps(store: Store) -> tuple[Insert, Any, Insert, Select[bool]]:
    """The booking row, the seat and the count, as three statements for ``store``, and the
    read that tells a closed slot from a full one (the outbox's row comes after the count)."""
    booking = (
        store.insert_ignoring_conflicts(course_bookings, "slot_id", "sub")
        .values(course_id=_COURSE, slot_id=_SLOT_ID, sub=_SUB, booked_at=_NOW)
        .returning(_BOOKING.id)
    )
    count = store.insert_or_add(
        course_booking_counts,
        ("course_id", "item", "sub"),
        {"course_id": _COURSE, "item": _ITEM, "sub": _SUB, "booked": 1},
        ("booked",),
        where=_COUNT.booked < _LIMIT,
    ).returning(_COUNT.booked)
    seat, open_slot = _seat_taken()
    return booking, seat, count, select(exists(open_slot.select()))


def _one_statement(outbox: OutboxOperations) -> Select[bool, bool, bool, bool, bool]:
    """PostgreSQL: the four steps as CTEs, each one conditional on the step before."""
    booking = (
        postgresql.insert(course_bookings)
        .values(course_id=_COURSE, slot_id=_SLOT_ID, sub=_SUB, booked_at=_NOW)
        .on_conflict_do_nothing(index_elements=["slot_id", "sub"])
        .returning(_BOOKING.id)
        .cte("booking")
    )
    taken, open_slot = _seat_taken(exists(booking.select()))
    seat = taken.cte("seat")
    raise_count = postgresql.insert(course_booking_counts).from_select(
        ["course_id", "item", "sub", "booked"],
        select(_COURSE, _ITEM, _SUB, literal(1)).where(exists(seat.select())),
    )
    counted = (
        raise_count.on_conflict_do_update(
            index_elements=["course_id", "item", "sub"],
            set_={"booked": _COUNT.booked + raise_count.excluded.booked},
            where=_COUNT.booked < _LIMIT,
        )
        .returning(_COUNT.booked)
        .cte("counted")
    )
    queued = outbox.row_insert(exists(counted.select())).returning(literal(1)).cte("queued")
    # A locking read to the store (FOR UPDATE with nothing of its own to lock: the CTEs take
    # their locks): on PostgreSQL a Store transaction opens at its first write or locking read,
    # so this statement runs inside the caller's transaction, never in autocommit.
    return select(
        exists(booking.select()).label("booked"),
        exists(seat.select()).label("seated"),
        exists(counted.select()).label("counted"),
        exists(open_slot.select()).label("open"),
        # Always false when the statement id was queued before (ignored, as emit does).
        exists(queued.select()).label("queued"),
    ).with_for_update()


_BUILT: dict[str, tuple[Insert, Any, Insert, Select[bool]]] = {}
_QUEUE: dict[str, Insert] = {}
_ONE_STATEMENT: list[Select[bool, bool, bool, bool, bool]] = []


def take_booking(
    outbox: OutboxOperations, s: Connection, values: Mapping[str, Any]
) -> Refused | None:
    """Write one booking on ``s`` (in the caller's transaction) and queue its statement in
    ``outbox``; the step that refused it, or None. ``values``: ``b_course_id``, ``b_slot_id``,
    ``b_sub``, ``b_item``, ``b_limit`` (the item's limit), ``b_now`` and the outbox's row
    (:meth:`blendkit.xapi.Outbox.row`)."""
    store = outbox.store
    if store.is_postgres:
        if not _ONE_STATEMENT:  # the same text for every outbox: built once per process
            _ONE_STATEMENT.append(_one_statement(outbox))
        row = s.execute(_ONE_STATEMENT[0], values).one()
        if not row.booked:
            return "already_booked"
        if not row.seated:
            return "full" if row.open else "closed"
        return None if row.counted else "limit"
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
