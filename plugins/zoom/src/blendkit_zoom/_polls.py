"""Live-poll answers and Q&A of a past Zoom meeting, as per-participant evidence values.

Zoom reports poll answers per participant (name, email) per question; blendkit keeps one
:class:`PollAnswer` per answered question so an app can turn "answered the warm-up poll" or
"asked a question" into progression evidence. Participants are identified by email, the only
identity Zoom gives here; rows without email are kept with ``email=None``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from blendkit.sessions import ProviderPollAnswer, ProviderQuestion
from blendkit_zoom._convert import parse_time

__all__ = [
    "PollAnswer",
    "QuestionAsked",
    "answers_by_email",
    "as_participation",
    "poll_answers",
    "questions_asked",
]


class PollAnswer(BaseModel):
    """One participant's answer to one poll question in one meeting instance."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    meeting_id: str
    occurrence_id: str | None = None
    poll_id: str | None = None
    question: str
    answer: str
    email: str | None = None
    name: str = ""
    answered_at: datetime | None = None


class QuestionAsked(BaseModel):
    """A question a participant asked in the meeting's Q&A, with the answer when given."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    meeting_id: str
    occurrence_id: str | None = None
    question: str = Field(min_length=1)
    answer: str = ""
    email: str | None = None
    name: str = ""


def poll_answers(meeting_id: str, body: dict[str, Any]) -> list[PollAnswer]:
    """Flatten ``GET /past_meetings/{id}/polls`` (or the report variant) into answers."""
    occurrence = _text(body.get("uuid")) or None
    found: list[PollAnswer] = []
    for person in _dicts(body.get("questions")):
        email = _text(person.get("email")).lower() or None
        name = _text(person.get("name"))
        for detail in _dicts(person.get("question_details")):
            question = _text(detail.get("question"))
            if not question:
                continue
            found.append(
                PollAnswer(
                    meeting_id=meeting_id,
                    occurrence_id=occurrence,
                    poll_id=_text(detail.get("polling_id")) or None,
                    question=question,
                    answer=_text(detail.get("answer")),
                    email=email,
                    name=name,
                    answered_at=parse_time(detail.get("date_time")),
                )
            )
    return found


def questions_asked(meeting_id: str, body: dict[str, Any]) -> list[QuestionAsked]:
    """Flatten ``GET /past_meetings/{id}/qa`` into one value per question asked."""
    occurrence = _text(body.get("uuid")) or None
    found: list[QuestionAsked] = []
    for person in _dicts(body.get("questions")):
        email = _text(person.get("email")).lower() or None
        name = _text(person.get("name"))
        for detail in _dicts(person.get("question_details")):
            question = _text(detail.get("question"))
            if question:
                found.append(
                    QuestionAsked(
                        meeting_id=meeting_id,
                        occurrence_id=occurrence,
                        question=question,
                        answer=_text(detail.get("answer")),
                        email=email,
                        name=name,
                    )
                )
    return found


def answers_by_email(answers: Iterable[PollAnswer]) -> dict[str, list[PollAnswer]]:
    """Answers grouped per participant email (rows without email are left out)."""
    grouped: dict[str, list[PollAnswer]] = {}
    for answer in answers:
        if answer.email:
            grouped.setdefault(answer.email, []).append(answer)
    return grouped


def _dicts(value: object) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def as_participation(
    answers: Iterable[PollAnswer], questions: Iterable[QuestionAsked]
) -> tuple[list[ProviderPollAnswer], list[ProviderQuestion]]:
    """Zoom's report rows as blendkit's provider-neutral values: one answer per participant and
    poll (Zoom reports one row per poll question; ``polling_id`` names the poll, the question
    text stands in when it is missing), one value per question asked."""
    seen: set[tuple[str | None, str]] = set()
    neutral: list[ProviderPollAnswer] = []
    for answer in answers:
        key = answer.poll_id or answer.question
        if (answer.email, key) in seen:
            continue
        seen.add((answer.email, key))
        neutral.append(
            ProviderPollAnswer(email=answer.email, poll_key=key, answered_at=answer.answered_at)
        )
    asked = [ProviderQuestion(email=q.email, question=q.question) for q in questions]
    return neutral, asked
