"""Office-hours seats: a slot holds one seat row per seat, bookings take free ones, and the seats
follow the instructor's capacity edits, cancellations and the migration of older bookings."""

from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor

import orjson
import pytest
from sqlalchemy import select, text

from blendkit import CoursesError
from blendkit.courses import Course, CourseService, Enrolment, OfficeHoursService
from blendkit.store import Store
from blendkit.store._tables_booking import course_booking_seats, course_bookings
from tests.courses.test_import_ended import clock, service
from tests.courses.test_office_hours import code_of, course_with, publish
from tests.store.test_courses_tenancy_migration import _alembic

__all__ = ["clock", "service"]

_SEAT = course_booking_seats.c


def seats(store: Store, slot_id: str) -> list[tuple[int, str | None]]:
    """The slot's seats in order, with who holds each (None: free)."""
    with store.transaction() as s:
        rows = s.execute(
            select(_SEAT.seat, _SEAT.sub).where(_SEAT.slot_id == slot_id).order_by(_SEAT.seat)
        ).all()
    return [(r.seat, r.sub) for r in rows]


def held(store: Store, slot_id: str) -> list[str]:
    return sorted(sub for _, sub in seats(store, slot_id) if sub is not None)


def two_seats_one_booked(service: CourseService) -> tuple[Course, OfficeHoursService, str]:
    """A course with a two-seat slot that learner-0 booked: the course, its hours, the slot."""
    course = course_with(service)
    hours = OfficeHoursService(service)
    (slot,) = publish(hours, course, capacity=2)
    hours.book(course, slot.id, "learner-0")
    return course, hours, slot.id


def test_a_slot_is_published_with_one_free_seat_per_place(
    service: CourseService, store: Store
) -> None:
    course = course_with(service)
    hours = OfficeHoursService(service)
    first, second = publish(hours, course, count=2, capacity=3)
    assert seats(store, first.id) == seats(store, second.id) == [(1, None), (2, None), (3, None)]
    hours.book(course, first.id, "learner-1")
    assert seats(store, first.id)[0] == (1, "learner-1")
    assert hours.slot(course, first.id).seats_left == 2


def test_a_cancelled_booking_frees_its_seat_for_the_next_booker(
    service: CourseService, store: Store
) -> None:
    course, hours, slot = two_seats_one_booked(service)
    hours.book(course, slot, "learner-1")
    assert code_of(lambda: hours.book(course, slot, "learner-2")) == "courses.slot_full"
    assert hours.cancel_booking(course, slot, "learner-0").booked == 1
    assert held(store, slot) == ["learner-1"]
    hours.book(course, slot, "learner-2")
    assert held(store, slot) == ["learner-1", "learner-2"]
    assert hours.slot(course, slot).full


def test_capacity_edits_add_and_remove_free_seats_only(
    service: CourseService, store: Store
) -> None:
    course = course_with(service, learners=5)
    hours = OfficeHoursService(service)
    (slot,) = publish(hours, course, capacity=4)
    for n in range(3):
        hours.book(course, slot.id, f"learner-{n}")
    hours.cancel_booking(course, slot.id, "learner-0")  # seat 1 free, seats 2 and 3 held
    assert code_of(lambda: hours.edit_slot(course, slot.id, capacity=1)) == (
        "courses.capacity_below_bookings"
    )
    assert len(seats(store, slot.id)) == 4  # the refused edit changed nothing
    lowered = hours.edit_slot(course, slot.id, capacity=2)
    assert (lowered.capacity, lowered.booked, lowered.full) == (2, 2, True)
    assert seats(store, slot.id) == [(2, "learner-1"), (3, "learner-2")]
    assert code_of(lambda: hours.book(course, slot.id, "learner-3")) == "courses.slot_full"
    raised = hours.edit_slot(course, slot.id, capacity=4)
    assert (raised.capacity, raised.seats_left) == (4, 2)
    assert [n for n, _ in seats(store, slot.id)] == [2, 3, 4, 5]
    hours.book(course, slot.id, "learner-3")
    hours.book(course, slot.id, "learner-4")
    assert held(store, slot.id) == [f"learner-{n}" for n in range(1, 5)]
    assert code_of(lambda: hours.book(course, slot.id, "learner-0")) == "courses.slot_full"


def test_a_cancelled_slot_frees_its_seats_and_takes_no_booking(
    service: CourseService, store: Store
) -> None:
    course, hours, slot = two_seats_one_booked(service)
    assert hours.cancel_slot(course, slot) == ["learner-0"]
    assert held(store, slot) == []
    assert code_of(lambda: hours.book(course, slot, "learner-1")) == "courses.slot_cancelled"
    assert held(store, slot) == []


