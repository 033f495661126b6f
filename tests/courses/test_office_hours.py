"""Office hours: slots published by the instructor, bookings that never overbook, attendance."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, time, timedelta

import pytest
from sqlalchemy import select

from blendkit import CoursesError
from blendkit.courses import CourseService, Enrolment, OfficeHoursService
from blendkit.lti import Tenant
from blendkit.progression import (
    CompletionCondition,
    Item,
    Module,
    Path,
    ScoreCondition,
    ScoreRecorded,
)
from blendkit.sessions import FakeMeetingProvider, SlotProposal
from blendkit.store import Store
from blendkit.store._tables_booking import course_booking_seats, course_bookings
from blendkit.store._tables_xapi import xapi_outbox
from tests.courses.test_course_service import NOW, START, Clock
from tests.courses.test_import_ended import clock, service

SLOT_START = START  # Monday 2030-03-04 16:00 UTC; the clock starts three days before
TENANT = Tenant(issuer="https://lms.example.edu", client_id="c1", deployment_id="d1")
__all__ = ["clock", "service"]  # fixtures shared with the import tests


def office_path() -> Path:
    return Path(
        id="clinic-course",
        title="Clinics",
        modules=(
            Module(
                id="m",
                items=(
                    Item(id="clinic", title="Expert clinic", kind="office_hours"),
                    Item(id="quiz", title="Quiz", kind="quiz"),
                    Item(
                        id="gated-clinic",
                        title="Gated clinic",
                        kind="office_hours",
                        conditions=ScoreCondition(item="quiz", min=50),
                    ),
                    Item(
                        id="after",
                        title="After the clinic",
                        conditions=CompletionCondition(item="clinic"),
                    ),
                ),
            ),
        ),
    )


def course_with(service: CourseService, learners: int = 3):  # type: ignore[no-untyped-def]
    course = service.ensure_course(TENANT, "ctx-1", title="Clinics", path=office_path())
    zones = ("Europe/Berlin", "America/New_York", "Asia/Tokyo")
    for n in range(learners):
        sub = f"learner-{n}"
        service.enrol(
            course,
            Enrolment(sub=sub, name=f"L{n}", email=f"{sub}@x.edu", time_zone=zones[n % 3]),
        )
    return course


def publish(hours: OfficeHoursService, course, **changes):  # type: ignore[no-untyped-def]
    values = {
        "start_utc": SLOT_START,
        "duration_minutes": 20,
        "host_name": "Dr. Ada",
        "time_zone": "Europe/Berlin",
        "location": "Room 101",
        **changes,
    }
    return hours.publish(course, "clinic", **values)


def code_of(call) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(CoursesError) as caught:
        call()
    return caught.value.code


def test_a_block_of_slots_is_spaced_by_duration_and_buffer(service: CourseService) -> None:
    course = course_with(service)
    hours = OfficeHoursService(service)
    slots = publish(hours, course, count=3, buffer_minutes=10, capacity=2)
    assert [s.start_utc for s in slots] == [
        SLOT_START + timedelta(minutes=30 * n) for n in range(3)
    ]
    assert all((s.capacity, s.booked, s.full) == (2, 0, False) for s in slots)
    assert hours.slots(course, "clinic") == slots
    # The same host cannot be in two slots at once, buffer included.
    overlapping = SLOT_START + timedelta(minutes=85)  # the last ends 17:20, +10 buffer
    assert code_of(lambda: publish(hours, course, start_utc=overlapping)) == "courses.slot_invalid"
    other_host = publish(hours, course, start_utc=overlapping, host_name="Dr. Bo")
    assert len(other_host) == 1
    assert code_of(lambda: publish(hours, course, start_utc=NOW)) == "courses.slot_invalid"
    quiz_item = lambda: hours.publish(  # noqa: E731
        course, "quiz", start_utc=SLOT_START, duration_minutes=20, host_name="A",
        time_zone="UTC", location="x",
    )  # fmt: skip
    assert code_of(quiz_item) == "courses.not_office_hours"


def test_booking_fills_a_slot_then_refuses_with_a_reason(service: CourseService) -> None:
    course = course_with(service)
    hours = OfficeHoursService(service)
    (slot,) = publish(hours, course, capacity=2)
    booking = hours.book(course, slot.id, "learner-1")
    assert booking.time_zone == "America/New_York"
    assert booking.local_start.hour == 11  # 16:00 UTC is 11:00 in New York in early March
    assert code_of(lambda: hours.book(course, slot.id, "learner-1")) == "courses.already_booked"
    hours.book(course, slot.id, "learner-0")
    assert hours.slot(course, slot.id).full
    assert code_of(lambda: hours.book(course, slot.id, "learner-2")) == "courses.slot_full"
    assert [b.sub for b in hours.bookings_of_slot(course, slot.id)] == ["learner-1", "learner-0"]


def test_the_per_learner_limit_holds_per_item(service: CourseService) -> None:
    course = course_with(service)
    hours = OfficeHoursService(service)
    first, second, third = publish(hours, course, count=3)
    hours.set_rules(course, "clinic", max_per_learner=2)
    hours.book(course, first.id, "learner-0")
    hours.book(course, second.id, "learner-0")
    assert code_of(lambda: hours.book(course, third.id, "learner-0")) == "courses.booking_limit"
    assert hours.slot(course, third.id).booked == 0  # the refused booking took no seat
    hours.cancel_booking(course, first.id, "learner-0")
    hours.book(course, third.id, "learner-0")
    assert hours.booked_slot_ids(course, "learner-0") == {second.id, third.id}


def test_cancelling_frees_the_seat_until_the_cutoff(service: CourseService, clock: Clock) -> None:
    course = course_with(service)
    hours = OfficeHoursService(service)
    (slot,) = publish(hours, course)
    hours.set_rules(course, "clinic", cancel_cutoff_minutes=120)
    hours.book(course, slot.id, "learner-0")
    assert hours.cancel_booking(course, slot.id, "learner-0").booked == 0
    assert code_of(lambda: hours.cancel_booking(course, slot.id, "learner-0")) == (
        "courses.not_booked"
    )
    hours.book(course, slot.id, "learner-1")
    clock.now = SLOT_START - timedelta(minutes=119)
    assert code_of(lambda: hours.cancel_booking(course, slot.id, "learner-1")) == (
        "courses.cancel_too_late"
    )
    assert hours.slot(course, slot.id).booked == 1  # the refused cancellation freed nothing
    clock.now = SLOT_START
    assert code_of(lambda: hours.book(course, slot.id, "learner-2")) == "courses.slot_started"


def test_a_locked_item_takes_no_booking(service: CourseService) -> None:
    course = course_with(service)
    hours = OfficeHoursService(service)
    (slot,) = hours.publish(
        course, "gated-clinic", start_utc=SLOT_START, duration_minutes=20, host_name="A",
        time_zone="UTC", location="Room 2",
    )  # fmt: skip
    assert code_of(lambda: hours.book(course, slot.id, "learner-0")) == "courses.item_locked"
    assert hours.slot(course, slot.id).booked == 0


def test_the_gate_of_a_booking_counts_evidence_and_overrides(service: CourseService) -> None:
    """The gate reads the learner's evidence rows and overrides with the slot (one read)."""
    course = course_with(service)
    hours = OfficeHoursService(service)
    (slot,) = hours.publish(
        course, "gated-clinic", start_utc=SLOT_START, duration_minutes=20, host_name="A",
        time_zone="UTC", location="Room 2", capacity=3,
    )  # fmt: skip
    now = service.clock()
    service.record(course, "learner-0", ScoreRecorded(item="quiz", score=40, at=now))
    service.record(course, "learner-1", ScoreRecorded(item="quiz", score=40, at=now))
    service.record(course, "learner-1", ScoreRecorded(item="quiz", score=70, at=now))
    service.add_override(course, "learner-2", "gated-clinic", "unlock", by="t", reason="ok")
    assert code_of(lambda: hours.book(course, slot.id, "learner-0")) == "courses.item_locked"
    hours.book(course, slot.id, "learner-1")
    hours.book(course, slot.id, "learner-2")
    assert hours.slot(course, slot.id).booked == 2


