"""A course's feeds from the store: a learner's feed holds the series as blendkit scheduled it
(cancelled and moved sittings included), their personal join link and their deadlines; tokens
are secret, hashed, revocable; each event's SEQUENCE rises when it changes and not otherwise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from sqlalchemy import select

from blendkit.calendar import CalendarBooking, CalendarFeeds, token_digest
from blendkit.courses import CourseService, Enrolment, LiveSessionService
from blendkit.progression import ScoreRecorded, VideoWatched
from blendkit.sessions import FakeMeetingProvider
from blendkit.store._tables_calendar import calendar_feed_tokens
from tests.calendar_feeds.expand import in_zone, occurrences
from tests.courses.test_course_service import NOW, START, Clock, _course
from tests.courses.test_import_ended import clock, service

__all__ = ["clock", "service"]


def _scheduled(service: CourseService):  # type: ignore[no-untyped-def]
    course = _course(service)
    live = LiveSessionService(service, FakeMeetingProvider())
    # Mondays 17:00 Berlin, 4 March to 6 May 2030: summer time starts on 31 March.
    series = live.schedule_series(
        course, title="Seminar", start_utc=START, time_zone="Europe/Berlin",
        duration_minutes=60, count=10, item="live-session",
    )  # fmt: skip
    return course, live, series


def _learner_sittings(live: LiveSessionService, course, series_id: str):  # type: ignore[no-untyped-def]
    found = live.series(course, series_id)
    return [(o.start_utc, o.end_utc) for o in found.occurrences if not o.cancelled]


def test_a_learners_feed_is_blendkits_schedule_in_their_zone(service: CourseService) -> None:
    course, live, series = _scheduled(service)
    live.cancel_occurrence(course, series.occurrences[2].id)
    moved = series.occurrences[5]
    live.move_occurrence(course, moved.id, start_utc=moved.start_utc + timedelta(days=1, hours=3))
    service.record(
        course,
        "ben",
        [
            VideoWatched(item="prework-video", percent=100, at=NOW),
            ScoreRecorded(item="readiness-quiz", score=100, at=NOW),
        ],
    )
    link = live.join_link(course, series.occurrences[0].id, "ben")
    feeds = CalendarFeeds(service)

    body = feeds.render_token(feeds.issue_token(course, "ben"))
    assert body is not None
    calendar = icalendar.Calendar.from_ical(body.body)

    expected = in_zone(_learner_sittings(live, course, series.id), "America/New_York")
    assert occurrences(body.body, "America/New_York", uid_prefix="series-") == expected
    assert len(expected) == 9
    events = [e for e in calendar.walk("VEVENT") if str(e["UID"]).startswith("series-")]
    master = next(e for e in events if "RRULE" in e)
    assert master["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert str(master["URL"]) == link
    assert link in str(master["DESCRIPTION"])
    (override,) = [e for e in events if "RECURRENCE-ID" in e]
    assert override["RECURRENCE-ID"].dt.astimezone(UTC) == moved.start_utc
    assert override["UID"] == master["UID"]
    deadlines = {
        str(e["SUMMARY"]): e for e in calendar.walk("VEVENT") if "deadline-" in str(e["UID"])
    }
    quiz = deadlines["Due: Readiness quiz"]
    assert quiz["DTSTART"].dt == START.astimezone(ZoneInfo("America/New_York"))
    assert quiz["DTSTART"].params["TZID"] == "America/New_York"


def test_unchanged_feeds_render_the_same_bytes_and_a_change_raises_its_sequence(
    service: CourseService, clock: Clock
) -> None:
    course, live, series = _scheduled(service)
    feeds = CalendarFeeds(service)
    token = feeds.issue_token(course, "ana")
    first = feeds.render_token(token)
    clock.now += timedelta(hours=1)
    again = feeds.render_token(token)
    assert first is not None
    assert again is not None
    assert again.body == first.body
    assert again.last_modified == first.last_modified

    clock.now += timedelta(hours=1)
    sitting = series.occurrences[3]
    live.move_occurrence(course, sitting.id, start_utc=sitting.start_utc + timedelta(hours=2))
    after = feeds.render_token(token)
    assert after is not None
    assert after.body != first.body
    assert after.last_modified == clock.now
    events = icalendar.Calendar.from_ical(after.body).walk("VEVENT")
    (override,) = [e for e in events if "RECURRENCE-ID" in e]
    assert int(override["SEQUENCE"]) >= 1
    assert override["LAST-MODIFIED"].dt == clock.now
    master = next(e for e in events if "RRULE" in e)
    assert int(master["SEQUENCE"]) == 0  # the rule itself did not change


def test_tokens_are_hashed_revocable_and_reissued(service: CourseService) -> None:
    course, _, _ = _scheduled(service)
    feeds = CalendarFeeds(service)
    token = feeds.issue_token(course, "ana")
    with service.store.transaction() as s:
        stored = list(s.execute(select(calendar_feed_tokens.c.token_hash)).scalars())
    assert stored == [token_digest(token)]
    assert token not in stored

    assert feeds.render_token(token) is not None
    assert feeds.has_token(course, "ana")
    newer = feeds.issue_token(course, "ana")
    assert feeds.render_token(token) is None  # re-issuing revokes the old link
    assert feeds.render_token(newer) is not None
    assert feeds.revoke_token(course, "ana") is True
    assert feeds.render_token(newer) is None
    assert not feeds.has_token(course, "ana")
    assert feeds.revoke_token(course, "ana") is False
    for garbage in ("", "x", "a" * 500, "../../etc/passwd", token + "x"):
        assert feeds.render_token(garbage) is None


def test_the_course_feed_holds_every_session_and_the_path_deadlines(
    service: CourseService,
) -> None:
    course, live, series = _scheduled(service)
    feeds = CalendarFeeds(service)
    service.enrol(course, Enrolment(sub="teacher", name="Teacher", roles=("instructor",)))
    learner = feeds.issue_token(course, "ana")
    teachers = feeds.issue_token(course, issued_by="teacher")
    assert feeds.revoke_token(course, "ana") is True
    assert feeds.render_token(teachers) is not None  # one owner's revocation leaves the other
    assert feeds.render_token(learner) is None

    rendered = feeds.render_token(teachers)
    assert rendered is not None
    calendar = icalendar.Calendar.from_ical(rendered.body)
    titles = sorted(str(e["SUMMARY"]) for e in calendar.walk("VEVENT"))
    assert titles == ["Due: Practice assignment", "Due: Readiness quiz", "Seminar"]
    assert occurrences(rendered.body, "UTC", uid_prefix="series-") == in_zone(
        _learner_sittings(live, course, series.id), "UTC"
    )


def test_bookings_join_both_feeds_as_plain_values(service: CourseService) -> None:
    course, _, _ = _scheduled(service)
    slot = START + timedelta(days=2)

    def bookings(asked_course, sub):  # type: ignore[no-untyped-def]
        assert asked_course.id == course.id
        return [
            CalendarBooking(
                uid=f"booking-1.{course.id}@test", title=f"Office hours ({sub or 'all'})",
                start_utc=slot, end_utc=slot + timedelta(minutes=20),
                time_zone="Asia/Kolkata", location="Room 4",
                last_modified=datetime(2030, 1, 1, tzinfo=UTC),
            )
        ]  # fmt: skip

    feeds = CalendarFeeds(service, bookings=bookings)
    rendered = feeds.render_token(feeds.issue_token(course, "ana"))
    assert rendered is not None
    (booking,) = [
        e for e in icalendar.Calendar.from_ical(rendered.body).walk("VEVENT")
        if str(e["UID"]).startswith("booking-")
    ]  # fmt: skip
    assert str(booking["SUMMARY"]) == "Office hours (ana)"
    assert booking["DTSTART"].dt.astimezone(UTC) == slot
    assert booking["DTSTART"].params["TZID"] == "Asia/Kolkata"
    assert str(booking["LOCATION"]) == "Room 4"


@pytest.mark.parametrize("sub", ["nobody"])
def test_a_token_of_a_learner_no_longer_enrolled_opens_nothing(
    service: CourseService, sub: str
) -> None:
    course, _, _ = _scheduled(service)
    feeds = CalendarFeeds(service)
    token = feeds.tokens.issue(feeds._owner(course, sub))
    assert feeds.render_token(token) is None
