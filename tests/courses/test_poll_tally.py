"""Poll results from grouped counts (one ``GROUP BY`` of the stored answers) equal the
results of aggregating every answer one by one, whatever the answers are."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st
from pydantic import JsonValue

from blendkit.courses._poll_models import Poll, PollKind, aggregate, tally

_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

# What the answers table may hold: valid answers of every kind, and stray values the
# aggregation must ignore the same way in both paths.
answers = st.lists(
    st.one_of(
        st.integers(min_value=-1, max_value=6),
        st.lists(st.integers(min_value=-1, max_value=4), max_size=4),
        st.text(max_size=5),
        st.booleans(),
    ),
    max_size=40,
)


def _poll(kind: PollKind) -> Poll:
    options = ("a", "b", "c", "d") if kind in ("single", "multi") else ()
    return Poll(
        id="p", session_id="s", kind=kind, question="?", options=options, max_length=280,
        state="open", created_at=_AT, opened_at=_AT, closed_at=None,
    )  # fmt: skip


@given(kind=st.sampled_from(["single", "multi", "rating", "text"]), given_answers=answers)
def test_grouped_counts_give_the_same_results(
    kind: PollKind, given_answers: list[JsonValue]
) -> None:
    poll = _poll(kind)
    stored = Counter(json.dumps(a) for a in given_answers)  # what GROUP BY answer returns
    counted = [(json.loads(text), n) for text, n in stored.items()]
    assert tally(poll, counted, given_answers) == aggregate(poll, given_answers)