def test_cancelling_a_slot_releases_its_bookings_and_meeting(service: CourseService) -> None:
    course = course_with(service)
    fake = FakeMeetingProvider()
    hours = OfficeHoursService(service, fake)
    (slot,) = publish(hours, course, capacity=3, create_meeting=True, location="")
    assert slot.join_url is not None
    assert slot.provider == fake.name
    hours.book(course, slot.id, "learner-0")
    hours.book(course, slot.id, "learner-2")
    assert hours.cancel_slot(course, slot.id) == ["learner-0", "learner-2"]
    assert hours.bookings_for(course, "learner-0") == []
    assert hours.slots(course, "clinic") == []
    assert code_of(lambda: hours.book(course, slot.id, "learner-1")) == "courses.slot_cancelled"
    # Released bookings no longer count towards the learner's limit.
    (again,) = publish(hours, course, start_utc=SLOT_START + timedelta(days=1))
    hours.book(course, again.id, "learner-0")


def test_capacity_never_drops_below_the_bookings(service: CourseService) -> None:
    course = course_with(service)
    hours = OfficeHoursService(service)
    (slot,) = publish(hours, course, capacity=3)
    hours.book(course, slot.id, "learner-0")
    hours.book(course, slot.id, "learner-1")
    cut = lambda: hours.edit_slot(course, slot.id, capacity=1)  # noqa: E731
    assert code_of(cut) == "courses.capacity_below_bookings"
    edited = hours.edit_slot(course, slot.id, capacity=2, location="Room 7")
    assert (edited.capacity, edited.location, edited.full) == (2, "Room 7", True)


