"""Learners' own hours for live sessions: kept per course, normalised, read by the planner."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from blendkit import Store
from blendkit.courses import CourseService, SessionHours
from blendkit.errors import ScheduleError
from blendkit.lti import Tenant
from blendkit.progression import flipped_classroom
from blendkit.xapi import Outbox, StatementFactory

START = datetime(2030, 3, 4, 16, 0, tzinfo=UTC)
TENANT = Tenant(issuer="https://lms.example.edu", client_id="c1", deployment_id="d1")


def test_hours_are_kept_per_course_normalised_and_forgotten(store: Store) -> None:
    courses = CourseService(
        store, outbox=Outbox(store), statements=StatementFactory("https://tool.example.edu")
    )
    bio = courses.ensure_course(TENANT, "bio", title="Biology", path=flipped_classroom(START))
    geo = courses.ensure_course(TENANT, "geo", title="Geography", path=flipped_classroom(START))
    hours = SessionHours(store)
    assert hours.get(bio, "ana") is None
    assert hours.set(bio, "ana", "18:00-21:00, 07:00-08:30") == "07:00-08:30 18:00-21:00"
    hours.set(bio, "ben", "09:00-17:00")
    hours.set(geo, "ana", "09:00-17:00")
    assert hours.for_course(bio) == {"ana": "07:00-08:30 18:00-21:00", "ben": "09:00-17:00"}
    assert hours.get(geo, "ana") == "09:00-17:00"
    hours.set(bio, "ana", "10:00-11:00")  # replaces, never a second row
    rules = hours.availability(bio, (5, 6), ["ana", "cleo"])
    assert set(rules) == {"ana"}
    assert rules["ana"].windows == ((time(10), time(11)),)
    assert rules["ana"].weekdays == (5, 6)
    with pytest.raises(ScheduleError, match="09:00-17:00"):
        hours.set(bio, "ana", "evenings")
    assert hours.get(bio, "ana") == "10:00-11:00"  # a refused value keeps the old one
    assert hours.set(bio, "ana", None) is None
    assert hours.for_course(bio) == {"ben": "09:00-17:00"}
