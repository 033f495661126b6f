"""Every adapter serves ``GET /calendar/<token>.ics`` from the same runtime handler: no login,
``text/calendar``, strong ETag and Last-Modified with 304s, and 404 for any token that opens
nothing, whichever the reason; the token never reaches a log line."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import httpx
import icalendar
import pytest

from blendkit.calendar import CalendarFeeds
from blendkit.courses import Course, CourseService, Enrolment
from blendkit.lti import Tenant
from blendkit.progression import flipped_classroom
from blendkit.xapi import Outbox, StatementFactory
from tests.conformance.deployment import ToolUnderTest

pytestmark = pytest.mark.e2e


def _feeds(tool: ToolUnderTest) -> tuple[CalendarFeeds, Course, str]:
    courses = CourseService(
        tool.store, outbox=Outbox(tool.store), statements=StatementFactory(tool.url)
    )
    tenant = Tenant(issuer="https://lms.example.edu", client_id="c1", deployment_id="d1")
    course = courses.ensure_course(
        tenant, "cal-101", title="Calendars",
        path=flipped_classroom(datetime(2030, 3, 4, 16, tzinfo=UTC)),
    )  # fmt: skip
    courses.enrol(course, Enrolment(sub="ana", time_zone="Asia/Kolkata"))
    feeds = CalendarFeeds(courses)
    return feeds, course, feeds.issue_token(course, "ana")


def test_the_feed_is_served_with_validators_and_304s(
    tool: ToolUnderTest, client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    feeds, course, token = _feeds(tool)
    caplog.set_level(logging.DEBUG)
    url = tool.path(f"/calendar/{token}.ics")

    first = client.get(url)
    assert first.status_code == 200, first.text
    assert first.headers["content-type"] == "text/calendar; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(first.content)
    assert {str(e["SUMMARY"]) for e in calendar.walk("VEVENT")} == {
        "Due: Readiness quiz",
        "Due: Practice assignment",
    }
    etag = first.headers["etag"]
    assert etag.startswith('"')
    assert "last-modified" in first.headers

    again = client.get(url, headers={"If-None-Match": etag})
    assert (again.status_code, again.content) == (304, b"")
    since = client.get(url, headers={"If-Modified-Since": first.headers["last-modified"]})
    assert since.status_code == 304

    assert feeds.revoke_token(course, "ana")
    revoked = client.get(url)
    unknown = client.get(tool.path("/calendar/" + "A" * 43 + ".ics"))
    assert revoked.status_code == unknown.status_code == 404
    assert revoked.text == unknown.text
    # The test's own HTTP client logs the URLs it fetches; the server side must not.
    server_lines = [
        r.getMessage() for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))
    ]
    assert not [line for line in server_lines if token in line]
