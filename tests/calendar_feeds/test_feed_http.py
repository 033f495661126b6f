"""Answering a calendar app's poll: strong ETag, Last-Modified, 304s, and nothing that tells an
unknown token from a revoked one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from hypothesis import given
from hypothesis import strategies as st

from blendkit.calendar import CALENDAR_CONTENT_TYPE, feed_not_found, feed_response, strong_etag
from blendkit.lti import HttpRequest

BODY = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
CHANGED = datetime(2030, 3, 4, 12, 30, 15, 123456, tzinfo=UTC)


def _get(**headers: str) -> HttpRequest:
    return HttpRequest(method="GET", headers=headers)


def test_a_first_fetch_gets_the_calendar_with_its_validators() -> None:
    answer = feed_response(_get(), BODY, CHANGED)
    assert answer.status == 200
    assert answer.header("content-type") == CALENDAR_CONTENT_TYPE
    assert answer.header("etag") == strong_etag(BODY)
    assert not answer.header("etag").startswith("W/")  # type: ignore[union-attr]
    assert answer.header("last-modified") == "Mon, 04 Mar 2030 12:30:15 GMT"
    assert answer.body.encode() == BODY


def test_if_none_match_with_the_current_tag_is_304_without_a_body() -> None:
    tag = strong_etag(BODY)
    for header in (tag, f'"other", {tag}', "*"):
        answer = feed_response(_get(**{"If-None-Match": header}), BODY, CHANGED)
        assert (answer.status, answer.body) == (304, "")
        assert answer.header("etag") == tag
    stale = feed_response(_get(**{"If-None-Match": strong_etag(b"old")}), BODY, CHANGED)
    assert stale.status == 200


def test_if_none_match_wins_over_if_modified_since() -> None:
    since = format_datetime(CHANGED + timedelta(days=1), usegmt=True)
    headers = {"If-None-Match": strong_etag(b"old"), "If-Modified-Since": since}
    assert feed_response(_get(**headers), BODY, CHANGED).status == 200


@given(st.integers(-10_000, 10_000))
def test_if_modified_since_is_304_exactly_when_nothing_changed_after_it(seconds: int) -> None:
    since = CHANGED.replace(microsecond=0) + timedelta(seconds=seconds)
    answer = feed_response(
        _get(**{"If-Modified-Since": format_datetime(since, usegmt=True)}), BODY, CHANGED
    )
    assert answer.status == (304 if seconds >= 0 else 200)


@given(st.text(max_size=60))
def test_a_malformed_if_modified_since_is_ignored(header: str) -> None:
    try:
        answer = feed_response(_get(**{"If-Modified-Since": header}), BODY, CHANGED)
    except ValueError:  # a header value HttpRequest itself refuses
        return
    assert answer.status in (200, 304)
    assert answer.status == 200 or header.strip()


def test_not_found_says_nothing_about_the_token() -> None:
    answer = feed_not_found()
    assert answer.status == 404
    assert "revoked" not in answer.body.lower()
    assert "unknown" not in answer.body.lower()
