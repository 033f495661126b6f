"""Played segments: what a player may report, and the union the server keeps."""

from __future__ import annotations

import itertools
import math
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blendkit.courses import check_segments, covered_seconds, union_segments
from blendkit.courses._segments import (
    MAX_PLAYBACK_RATE,
    PLAY_SLACK_SECONDS,
    check_played_in_time,
    played_segments_text,
)
from blendkit.errors import CourseInputInvalid

DURATION = 600.0
seconds = st.floats(min_value=0, max_value=DURATION, allow_nan=False)
pairs = st.tuples(seconds, seconds).map(lambda p: (min(p), max(p)))
reports = st.lists(pairs, max_size=30)


def _covers(segments: tuple[tuple[float, float], ...], t: float) -> bool:
    return any(a <= t <= b for a, b in segments)


@given(reports)
def test_union_is_idempotent(ranges: list[tuple[float, float]]) -> None:
    once = union_segments(ranges)
    assert union_segments(once) == once
    assert union_segments([*once, *ranges]) == once


@given(reports, st.randoms(use_true_random=False))
def test_union_does_not_depend_on_report_order(
    ranges: list[tuple[float, float]], rnd: random.Random
) -> None:
    shuffled = list(ranges)
    rnd.shuffle(shuffled)
    assert union_segments(shuffled) == union_segments(ranges)
    # reported in two posts, in either order: the same union
    half = len(ranges) // 2
    two_posts = union_segments([*union_segments(ranges[half:]), *ranges[:half]])
    assert two_posts == union_segments(ranges)


@given(reports)
def test_union_is_disjoint_sorted_and_bounded_by_the_duration(
    ranges: list[tuple[float, float]],
) -> None:
    merged = union_segments(ranges)
    for (_, end), (start, _) in itertools.pairwise(merged):
        assert end < start, "ranges left touching or overlapping"
    covered = covered_seconds(ranges)
    assert 0 <= covered <= DURATION
    assert covered <= sum(b - a for a, b in ranges) + 1e-9
    # every point a report played is covered, and nothing else is
    for a, b in ranges:
        if b > a:
            assert _covers(merged, (a + b) / 2)
    starts, ends = {a for a, b in ranges if b > a}, {b for a, b in ranges if b > a}
    for a, b in merged:  # a merged range starts and ends where some reported range does
        assert a in starts
        assert b in ends


@given(st.floats(min_value=1, max_value=DURATION - 1))
def test_a_seek_jump_is_not_playing(target: float) -> None:
    """A player that seeks from 0 to ``target`` and plays one second reports only that second."""
    assert covered_seconds([(0.0, 0.0), (target, target + 1)]) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ([[-1, 5]], "before the recording"),
        ([[10, 5]], "ends (5 s) before it starts (10 s)"),
        ([[0, DURATION + 60]], "after the recording's 600 s"),
        ([[math.nan, 5]], "not a finite number"),
        ([[0, math.inf]], "not a finite number"),
        ([["0", 5]], "str, not a number"),
        ([[True, 5]], "bool, not a number"),
        ([[0, 5, 6]], "not a [start, end] pair"),
        ({"0": 5}, "must be a list"),
        ([[0, 1]] * 1001, "at most 1000"),
    ],
)
def test_impossible_ranges_are_refused_with_a_reason(raw: object, reason: str) -> None:
    with pytest.raises(CourseInputInvalid) as refused:
        check_segments(raw, DURATION)
    assert refused.value.code == "recordings.segments_invalid"
    assert reason in refused.value.message


def test_a_little_past_the_end_is_cut_to_the_duration() -> None:
    assert check_segments([[590, DURATION + 1.5]], DURATION) == [(590.0, DURATION)]


def test_no_duration_no_progress() -> None:
    with pytest.raises(CourseInputInvalid, match="duration"):
        check_segments([[0, 1]], 0)


@given(st.lists(pairs, min_size=1, max_size=10))
def test_played_segments_text_is_the_video_profile_form(ranges: list[tuple[float, float]]) -> None:
    merged = union_segments(ranges)
    text = played_segments_text(merged)
    if not merged:
        assert text == ""
        return
    parsed = [tuple(float(x) for x in part.split("[.]")) for part in text.split("[,]")]
    assert len(parsed) == len(merged)
    for (a, b), (x, y) in zip(parsed, merged, strict=True):
        assert a == pytest.approx(x, abs=1e-3)
        assert b == pytest.approx(y, abs=1e-3)


@given(st.floats(min_value=0, max_value=3600), st.floats(min_value=0, max_value=7200))
def test_more_play_than_the_clock_allows_is_refused(elapsed: float, covered: float) -> None:
    opened = datetime(2030, 1, 1, tzinfo=UTC)
    now = opened + timedelta(seconds=elapsed)
    allowed = elapsed * MAX_PLAYBACK_RATE + PLAY_SLACK_SECONDS
    if covered <= allowed - 1e-6:
        check_played_in_time(covered, opened, now)
    elif covered > allowed + 1e-6:
        with pytest.raises(CourseInputInvalid) as refused:
            check_played_in_time(covered, opened, now)
        assert refused.value.code == "recordings.implausible_report"
