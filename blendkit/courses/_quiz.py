"""Built-in multiple-choice quizzes: questions, a pass mark, an attempt limit, and grading.

Answers arrive as untrusted form input, so :meth:`Quiz.grade` names every problem (unknown
question, missing answer, choice out of range) instead of guessing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from blendkit.errors import CourseInputInvalid

__all__ = ["QUIZ_INVALID", "Question", "Quiz", "QuizResult", "quiz_from_text", "quiz_to_text"]

QUIZ_INVALID = "courses.quiz_invalid"


def QuizInvalid(message: str) -> CourseInputInvalid:  # reads like the error it builds
    """A submitted attempt that cannot be graded as sent (400, ``courses.quiz_invalid``)."""
    return CourseInputInvalid(message, code=QUIZ_INVALID)


class Question(BaseModel):
    """One question with its choices; ``correct`` is the index of the right choice."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
    prompt: str = Field(min_length=1)
    choices: tuple[str, ...] = Field(min_length=2, max_length=10)
    correct: int = Field(ge=0)

    @model_validator(mode="after")
    def _correct_in_range(self) -> Question:
        if self.correct >= len(self.choices):
            raise ValueError(
                f"question {self.id}: correct={self.correct} but only {len(self.choices)} choices"
            )
        return self


class QuizResult(BaseModel):
    """A graded attempt: score in percent, pass or fail, and what was answered."""

    model_config = ConfigDict(frozen=True)

    score: float
    passed: bool
    correct: int
    total: int
    answers: dict[str, int]
    wrong: tuple[str, ...]


class Quiz(BaseModel):
    """A multiple-choice quiz for one path item."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str = ""
    questions: tuple[Question, ...] = Field(min_length=1)
    pass_mark: float = Field(default=60, ge=0, le=100)
    max_attempts: int | None = Field(default=3, ge=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> Quiz:
        ids = [q.id for q in self.questions]
        if len(set(ids)) != len(ids):
            raise ValueError("question ids must be unique within a quiz")
        return self

    def grade(self, answers: Mapping[str, str | int]) -> QuizResult:
        """Grade form answers ``{question_id: choice_index}``; raises ``courses.quiz_invalid``."""
        known = {q.id for q in self.questions}
        extra = sorted(set(answers) - known)
        if extra:
            raise QuizInvalid(
                f"the attempt answers questions this quiz does not have: {', '.join(extra)}; "
                "reload the quiz page and submit again"
            )
        chosen: dict[str, int] = {}
        missing = []
        for question in self.questions:
            raw = answers.get(question.id)
            if raw is None or str(raw).strip() == "":
                missing.append(question.id)
                continue
            try:
                index = int(str(raw))
            except ValueError:
                raise QuizInvalid(
                    f"the answer to question {question.id} is {str(raw)[:20]!r}, not a choice "
                    "number; pick one of the offered choices"
                ) from None
            if not 0 <= index < len(question.choices):
                raise QuizInvalid(
                    f"the answer to question {question.id} is choice {index}, but it has "
                    f"{len(question.choices)} choices (0–{len(question.choices) - 1})"
                )
            chosen[question.id] = index
        if missing:
            raise QuizInvalid(
                f"{len(missing)} question(s) unanswered ({', '.join(missing)}); answer every "
                "question before submitting"
            )
        wrong = tuple(q.id for q in self.questions if chosen[q.id] != q.correct)
        right = len(self.questions) - len(wrong)
        score = round(100 * right / len(self.questions), 2)
        return QuizResult(
            score=score,
            passed=score >= self.pass_mark,
            correct=right,
            total=len(self.questions),
            answers=chosen,
            wrong=wrong,
        )


def quiz_to_text(quiz: Quiz) -> str:
    """The questions in the editable text form :func:`quiz_from_text` reads."""
    blocks = []
    for question in quiz.questions:
        lines = [f"? {question.prompt}"]
        lines += [
            f"{'*' if index == question.correct else '-'} {choice}"
            for index, choice in enumerate(question.choices)
        ]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


@dataclass
class _Draft:
    prompt: str
    line: int
    choices: list[str] = field(default_factory=list)
    correct: list[int] = field(default_factory=list)


def quiz_from_text(
    text: str, *, title: str = "", pass_mark: float = 60, max_attempts: int | None = 3
) -> Quiz:
    """Questions from lines ``? prompt``, ``* right choice``, ``- other choice`` (one right
    choice per question); every problem names its line. Raises ``courses.quiz_invalid``."""
    drafts: list[_Draft] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        marker, _, body = line.partition(" ")
        body = body.strip()
        if marker == "?" and body:
            drafts.append(_Draft(prompt=body, line=number))
        elif marker in ("*", "-") and body:
            if not drafts:
                raise QuizInvalid(f"line {number}: a choice comes before any '? question' line")
            if marker == "*":
                drafts[-1].correct.append(len(drafts[-1].choices))
            drafts[-1].choices.append(body)
        else:
            raise QuizInvalid(
                f"line {number}: start it with '? ' (a question), '* ' (the right choice) or "
                "'- ' (another choice), followed by text"
            )
    if not drafts:
        raise QuizInvalid("the quiz has no questions: write at least one '? question' line")
    questions = []
    for index, draft in enumerate(drafts, start=1):
        if not 2 <= len(draft.choices) <= 10:
            raise QuizInvalid(f"line {draft.line}: a question needs 2 to 10 choices")
        if len(draft.correct) != 1:
            raise QuizInvalid(
                f"line {draft.line}: mark exactly one choice as right with '* ' "
                f"({len(draft.correct)} marked)"
            )
        questions.append(
            Question(id=f"q{index}", prompt=draft.prompt, choices=tuple(draft.choices),
                     correct=draft.correct[0])
        )  # fmt: skip
    try:
        return Quiz(title=title, questions=tuple(questions), pass_mark=pass_mark,
                    max_attempts=max_attempts)  # fmt: skip
    except ValueError as exc:
        raise QuizInvalid(f"the quiz settings are not valid: {exc}") from None