def test_the_seats_migration_seats_existing_bookings_in_booking_order(
    service: CourseService, store: Store
) -> None:
    """booking_0002 on a database of booking_0001 (the slot's counter, no seat rows): every
    booking keeps its row and takes a seat, first booked first; the rest of the seats are free."""
    course = course_with(service, learners=5)
    hours = OfficeHoursService(service)
    full, empty = publish(hours, course, count=2, capacity=3)
    hours.book(course, full.id, "learner-2")
    hours.book(course, full.id, "learner-0")
    # Back to booking_0001: the bookings survive (on SQLite the slots table is rebuilt) and the
    # counter is filled in from them.
    _alembic(store, down="booking_0001")
    with store.engine.begin() as connection:
        counters = dict(
            connection.execute(text("SELECT id, booked FROM course_booking_slots")).all()
        )
        assert counters == {full.id: 2, empty.id: 0}
        connection.execute(
            text(
                "INSERT INTO course_bookings (course_id, slot_id, sub, booked_at, note)"
                " SELECT course_id, slot_id, 'learner-4', booked_at, '' FROM course_bookings"
                " WHERE sub = 'learner-0'"
            )
        )
        connection.execute(
            text("UPDATE course_booking_slots SET booked = 3 WHERE id = :id"), {"id": full.id}
        )
    _alembic(store, "heads")
    assert store.pending_migrations() == []
    with store.transaction() as s:
        subs = s.execute(
            select(course_bookings.c.sub)
            .where(course_bookings.c.slot_id == full.id)
            .order_by(course_bookings.c.id)
        ).scalars()
        assert list(subs) == ["learner-2", "learner-0", "learner-4"]
    assert seats(store, full.id) == [(1, "learner-2"), (2, "learner-0"), (3, "learner-4")]
    assert seats(store, empty.id) == [(1, None), (2, None), (3, None)]
    assert hours.slot(course, full.id).full
    assert code_of(lambda: hours.book(course, full.id, "learner-1")) == "courses.slot_full"
    hours.cancel_booking(course, full.id, "learner-0")
    hours.book(course, full.id, "learner-1")
    assert seats(store, full.id)[1] == (2, "learner-1")


def test_a_capacity_edit_racing_bookings_never_leaves_more_bookings_than_seats(
    service: CourseService, store: Store
) -> None:
    """Learners book while the instructor lowers the capacity: whichever wins, the slot ends
    with as many seat rows as its capacity and no more bookings than seats."""
    if not store.is_postgres:
        pytest.skip("SQLite takes one writer at a time: nothing races there")
    course = course_with(service, learners=0)
    learners = 12
    for n in range(learners):
        service.enrol(course, Enrolment(sub=f"p{n}", name=f"P{n}", time_zone="UTC"))
    hours = OfficeHoursService(service)
    (slot,) = publish(hours, course, capacity=10)
    start = threading.Barrier(learners + 1, timeout=30)

    def attempt(sub: str) -> str:
        start.wait()
        try:
            if sub == "instructor":
                hours.edit_slot(course, slot.id, capacity=4)
            else:
                hours.book(course, slot.id, sub)
        except CoursesError as exc:
            return exc.code
        return "done"

    with ThreadPoolExecutor(learners + 1) as pool:
        results = dict(
            zip(
                ["instructor", *(f"p{n}" for n in range(learners))],
                pool.map(attempt, ["instructor", *(f"p{n}" for n in range(learners))]),
                strict=True,
            )
        )
    after = hours.slot(course, slot.id)
    assert len(seats(store, slot.id)) == after.capacity
    assert after.booked == len(held(store, slot.id)) <= after.capacity
    booked = [sub for sub, result in results.items() if sub != "instructor" and result == "done"]
    assert sorted(booked) == held(store, slot.id)
    if results["instructor"] == "done":
        assert after.capacity == 4
    else:
        assert results["instructor"] == "courses.capacity_below_bookings"
        assert after.capacity == 10


@pytest.mark.parametrize(
    ("meanwhile", "code"),
    [
        ("UPDATE course_booking_slots SET cancelled = :yes", "courses.slot_cancelled"),
        ("UPDATE course_booking_seats SET sub = 'other-' || seat", "courses.slot_full"),
    ],
)
def test_a_slot_that_closes_or_fills_after_the_read_refuses_and_stores_nothing(
    service: CourseService, store: Store, monkeypatch: pytest.MonkeyPatch, meanwhile: str,
    code: str,
) -> None:  # fmt: skip
    """The slot was open with free seats when the booking read it, and is cancelled or full by
    the time it writes (another request, between the read and the write): refused for that
    reason, and neither the booking, a seat nor the learner's count stays."""
    course = course_with(service)
    hours = OfficeHoursService(service)
    (slot,) = publish(hours, course, capacity=2)
    read_clock = service.clock
    changed: list[str] = []

    def change_then_tell_the_time():  # type: ignore[no-untyped-def]
        if not changed:  # once, right after the booking read the slot
            changed.append(meanwhile)
            with store.engine.begin() as other:
                other.execute(text(meanwhile), {"yes": True})
        return read_clock()

    monkeypatch.setattr(service, "clock", change_then_tell_the_time)
    assert code_of(lambda: hours.book(course, slot.id, "learner-0")) == code
    assert "learner-0" not in held(store, slot.id)
    assert hours.bookings_for(course, "learner-0") == []
    with store.transaction() as s:
        counts = s.execute(text("SELECT booked FROM course_booking_counts")).scalars().all()
    assert list(counts) == []


def test_a_booking_queues_its_statement_with_its_seat_and_a_refused_one_neither(
    service: CourseService, store: Store
) -> None:
    """The ``registered`` statement goes in with the booking's own writes (one statement on
    PostgreSQL): a booking the item's limit refuses after its seat was taken leaves no seat,
    no booking and no statement."""
    course = course_with(service)
    hours = OfficeHoursService(service)
    first, second = publish(hours, course, count=2, capacity=2)
    hours.book(course, first.id, "learner-0")
    assert service.outbox.status().pending == 1
    assert code_of(lambda: hours.book(course, second.id, "learner-0")) == "courses.booking_limit"
    assert seats(store, second.id) == [(1, None), (2, None)]
    assert service.outbox.status().pending == 1
    hours.book(course, second.id, "learner-1")
    out = io.BytesIO()
    service.outbox.export(out, state="pending")
    objects = [orjson.loads(line)["object"]["id"] for line in out.getvalue().splitlines()]
    assert [o.rsplit("/", 1)[-1] for o in objects] == [first.id, second.id]
