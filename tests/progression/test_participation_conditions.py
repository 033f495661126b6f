"""polls_answered and asked_question: counted from distinct polls and questions of the session
item, whatever the order, repetition or mix of the evidence (hypothesis against a plain oracle)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from blendkit.progression import (
    AskedQuestionCondition,
    Evidence,
    Item,
    Module,
    PollAnswered,
    PollsAnsweredCondition,
    QuestionRaised,
    condition_from_dict,
    evaluate,
)
from blendkit.progression import Path as CoursePath
from tests.progression.strategies import NOW, T0

ITEMS = ("live", "other")
pieces = st.lists(
    st.one_of(
        st.builds(PollAnswered, item=st.sampled_from(ITEMS), poll=st.sampled_from("abcde")),
        st.builds(
            QuestionRaised,
            item=st.sampled_from(ITEMS),
            question=st.sampled_from("xyz"),
            action=st.sampled_from(["asked", "upvoted"]),
        ),
    ),
    max_size=12,
)


def _path(count: int, upvotes: bool) -> CoursePath:
    items = (
        Item(id="live", title="Live", kind="live_session"),
        Item(id="other", title="Other", kind="live_session"),
        Item(id="polled", conditions=PollsAnsweredCondition(item="live", count=count)),
        Item(id="asked", conditions=AskedQuestionCondition(item="live", upvotes=upvotes)),
    )
    return CoursePath(id="p", course_start=T0, modules=(Module(id="m", items=items),))


@settings(max_examples=200, deadline=None)
@given(pieces, st.integers(1, 5), st.booleans())
def test_conditions_count_distinct_participation_of_their_item(
    batch: list[PollAnswered | QuestionRaised], count: int, upvotes: bool
) -> None:
    polls = {p.poll for p in batch if isinstance(p, PollAnswered) and p.item == "live"}
    raised = {p.action for p in batch if isinstance(p, QuestionRaised) and p.item == "live"}
    expect_polled = len(polls) >= count
    expect_asked = "asked" in raised or (upvotes and "upvoted" in raised)

    evidence = Evidence().apply_all(list(batch))
    states = dict(evaluate(_path(count, upvotes), evidence, NOW).states())
    assert (states["polled"] != "locked") == expect_polled
    assert (states["asked"] != "locked") == expect_asked
    # applying everything twice (a resent report) changes nothing
    assert evidence.apply_all(list(batch)) == evidence


@given(st.integers(1, 1000), st.booleans())
def test_conditions_round_trip_through_their_documents(count: int, upvotes: bool) -> None:
    for condition in (
        PollsAnsweredCondition(item="live", count=count),
        AskedQuestionCondition(item="live", upvotes=upvotes),
    ):
        assert condition_from_dict(condition.model_dump(mode="json")) == condition
