"""The demo's office hours: Dr Rivera's slots over the next days, some booked, one full."""

from __future__ import annotations

import typing as t
from datetime import datetime, timedelta

from blendkit.courses import Course

__all__ = ["seed_office_hours"]


def seed_office_hours(svc: t.Any, course: Course, now: datetime) -> None:
    """Publish two blocks of slots (a room, then online meetings) and book a few of them."""
    hours = svc.office_hours
    item = next(i.id for i in course.path.items() if i.kind == "office_hours")
    hours.set_rules(course, item, max_per_learner=1, cancel_cutoff_minutes=120)
    tomorrow = (now + timedelta(days=1)).replace(hour=14, minute=0, second=0, microsecond=0)
    room = hours.publish(
        course, item, start_utc=tomorrow, duration_minutes=20, count=4, buffer_minutes=10,
        capacity=1, host_name="Dr Alex Rivera", host_sub="demo-rivera",
        time_zone="Europe/London", location="Room 2.14, Science building",
    )  # fmt: skip
    online = hours.publish(
        course, item, start_utc=tomorrow + timedelta(days=1, hours=3), duration_minutes=30,
        count=2, buffer_minutes=15, capacity=3, host_name="Dr Alex Rivera",
        host_sub="demo-rivera", time_zone="Europe/London", create_meeting=True,
    )  # fmt: skip
    hours.book(course, room[0].id, "demo-kofi")  # the first room slot is full
    hours.book(course, online[0].id, "demo-mei")
    hours.book(course, online[0].id, "demo-priya")