def test_bookings_for_gives_plain_values_in_the_learners_zone(service: CourseService) -> None:
    course = course_with(service)
    fake = FakeMeetingProvider()
    hours = OfficeHoursService(service, fake)
    later, earlier = (
        publish(hours, course, start_utc=SLOT_START + timedelta(days=2), create_meeting=True)[0],
        publish(hours, course)[0],
    )
    hours.set_rules(course, "clinic", max_per_learner=2)
    hours.book(course, later.id, "learner-2")
    hours.book(course, earlier.id, "learner-2")
    first, second = hours.bookings_for(course, "learner-2")
    assert (first.slot_id, second.slot_id) == (earlier.id, later.id)
    assert first.time_zone == "Asia/Tokyo"
    assert first.end_utc - first.start_utc == timedelta(minutes=20)
    assert (first.location, first.join_url) == ("Room 101", None)
    assert second.join_url == later.join_url
    assert second.join_url
    assert (first.title, first.host_name, first.attended) == ("Expert clinic", "Dr. Ada", False)
    assert hours.bookings_for(course, "learner-0") == []


def test_marking_present_completes_the_item_and_unlocks_what_follows(
    service: CourseService, clock: Clock, store: Store
) -> None:
    course = course_with(service)
    hours = OfficeHoursService(service)
    (slot,) = publish(hours, course)
    hours.book(course, slot.id, "learner-0")
    assert service.learner_path(course, "learner-0").state("after") == "locked"
    not_yet = lambda: hours.mark_present(course, slot.id, "learner-0", by="host")  # noqa: E731
    assert code_of(not_yet) == "courses.slot_not_started"
    clock.now = SLOT_START + timedelta(minutes=25)
    outcome = hours.mark_present(course, slot.id, "learner-0", by="host")
    assert outcome is not None
    assert outcome.statement_ids
    assert service.learner_path(course, "learner-0").state("clinic") == "completed"
    assert service.learner_path(course, "learner-0").state("after") != "locked"
    assert hours.mark_present(course, slot.id, "learner-0", by="host") is None
    assert hours.bookings_for(course, "learner-0")[0].attended
    stranger = lambda: hours.mark_present(course, slot.id, "learner-1", by="host")  # noqa: E731
    assert code_of(stranger) == "courses.not_booked"
    with store.session() as s:
        verbs = [
            json.loads(p)["verb"]["id"] for p in s.execute(select(xapi_outbox.c.payload)).scalars()
        ]
    adl = "http://adlnet.gov/expapi/verbs/"
    # booked → registered; attended → the Virtual Classroom profile's terminated (with the
    # time attended); the item completed → completed.
    assert [v for v in verbs if v.startswith(adl)] == [
        f"{adl}registered",
        f"{adl}terminated",
        f"{adl}completed",
    ]


def test_provider_attendance_counts_only_for_learners_who_booked(
    service: CourseService, clock: Clock
) -> None:
    course = course_with(service)
    fake = FakeMeetingProvider()
    hours = OfficeHoursService(service, fake)
    (slot,) = publish(hours, course, capacity=2, create_meeting=True, location="")
    hours.book(course, slot.id, "learner-0")
    assert slot.provider_meeting_id is not None
    for sub in ("learner-0", "learner-1"):  # learner-1 joined without booking
        meeting = slot.provider_meeting_id
        joined = fake.join(meeting, at=SLOT_START, email=f"{sub}@x.edu", display_name=sub)
        fake.leave(meeting, joined, at=SLOT_START + timedelta(minutes=18))
    clock.now = SLOT_START + timedelta(hours=1)
    report = hours.import_slot_attendance(course, slot.id)
    assert {r.learner_id: r.minutes_present for r in report.attendance} == {"learner-0": 18}
    assert service.learner_path(course, "learner-0").state("clinic") == "completed"
    assert service.learner_path(course, "learner-1").state("clinic") != "completed"
    assert hours.slot(course, slot.id).attendance_imported


