"""Office hours and expert clinics: learners book and cancel the slots an instructor published.

A booking is one transaction of conditional statements, so the database refuses what would
overbook, whatever runs at the same time: the booking row is unique per (slot, learner), the
booking takes one of the slot's free seat rows (``FOR UPDATE SKIP LOCKED``: concurrent bookers
of one slot each lock a different seat instead of queueing on one row; none left is "full"),
and the learner's count for the item is raised only while it is below the item's limit. The
slot's own row is only held ``FOR SHARE`` (bookers never wait for each other on it), so that an
instructor who edits or cancels the slot waits for the bookings in flight. Rows are always
locked in that order (booking, slot, seat, count), so concurrent bookings and cancellations
wait for each other instead of deadlocking. The learner's gate is checked from the booking's
first read, before the transaction, and the transaction is one statement on PostgreSQL (the
writes and the outbox's row): no Python runs while a booking holds its seat.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, exists, update

from blendkit.courses._booking_attendance import OfficeHoursAttendance
from blendkit.courses._booking_models import Booking, BookingRules, BookingSlot
from blendkit.courses._booking_publish import OfficeHoursPublishing
from blendkit.courses._booking_reminders import (
    cancel_booking_reminders,
    schedule_booking_reminders,
)
from blendkit.courses._booking_slots import SLOTS, OfficeHoursSlots, slot_value
from blendkit.courses._booking_writes import take_booking
from blendkit.courses._models import Course, Enrolment, aware
from blendkit.courses._records import _ENROLMENT_PREFIX
from blendkit.courses._service import CourseService
from blendkit.courses._timeline import Timeline, item_locked
from blendkit.errors import CoursesError, NotFound
from blendkit.sessions import MeetingProvider
from blendkit.store._driver import DriverStatement
from blendkit.store._tables_booking import (
    course_booking_counts,
    course_booking_seats,
    course_booking_slots,
    course_bookings,
    course_office_hours,
)
from blendkit.store._tables_courses import (
    course_enrolments,
    course_evidence,
    course_overrides,
)
from blendkit.xapi import ADL, ContextActivities, Statement, StatementContext, lti_actor
from blendkit.xapi import statement_id as named_statement_id

__all__ = ["OfficeHoursService"]

_SLOT = course_booking_slots.c
_BOOKING = course_bookings.c
_COUNT = course_booking_counts.c
_RULES = course_office_hours.c
_SEAT = course_booking_seats.c
# A booking's first read: the slot, the item's limit (NULL: the default rules), whether the
# learner already holds a seat on it, their enrolment (NULLs: not enrolled), whether they have
# overrides and their evidence rows (one row per piece; NULLs: none), so that a booking that
# gets that far checks the gate without another round trip.
_EV = course_evidence.c
_ENROLLED = course_enrolments.c
# The enrolment columns a booking uses (the gate's base facts, the actor's name, the zone):
# every column of a read costs its parsing on each execution, refusals included.
_GATE_FIELDS = ("sub", "name", "time_zone", "enrolled_at", "groups", "roles")
_FOR_BOOKING = DriverStatement(
    SLOTS.add_columns(
        _RULES.max_per_learner,
        exists()
        .where(_BOOKING.slot_id == _SLOT.id, _BOOKING.sub == bindparam("sub"))
        .label("held"),
        *(_ENROLLED[name].label(_ENROLMENT_PREFIX + name) for name in _GATE_FIELDS),
        exists()
        .where(
            course_overrides.c.course_id == _SLOT.course_id,
            course_overrides.c.sub == bindparam("sub"),
        )
        .label("overridden"),
        _EV.id.label("evidence_id"),
        _EV.piece.label("evidence_piece"),
        _EV.recorded_at.label("evidence_recorded_at"),
    )
    .outerjoin(
        course_office_hours, (_RULES.course_id == _SLOT.course_id) & (_RULES.item == _SLOT.item)
    )
    .outerjoin(
        course_enrolments,
        (course_enrolments.c.course_id == _SLOT.course_id)
        & (course_enrolments.c.sub == bindparam("sub")),
    )
    .outerjoin(course_evidence, (_EV.course_id == _SLOT.course_id) & (_EV.sub == bindparam("sub")))
    .where(_SLOT.id == bindparam("slot_id"), _SLOT.course_id == bindparam("course_id"))
    .order_by(_EV.id)
)


def _refused(message: str, code: str, status: int = 409) -> CoursesError:
    return CoursesError(message, code=code, http_status=status)


class OfficeHoursService(OfficeHoursSlots, OfficeHoursPublishing, OfficeHoursAttendance):
    """Bookable office hours of a course: slots, bookings, cancellations and attendance.

    ``provider`` (the course's :class:`~blendkit.sessions.MeetingProvider`) creates meetings
    for slots that ask for one and reports who attended them; without it slots have a location.
    When the course service has ``notifications``, a booking schedules its reminders (the
    course's session lead times) and cancelling it, or the slot, cancels the pending ones.
    """

    def __init__(self, courses: CourseService, provider: MeetingProvider | None = None) -> None:
        self.courses = courses
        self.store = courses.store
        self.provider = provider

    # --- booking ----------------------------------------------------------------------------

    def book(
        self, course: Course, slot_id: str, sub: str, *, person: Enrolment | None = None
    ) -> Booking:
        """Book a seat on a slot for ``sub`` (``person``: their enrolment, when the caller
        already read it).

        Refused, storing nothing, when the item is locked for the learner
        (``courses.item_locked``), the slot is full (``courses.slot_full``), already booked
        by them (``courses.already_booked``), cancelled or started (``courses.slot_cancelled``,
        ``courses.slot_started``), or the learner holds the item's limit of bookings
        (``courses.booking_limit``).

        One read fetches the slot with the item's limit, whether the learner holds a seat,
        their enrolment and their evidence rows; a slot that takes no booking is refused from
        its first row at once. A booking still possible then checks the gate from those rows
        and prepares its ``registered`` statement, and one transaction of one statement
        (PostgreSQL) takes the booking, its seat and the count and queues the statement: no
        Python runs while the seat is held, so the seats of finished bookings look taken to
        the next readers sooner.
        """
        key = {"slot_id": slot_id, "course_id": course.id, "sub": sub}
        rows = _FOR_BOOKING.rows(self.store, key)
        if not rows:
            raise NotFound(f"office-hours slot {slot_id!r} is not part of {course.title!r}")
        row = rows[0]
        now = self.courses.clock()
        started, full = aware(row.start_utc) <= now, row.booked >= row.capacity
        if row.cancelled or started or full:
            # Refused from the first row's columns, nothing built: a slot that was full a
            # moment ago may have a seat again, but the learner sees the state the page showed.
            if full and row.held:
                raise _already_booked()
            raise _refusal(row.capacity, cancelled=row.cancelled, started=started)
        if row.held:
            raise _already_booked()
        found = slot_value(row)
        if person is None or person.sub != sub:
            person = _enrolled(row, sub, course)
        evidence_rows = [
            (r.evidence_id, r.evidence_piece, r.evidence_recorded_at)
            for r in rows
            if r.evidence_id is not None
        ]
        if row.overridden:  # the override rows: a read of their own, for the few who have them
            with self.store.transaction() as s:
                timeline = Timeline.from_rows(s, course.id, person, evidence_rows, True)
        else:
            timeline = Timeline.from_rows(None, course.id, person, evidence_rows, False)
        evidence = self.courses.evidence(course, sub, now=now, timeline=timeline)
        if self.courses.learner_path(course, sub, now, evidence=evidence).state(found.item) == (
            "locked"
        ):
            raise item_locked(found.item)
        limit = row.max_per_learner or BookingRules(item=found.item).max_per_learner
        values = {
            "b_course_id": course.id, "b_slot_id": slot_id, "b_sub": sub, "b_now": now,
            "b_item": found.item, "b_limit": limit,
            **self._registered(course, found, person.name or None, sub, now),
        }  # fmt: skip
        refused = take_booking(self.courses.outbox, values)
        if refused == "already_booked":
            raise _already_booked()
        if refused == "closed":  # open at the read, so cancelled since
            raise _refusal(found.capacity, cancelled=True)
        if refused == "full":
            raise _refusal(found.capacity)
        if refused == "limit":
            raise _refused(
                f"you already hold {limit} booking{'s' if limit != 1 else ''} for these "
                "office hours, the most allowed; cancel one to book another",
                "courses.booking_limit",
            )
        if self.courses.notifications is not None:
            schedule_booking_reminders(
                self.courses.notifications, self.courses, course, slot_id, now=now, subs=[sub]
            )
        return _booking(found, person.time_zone, attended=False)

    def _registered(
        self, course: Course, slot: BookingSlot, name: str | None, sub: str, now: datetime
    ) -> dict[str, Any]:
        """The outbox row of the ADL ``registered`` statement of a booking."""
        factory = self.courses.statements
        actor = lti_actor(course.issuer, sub, name=name)
        key = self.courses.course_key(course)
        obj = factory.activity("office-hours-slot", slot.id, ADL.MEETING_TYPE, slot.title)
        statement = Statement(
            id=named_statement_id("registered", course.issuer, sub, obj.id, now.isoformat()),
            actor=actor,
            verb=ADL.REGISTERED,
            object=obj,
            context=StatementContext(
                registration=factory.registration(actor, key),
                contextActivities=ContextActivities(
                    parent=[factory.activity("course", key, ADL.COURSE_TYPE, course.title)]
                ),
                platform=factory.platform,
            ),
            timestamp=now,
        )
        return self.courses.outbox.row(statement)

    def cancel_booking(
        self, course: Course, slot_id: str, sub: str, *, by_host: bool = False
    ) -> BookingSlot:
        """Cancel ``sub``'s booking, free the seat and cancel its pending reminders; refused
        when there is no such booking (``courses.not_booked``) and, unless the host releases
        the seat (``by_host``), after the item's cut-off before the start
        (``courses.cancel_too_late``)."""
        found = self.slot(course, slot_id)
        rules = self.rules(course, found.item)
        now = self.courses.clock()
        cutoff = found.start_utc - timedelta(minutes=rules.cancel_cutoff_minutes)
        with self.store.write_transaction() as s:
            # Rows in the order a booking takes them (booking, seat, count): no deadlock.
            gone = s.execute(
                course_bookings.delete()
                .where(
                    _BOOKING.slot_id == slot_id,
                    _BOOKING.course_id == course.id,
                    _BOOKING.sub == sub,
                    _BOOKING.attended_at.is_(None),
                )
                .returning(_BOOKING.id)
            ).first()
            if gone is None:
                raise _refused(
                    "you have no booking on this slot to cancel", "courses.not_booked", 404
                )
            if now > cutoff and not by_host:
                raise _refused(
                    f"bookings can be cancelled until {rules.cancel_cutoff_minutes} minutes "
                    "before the slot starts; it is too late now, so tell the host if you "
                    "cannot come",
                    "courses.cancel_too_late",
                )
            s.execute(
                update(course_booking_seats)
                .where(_SEAT.slot_id == slot_id, _SEAT.sub == sub)
                .values(sub=None)
            )
            s.execute(
                update(course_booking_counts)
                .where(_COUNT.course_id == course.id, _COUNT.item == found.item, _COUNT.sub == sub)
                .values(booked=_COUNT.booked - 1)
            )
        if self.courses.notifications is not None:
            cancel_booking_reminders(self.courses.notifications, course, slot_id, [sub])
        return self.slot(course, slot_id)

    # --- reading ----------------------------------------------------------------------------

    def bookings_for(self, course: Course, sub: str) -> list[Booking]:
        """Every booking ``sub`` holds in ``course`` (slots not cancelled), earliest first, as
        plain values in the learner's own zone: for calendar feeds and reminders."""
        zone = self.courses.enrolment(course, sub).time_zone
        with self.store.transaction() as s:
            rows = s.execute(
                SLOTS.add_columns(_BOOKING.attended_at)
                .join(course_bookings, _BOOKING.slot_id == _SLOT.id)
                .where(
                    _BOOKING.course_id == course.id,
                    _SLOT.course_id == course.id,
                    _BOOKING.sub == sub,
                    _SLOT.cancelled.is_(False),
                )
                .order_by(_SLOT.start_utc, _SLOT.id)
            ).all()
        return [_booking(slot_value(r), zone, attended=r.attended_at is not None) for r in rows]

    def booked_slot_ids(self, course: Course, sub: str, item: str | None = None) -> set[str]:
        """Ids of the slots ``sub`` booked (of one item)."""
        return {b.slot_id for b in self.bookings_for(course, sub) if item in (None, b.item)}


def _refusal(capacity: int, *, cancelled: bool = False, started: bool = False) -> CoursesError:
    """Why a slot of ``capacity`` seats takes no booking: cancelled, started, or else full."""
    if cancelled:
        return _refused(
            "this slot was cancelled by its host; pick another one", "courses.slot_cancelled"
        )
    if started:
        return _refused("this slot has already started; pick a later one", "courses.slot_started")
    return _refused(
        f"this slot is full (all {capacity} seats are booked); pick another one",
        "courses.slot_full",
    )


def _enrolled(row: Any, sub: str, course: Course) -> Enrolment:
    """The learner's enrolment from a booking's first read (the columns it carries)."""

    def column(name: str) -> Any:
        return getattr(row, _ENROLMENT_PREFIX + name)

    if column("sub") is None:
        raise NotFound(f"{sub!r} is not enrolled in {course.title!r}")
    enrolled_at = column("enrolled_at")
    return Enrolment(
        sub=sub,
        name=column("name"),
        time_zone=column("time_zone"),
        enrolled_at=aware(enrolled_at) if enrolled_at is not None else None,
        groups=tuple(json.loads(column("groups"))),
        roles=tuple(json.loads(column("roles"))),
    )


def _already_booked() -> CoursesError:
    return _refused("you have already booked this slot", "courses.already_booked")


def _booking(slot: BookingSlot, zone: str, *, attended: bool) -> Booking:
    return Booking(
        slot_id=slot.id,
        item=slot.item,
        title=slot.title,
        start_utc=slot.start_utc,
        end_utc=slot.end_utc,
        time_zone=zone,
        join_url=slot.join_url,
        location=slot.location,
        host_name=slot.host_name,
        attended=attended,
    )
