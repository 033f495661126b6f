"""Values of live polls and the Q&A board: what pages render and JSON endpoints send."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from blendkit.errors import CourseInputInvalid

__all__ = [
    "BoardQuestion",
    "Poll",
    "PollKind",
    "PollResults",
    "PollState",
    "ParticipationReport",
    "RATING_SCALE",
    "TEXT_CAP",
    "aggregate",
    "as_poll",
    "TEXTS_SHOWN",
    "check_answer",
    "tally",
]

PollKind = Literal["single", "multi", "rating", "text"]
PollState = Literal["draft", "open", "closed"]
RATING_SCALE = (1, 2, 3, 4, 5)
TEXTS_SHOWN = 50
TEXT_CAP = 280
"""Default length cap of a short-text answer (the instructor may choose 1–1000)."""

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class Poll(BaseModel):
    """One poll of a live session."""

    model_config = _FROZEN

    id: str
    session_id: str
    kind: PollKind
    question: str
    options: tuple[str, ...] = ()
    max_length: int = TEXT_CAP
    state: PollState = "draft"
    created_at: datetime
    opened_at: datetime | None = None
    closed_at: datetime | None = None


class PollResults(BaseModel):
    """Aggregated answers of one poll: counts per option (choice and rating polls), the mean
    rating, and the latest short-text answers (without names)."""

    model_config = _FROZEN

    poll_id: str
    kind: PollKind
    state: PollState
    respondents: int
    counts: tuple[int, ...] = ()
    labels: tuple[str, ...] = ()
    mean: float | None = None
    texts: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, JsonValue]:
        """JSON-ready plain dict."""
        return self.model_dump(mode="json")


class BoardQuestion(BaseModel):
    """A question on the Q&A board as one viewer may see it (``author`` is None when the
    question is anonymous to this viewer)."""

    model_config = _FROZEN

    id: str
    text: str
    author: str | None
    anonymous: bool
    mine: bool
    upvotes: int
    upvoted: bool
    hidden: bool
    pinned: bool
    answer: str | None
    asked_at: datetime


class ParticipationReport(BaseModel):
    """What an import of a provider's poll and Q&A reports turned into evidence."""

    model_config = _FROZEN

    session_id: str
    answers_matched: int = 0
    questions_matched: int = 0
    learners: tuple[str, ...] = ()
    unmatched: tuple[str, ...] = Field(
        default=(), description="e-mails (or '(no e-mail)') no enrolment could be tied to"
    )


def check_answer(poll: Poll, raw: JsonValue) -> JsonValue:
    """The answer in its stored shape, or ``polls.invalid_answer`` naming what is wrong:
    ``single``: one option index; ``multi``: distinct option indexes; ``rating``: 1–5;
    ``text``: non-empty text within the poll's cap."""
    if poll.kind == "text":
        text = raw.strip() if isinstance(raw, str) else ""
        if not text:
            raise _invalid("write an answer before sending it")
        if len(text) > poll.max_length:
            raise _invalid(f"answers to this poll are at most {poll.max_length} characters")
        return text
    if poll.kind == "rating":
        value = _integer(raw)
        if value not in RATING_SCALE:
            raise _invalid("choose a rating from 1 to 5")
        return value
    picks = raw if isinstance(raw, list) else [raw]
    chosen = sorted({_integer(v) for v in picks})
    if not chosen or any(not 0 <= v < len(poll.options) for v in chosen):
        raise _invalid("choose one of the poll's options")
    if poll.kind == "single" and len(chosen) != 1:
        raise _invalid("this poll takes exactly one option")
    if poll.kind == "single":
        return chosen[0]
    picked: list[JsonValue] = list(chosen)
    return picked


def aggregate(poll: Poll, answers: Sequence[JsonValue]) -> PollResults:
    """Counts per option or rating point, the mean rating, the latest texts (``answers``
    newest first)."""
    return tally(poll, [(a, 1) for a in answers], answers)


def tally(
    poll: Poll, counted: Sequence[tuple[JsonValue, int]], latest: Sequence[JsonValue] = ()
) -> PollResults:
    """:func:`aggregate` from ``(answer, how many learners gave it)`` pairs, as one
    ``GROUP BY`` of the stored answers returns them; ``latest``: a text poll's newest answers,
    newest first (only the first :data:`TEXTS_SHOWN` are shown)."""
    respondents = sum(n for _a, n in counted)
    if poll.kind == "text":
        texts = tuple(str(a) for a in latest[:TEXTS_SHOWN])
        return _results(poll, respondents, texts=texts)
    if poll.kind == "rating":
        counts = [0] * len(RATING_SCALE)
        for a, n in counted:
            if isinstance(a, int) and a in RATING_SCALE:
                counts[a - 1] += n
        total = sum(point * c for point, c in zip(RATING_SCALE, counts, strict=True))
        mean = round(total / respondents, 2) if respondents else None
        labels = tuple(str(point) for point in RATING_SCALE)
        return _results(poll, respondents, counts=tuple(counts), labels=labels, mean=mean)
    counts = [0] * len(poll.options)
    for a, n in counted:
        for pick in a if isinstance(a, list) else [a]:
            if isinstance(pick, int) and 0 <= pick < len(counts):
                counts[pick] += n
    return _results(poll, respondents, counts=tuple(counts), labels=poll.options)


def _results(poll: Poll, respondents: int, **parts: Any) -> PollResults:
    return PollResults(
        poll_id=poll.id, kind=poll.kind, state=poll.state, respondents=respondents, **parts
    )


def as_poll(row: Any) -> Poll:
    return Poll(
        id=row.id,
        session_id=row.session_id,
        kind=row.kind,
        question=row.question,
        options=tuple(json.loads(row.options)),
        max_length=row.max_length,
        state=row.state,
        created_at=row.created_at,
        opened_at=row.opened_at,
        closed_at=row.closed_at,
    )


def _integer(raw: JsonValue) -> int:
    if isinstance(raw, bool):
        raise _invalid("choose one of the poll's options")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
        return int(raw.strip())
    raise _invalid("choose one of the poll's options")


def _invalid(message: str) -> CourseInputInvalid:
    return CourseInputInvalid(message, code="polls.invalid_answer", http_status=400)
