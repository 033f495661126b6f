"""Replaying time-ordered evidence through the gates: pieces about a locked item are held."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from blendkit.progression import (
    DateCondition,
    Evidence,
    Item,
    Module,
    Path,
    RecordingWatched,
    ScoreRecorded,
    TimedPiece,
    VideoWatched,
    flipped_classroom,
    replay,
)

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_a_piece_meets_the_gate_as_it_stood_at_its_moment() -> None:
    path = Path(
        id="dated",
        modules=(
            Module(
                id="m",
                items=(Item(id="v", kind="video", conditions=DateCondition(from_=T0)),),
            ),
        ),
    )
    early = TimedPiece(at=T0 - timedelta(hours=1), piece=VideoWatched(item="v", percent=100))
    late = TimedPiece(at=T0 + timedelta(hours=1), piece=VideoWatched(item="v", percent=40))
    result = replay(path, Evidence(), [late, early], T0 + timedelta(days=1))
    assert result.held == (1,), "the early piece (given second) was held"
    assert result.evidence.videos == {"v": 40}
    assert result.state("v") == "in_progress"


def test_evidence_captured_while_locked_never_counts_even_once_open() -> None:
    path = flipped_classroom(T0)
    at = T0 - timedelta(days=2)
    timeline = [
        TimedPiece(at=at, piece=VideoWatched(item="prework-video", percent=100)),
        TimedPiece(at=at, piece=ScoreRecorded(item="readiness-quiz", score=55, at=at)),
        TimedPiece(at=at, piece=RecordingWatched(item="live-session", percent=85)),
    ]
    locked = replay(path, Evidence(), timeline, T0)
    assert locked.held == (2,)
    assert locked.state("live-session") == "locked"
    passed = TimedPiece(
        at=at + timedelta(hours=1),
        piece=ScoreRecorded(item="readiness-quiz", score=80, at=at + timedelta(hours=1)),
    )
    opened = replay(path, Evidence(), [*timeline, passed], T0)
    assert opened.state("live-session") == "available", "the held recording does not count"
    again = TimedPiece(
        at=at + timedelta(hours=2), piece=RecordingWatched(item="live-session", percent=85)
    )
    done = replay(path, Evidence(), [*timeline, passed, again], T0)
    assert done.state("live-session") == "completed"
    assert done.evidence.completed_at["live-session"] == again.at, "completed when it happened"