def test_a_planner_suggestion_is_filled_with_slots(service: CourseService) -> None:
    course = course_with(service)
    hours = OfficeHoursService(service)
    suggestion = SlotProposal(
        weekday=0, weekday_name="Monday", utc_start=time(16, 0), duration_minutes=60,
        occurrences=1, learners=3, worst_week_inside=3, average_inside=3.0,
        inside_every_week=3, worst_week_dates=(), outside=(),
    )  # fmt: skip
    slots = hours.publish_at_suggestion(
        course, "clinic", suggestion, on_or_after=date(2030, 3, 2), slot_minutes=15,
        buffer_minutes=5, host_name="Dr. Ada", time_zone="Europe/Berlin", location="Room 1",
    )  # fmt: skip
    assert [s.start_utc for s in slots] == [
        SLOT_START + timedelta(minutes=20 * n) for n in range(3)
    ]


@pytest.mark.parametrize("capacity", [1, 5])
def test_parallel_bookings_never_overbook(
    service: CourseService, store: Store, capacity: int
) -> None:
    """Many learners book one slot at the same moment, each on its own connection."""
    course = course_with(service, learners=0)
    learners = 24
    for n in range(learners):
        service.enrol(course, Enrolment(sub=f"p{n}", name=f"P{n}", time_zone="UTC"))
    hours = OfficeHoursService(service)
    (slot,) = publish(hours, course, capacity=capacity)
    start = threading.Barrier(learners, timeout=30)

    def attempt(sub: str) -> str:
        start.wait()
        try:
            hours.book(course, slot.id, sub)
        except CoursesError as exc:
            return exc.code
        return "booked"

    with ThreadPoolExecutor(learners) as pool:
        results = list(pool.map(attempt, [f"p{n}" for n in range(learners)]))
    assert results.count("booked") == capacity
    assert set(results) == {"booked", "courses.slot_full"}
    with store.transaction() as s:
        rows = s.execute(
            select(course_bookings.c.sub).where(course_bookings.c.slot_id == slot.id)
        ).all()
        seats = s.execute(
            select(course_booking_seats.c.sub).where(
                course_booking_seats.c.slot_id == slot.id, course_booking_seats.c.sub.is_not(None)
            )
        ).all()
    assert len(rows) == len(seats) == hours.slot(course, slot.id).booked == capacity
    assert {r.sub for r in rows} == {r.sub for r in seats}  # each booker holds one seat


def test_one_learner_racing_themselves_holds_one_booking_and_the_limit(
    service: CourseService,
) -> None:
    """The same learner sends bookings for one slot and for several slots at once."""
    course = course_with(service)
    hours = OfficeHoursService(service)
    slots = publish(hours, course, count=6, capacity=3)
    hours.set_rules(course, "clinic", max_per_learner=2)
    targets = [slots[0].id] * 4 + [s.id for s in slots[1:]]
    start = threading.Barrier(len(targets), timeout=30)

    def attempt(slot_id: str) -> str:
        start.wait()
        try:
            hours.book(course, slot_id, "learner-0")
        except CoursesError as exc:
            return exc.code
        return "booked"

    with ThreadPoolExecutor(len(targets)) as pool:
        results = list(pool.map(attempt, targets))
    assert results.count("booked") == 2
    assert set(results) - {"booked"} <= {"courses.booking_limit", "courses.already_booked"}
    held = hours.bookings_for(course, "learner-0")
    assert len(held) == 2
    assert sum(s.booked for s in hours.slots(course, "clinic")) == 2


def test_a_booking_refused_inside_a_unit_of_work_leaves_the_unit_and_its_writes(
    service: CourseService, store: Store
) -> None:
    """A view running in one transaction books, is refused on another slot and goes on: the
    refused booking writes nothing, what the unit wrote before and after commits."""
    course = course_with(service)
    hours = OfficeHoursService(service)
    hours.set_rules(course, "clinic", max_per_learner=1)
    first, second = publish(hours, course, count=2, capacity=2)
    with store.unit_of_work():
        hours.book(course, first.id, "learner-0")
        with pytest.raises(CoursesError) as refused:
            hours.book(course, second.id, "learner-0")
        assert refused.value.code == "courses.booking_limit"
        hours.book(course, second.id, "learner-1")
    assert [b.slot_id for b in hours.bookings_for(course, "learner-0")] == [first.id]
    assert [b.slot_id for b in hours.bookings_for(course, "learner-1")] == [second.id]
    assert hours.slot(course, second.id).booked == 1
    with store.transaction() as s:
        seated = s.execute(
            select(course_booking_seats.c.sub).where(
                course_booking_seats.c.slot_id == second.id,
                course_booking_seats.c.sub.is_not(None),
            )
        ).scalars()
        assert list(seated) == ["learner-1"]
        queued = s.execute(select(xapi_outbox.c.payload)).scalars().all()
    registered = [json.loads(p) for p in queued if '"registered"' in p]
    assert len(registered) == 2  # one statement per booking made, none for the refusal
