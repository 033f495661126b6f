"""Played segments of a recording: checking what a player reports, and their union; and the
same clock check for a learner's report on a path video of known length.

Sans-IO: a player reports the ranges it played (``[start, end]`` in seconds of the media); the
server keeps their union, so playing a part twice counts once and a seek jump (which the player
never reports as played) counts for nothing. Progress is the covered share of the duration the
server knows, never a figure the player sends.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime

from blendkit.errors import CourseInputInvalid
from blendkit.progression import Item

__all__ = [
    "DURATION_TOLERANCE",
    "MAX_PLAYBACK_RATE",
    "MAX_KEPT_SEGMENTS",
    "MAX_SEGMENTS",
    "PLAY_SLACK_SECONDS",
    "Segment",
    "check_kept_segments",
    "check_played_in_time",
    "check_segments",
    "check_video_report",
    "covered_seconds",
    "played_segments_text",
    "union_segments",
]

Segment = tuple[float, float]

MAX_SEGMENTS = 1000
"""The most ranges one report may carry (a player merging adjacent ranges sends a handful)."""

MAX_KEPT_SEGMENTS = MAX_SEGMENTS
"""The most disjoint ranges a learner's view of a recording keeps: tiny ranges sent report after
report would otherwise grow the stored union, and every statement after it, without a bound."""

DURATION_TOLERANCE = 2.0
"""Seconds a range may run past the known duration (containers and providers round lengths);
the excess is cut off, a range further out is refused."""

MAX_PLAYBACK_RATE = 2.0
"""The fastest playback that counts as watching: media seconds per second of wall-clock time."""

PLAY_SLACK_SECONDS = 5.0
"""Seconds of play allowed beyond what the wall clock permits (clock steps, request latency)."""


def _refuse(reason: str) -> CourseInputInvalid:
    return CourseInputInvalid(
        f"played segments refused: {reason}", code="recordings.segments_invalid", http_status=400
    )


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _refuse(f"{where} is {type(value).__name__}, not a number of seconds")
    number = float(value)
    if not math.isfinite(number):
        raise _refuse(f"{where} is {number}, not a finite number of seconds")
    return number


def check_segments(raw: object, duration: float) -> list[Segment]:
    """The ranges of a report as ``(start, end)`` pairs within ``[0, duration]``.

    Refuses (``recordings.segments_invalid``, naming the first bad range) anything but a list
    of at most :data:`MAX_SEGMENTS` pairs of finite numbers with ``0 <= start <= end`` and an
    end no more than :data:`DURATION_TOLERANCE` seconds past ``duration`` (cut to ``duration``).
    """
    if not math.isfinite(duration) or duration <= 0:
        raise _refuse(f"the recording's duration {duration} is unknown, so no progress counts")
    if not isinstance(raw, list | tuple):
        raise _refuse(f"segments must be a list of [start, end] pairs, not {type(raw).__name__}")
    if len(raw) > MAX_SEGMENTS:
        raise _refuse(f"{len(raw)} ranges in one report; at most {MAX_SEGMENTS}")
    found: list[Segment] = []
    for n, pair in enumerate(raw):
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise _refuse(f"range {n} is not a [start, end] pair")
        start = _number(pair[0], f"the start of range {n}")
        end = _number(pair[1], f"the end of range {n}")
        if start < 0:
            raise _refuse(f"range {n} starts at {start:g} s, before the recording")
        if end < start:
            raise _refuse(f"range {n} ends ({end:g} s) before it starts ({start:g} s)")
        if end > duration + DURATION_TOLERANCE:
            raise _refuse(f"range {n} ends at {end:g} s, after the recording's {duration:g} s")
        found.append((min(start, duration), min(end, duration)))
    return found


def union_segments(segments: Iterable[Segment]) -> tuple[Segment, ...]:
    """The union of ``segments`` as sorted, disjoint ranges (touching ranges are joined; empty
    ranges vanish)."""
    merged: list[list[float]] = []
    for start, end in sorted(s for s in segments if s[1] > s[0]):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((a, b) for a, b in merged)


def check_kept_segments(merged: Sequence[Segment]) -> None:
    """Refuse (``recordings.segments_invalid``) a report whose union with what the learner
    played before would keep more than :data:`MAX_KEPT_SEGMENTS` separate ranges."""
    if len(merged) > MAX_KEPT_SEGMENTS:
        raise _refuse(
            f"the report would leave {len(merged)} separate played ranges; a view keeps at most "
            f"{MAX_KEPT_SEGMENTS} (a player reports the ranges it played, not single frames)"
        )


def covered_seconds(segments: Iterable[Segment]) -> float:
    """Seconds of media the union of ``segments`` covers."""
    return sum(end - start for start, end in union_segments(segments))


def played_segments_text(segments: Sequence[Segment]) -> str:
    """The xAPI Video Profile's ``played-segments`` form: ``0[.]12.5[,]30[.]41``."""
    return "[,]".join(f"{round(a, 3):g}[.]{round(b, 3):g}" for a, b in segments)


def check_played_in_time(
    covered: float,
    opened_at: datetime,
    now: datetime,
    *,
    what: str = "the recording",
    code: str = "recordings.implausible_report",
) -> None:
    """Refuse (``code``) more seconds played than the time since the learner first opened
    ``what`` allows at :data:`MAX_PLAYBACK_RATE`."""
    elapsed = max(0.0, (now - opened_at).total_seconds())
    allowed = elapsed * MAX_PLAYBACK_RATE + PLAY_SLACK_SECONDS
    if covered > allowed:
        raise CourseInputInvalid(
            f"the player reports {covered:.0f} s of {what} played, but it was opened "
            f"{elapsed:.0f} s ago, which allows at most {allowed:.0f} s at "
            f"{MAX_PLAYBACK_RATE:g}x speed; the report is not counted",
            code=code,
            http_status=409,
        )


def check_video_report(
    item: Item, percent: float, opened_at: datetime | None, now: datetime
) -> None:
    """A learner's own report of ``percent`` watched of a path video: when the path knows the
    video's length (``duration_minutes``), refused if the learner never opened the item
    (``courses.video_not_opened``) or if that share is more than the time since the first
    opening allows, as the recording player's reports are (``courses.implausible_video_report``).
    A video of unknown length is taken at its word."""
    if item.duration_minutes is None:
        return
    if opened_at is None:
        raise CourseInputInvalid(
            f"the video {item.id!r} was never opened in the tool, so a report of watching it "
            "is not counted; open its page and watch it there",
            code="courses.video_not_opened",
            http_status=409,
        )
    claimed = percent / 100 * item.duration_minutes * 60
    check_played_in_time(
        claimed, opened_at, now, what=f"the video {item.id!r}",
        code="courses.implausible_video_report",
    )  # fmt: skip
