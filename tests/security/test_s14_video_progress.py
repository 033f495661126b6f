"""Suspicion 14: a path video completed by one POST of ``percent=100``.

``/item/<id>/progress`` records the share of a path video the learner's player (or the *I have
watched the whole video* button) reports. The recording player's reports are held to the clock
(played seconds at most the time since the learner opened it at 2x speed, plus 5 s); the path
video's were not, so a gate behind a 20-minute video opened with one request the moment the
video's page was opened, or without ever opening it. For a video whose length the path knows
(``duration_minutes``) the same check now applies: both tests through the app failed before.
A video of unknown length is still taken at its word (docs/app/learner.md).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blendkit import CourseInputInvalid
from blendkit.courses import check_video_report
from blendkit.progression import (
    CompletionCondition,
    Item,
    ItemViewed,
    Module,
    Path,
    WatchedCondition,
)
from tests.app import conftest as app
from tests.app.conftest import Tool
from tests.security.test_f04_gate_bypass import _course_of, _learner, _states, player_report

tool = app.tool  # the example tool launched on a real SQLite store (a fixture)

LECTURE = Item(
    id="lecture", kind="video", duration_minutes=20,
    complete_when=WatchedCondition(item="lecture", percent=90),
)  # fmt: skip


AFTER = Item(id="after", kind="reading", conditions=CompletionCondition(item="lecture"))


def _video_course(tool: Tool) -> None:
    """A 20-minute video (90% completes it) gating a reading."""
    courses, _, course = _course_of(tool)
    module = Module(id="m", items=(LECTURE, AFTER))
    courses.set_path(course, Path(id="timed-video", modules=(module,)))


def _opened_minutes_ago(tool: Tool, sub: str, minutes: float) -> None:
    """The learner's first view of the lecture, as if they had opened it ``minutes`` ago (the
    earliest view is the one kept)."""
    courses, _, course = _course_of(tool)
    at = datetime.now(UTC) - timedelta(minutes=minutes)
    courses.record(course, sub, ItemViewed(item="lecture", at=at))


def test_one_post_of_100_percent_right_after_opening_opens_no_gate(tool: Tool) -> None:
    ana = _learner(tool)
    _video_course(tool)
    assert tool.get("/item/lecture", ana).status_code == 200
    form = tool.post("/item/lecture/progress", ana, {"percent": "100"})
    assert form.status_code == 409
    assert "courses.implausible_video_report" in form.get_data(as_text=True)
    assert player_report(tool, ana, "lecture", length=1200).status_code == 409
    assert _states(tool, "ana")["after"] == "locked"
    # Eleven minutes later, 20 minutes of video at 2x fit: the same report counts.
    _opened_minutes_ago(tool, "ana", 11)
    assert tool.post("/item/lecture/progress", ana, {"percent": "100"}).status_code == 302
    assert _states(tool, "ana")["after"] != "locked"


def test_a_report_for_a_video_never_opened_counts_for_nothing(tool: Tool) -> None:
    ana = _learner(tool)
    _video_course(tool)
    form = tool.post("/item/lecture/progress", ana, {"percent": "100"})
    assert form.status_code == 409
    assert "courses.video_not_opened" in form.get_data(as_text=True)
    assert _states(tool, "ana")["after"] == "locked"


NOW = datetime(2031, 1, 6, 12, tzinfo=UTC)


@given(percent=st.floats(0, 100), elapsed=st.floats(0, 3600))
def test_a_report_counts_exactly_when_the_clock_allows_it(percent: float, elapsed: float) -> None:
    opened = NOW - timedelta(seconds=elapsed)
    claimed = percent / 100 * 20 * 60
    allowed = (NOW - opened).total_seconds() * 2 + 5
    if claimed <= allowed:
        check_video_report(LECTURE, percent, opened, NOW)
    else:
        with pytest.raises(CourseInputInvalid) as refused:
            check_video_report(LECTURE, percent, opened, NOW)
        assert refused.value.code == "courses.implausible_video_report"


@given(percent=st.floats(0, 100))
def test_a_video_of_unknown_length_is_taken_at_its_word(percent: float) -> None:
    check_video_report(LECTURE.model_copy(update={"duration_minutes": None}), percent, None, NOW)
