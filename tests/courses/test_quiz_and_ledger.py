"""Quiz grading treats form input as untrusted; the webhook ledger admits an event once."""

from __future__ import annotations

import string
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import blendkit.courses
from blendkit import BlendkitError, Store
from blendkit.courses import QUIZ_INVALID, Question, Quiz, StoreEventLedger

QUIZ = Quiz(
    pass_mark=50,
    questions=tuple(
        Question(id=f"q{i}", prompt=f"Q{i}", choices=("a", "b", "c"), correct=i % 3)
        for i in range(4)
    ),
)
answers = st.dictionaries(
    st.sampled_from(["q0", "q1", "q2", "q3", "zz"]),
    st.one_of(st.integers(-2, 5).map(str), st.text(string.printable, max_size=3)),
)


@settings(max_examples=300, deadline=None)
@given(answers)
def test_grading_accepts_exactly_complete_in_range_answers(sent: dict[str, str]) -> None:
    valid = set(sent) == {"q0", "q1", "q2", "q3"} and all(
        v.strip().lstrip("+-").isdigit() and 0 <= int(v) < 3 for v in sent.values()
    )
    if not valid:
        with pytest.raises(BlendkitError) as refused:
            QUIZ.grade(sent)
        assert (refused.value.code, refused.value.http_status) == (QUIZ_INVALID, 400)
        return
    result = QUIZ.grade(sent)
    right = sum(int(sent[q.id]) == q.correct for q in QUIZ.questions)
    assert result.correct == right
    assert result.score == pytest.approx(100 * right / 4)
    assert result.passed == (result.score >= 50)
    assert set(result.wrong) == {q.id for q in QUIZ.questions if int(sent[q.id]) != q.correct}


def test_quiz_definition_errors_are_caught() -> None:
    with pytest.raises(ValueError, match="correct=3"):
        Question(id="q", prompt="p", choices=("a", "b"), correct=3)
    with pytest.raises(ValueError, match="unique"):
        Quiz(questions=(QUIZ.questions[0], QUIZ.questions[0]))


def test_ledger_admits_each_event_once_across_threads(store: Store) -> None:
    ledger = StoreEventLedger(store)
    with ThreadPoolExecutor(8) as pool:
        firsts = list(pool.map(lambda _: ledger.first_time("zoom", "evt-1"), range(16)))
    assert firsts.count(True) == 1
    assert ledger.first_time("teams", "evt-1") is True, "event ids are per provider"


def test_public_names_are_sorted_and_resolve() -> None:
    names = blendkit.courses.__all__
    assert names == sorted(names)
    assert all(hasattr(blendkit.courses, n) for n in names)


line_text = (
    st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=30)
    .map(str.strip)
    .filter(bool)
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(line_text, st.lists(line_text, min_size=2, max_size=5), st.integers(0, 4)),
        min_size=1,
        max_size=6,
    )
)
def test_quiz_text_round_trips(specs: list[tuple[str, list[str], int]]) -> None:
    from blendkit.courses import quiz_from_text, quiz_to_text

    quiz = Quiz(
        questions=tuple(
            Question(id=f"q{i + 1}", prompt=p, choices=tuple(c), correct=k % len(c))
            for i, (p, c, k) in enumerate(specs)
        )
    )
    assert quiz_from_text(quiz_to_text(quiz)).questions == quiz.questions


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "no questions"),
        ("- a choice first\n", "line 1: a choice comes before"),
        ("? Q\n* a\n", "line 1: a question needs 2 to 10 choices"),
        ("? Q\n- a\n- b\n", "line 1: mark exactly one choice as right with '* ' (0 marked)"),
        ("? Q\n* a\n* b\n", "(2 marked)"),
        ("? Q\n* a\n- b\n\nwhat\n", "line 5: start it with"),
    ],
)
def test_quiz_text_errors_name_their_line(text: str, needle: str) -> None:
    from blendkit.courses import quiz_from_text

    with pytest.raises(BlendkitError) as refused:
        quiz_from_text(text)
    assert refused.value.code == QUIZ_INVALID
    assert needle in refused.value.message
