"""Hypothesis strategies: conditions over a small fixed item set, evidence pieces, Moodle trees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from blendkit.progression import (
    AllOf,
    AnyOf,
    AskedQuestionCondition,
    AttendanceRecorded,
    AttendedCondition,
    CompletionCondition,
    CompletionRecorded,
    Condition,
    DateCondition,
    DeadlineCondition,
    DripCondition,
    Enrolled,
    ExtensionGranted,
    GroupCondition,
    GroupJoined,
    Item,
    ItemViewed,
    MasteryRange,
    MasteryRule,
    Module,
    Not,
    Override,
    OverrideAdded,
    Path,
    PeerReviewGiven,
    PeerReviewsCondition,
    PollAnswered,
    PollsAnsweredCondition,
    ProfileCondition,
    ProfileSet,
    QuestionRaised,
    RecordingWatched,
    RelativeDateCondition,
    RoleCondition,
    RoleGranted,
    ScoreCondition,
    ScoreRecorded,
    VideoWatched,
    ViewedCondition,
    WatchedCondition,
)

ITEMS = ["i0", "i1", "i2", "i3", "i4", "i5"]
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=10)
times = st.integers(min_value=-5, max_value=20).map(lambda d: T0 + timedelta(days=d))
percents = st.sampled_from([0.0, 10.0, 40.0, 50.0, 55.0, 69.5, 70.0, 80.0, 90.0, 100.0])
ids = st.sampled_from([None, None, "c1", "c2"])


def score_conditions(items: list[str], monotone: bool = False) -> st.SearchStrategy[Condition]:
    if monotone:
        return st.builds(ScoreCondition, item=st.sampled_from(items), min=st.none() | percents)

    @st.composite
    def build(draw: st.DrawFn) -> Condition:
        low = draw(st.none() | percents)
        high = draw(st.none() | percents.filter(lambda v: v > 0))
        if low is not None and high is not None and low >= high:
            low = None
        return ScoreCondition(
            item=draw(st.sampled_from(items)),
            min=low,
            max=high,
            attempt=draw(st.sampled_from(["best", "latest", "average"])),
            id=draw(ids),
        )

    return build()


def leaves(
    done_items: list[str], any_items: list[str], monotone: bool = False
) -> st.SearchStrategy[Condition]:
    """Leaf conditions; completion only on ``done_items`` (earlier items, so no cycles)."""
    options: list[st.SearchStrategy[Condition]] = [
        score_conditions(any_items, monotone),
        st.builds(
            AttendedCondition,
            item=st.sampled_from(any_items),
            minutes=st.none() | st.sampled_from([10.0, 30.0]),
            percent=st.none() | percents,
            recording=st.none() | percents,
        ),
        st.builds(WatchedCondition, item=st.sampled_from(any_items), percent=percents),
        st.builds(ViewedCondition, item=st.sampled_from(any_items)),
        st.builds(PeerReviewsCondition, item=st.sampled_from(any_items), count=st.integers(1, 3)),
        st.builds(PollsAnsweredCondition, item=st.sampled_from(any_items), count=st.integers(1, 3)),
        st.builds(AskedQuestionCondition, item=st.sampled_from(any_items), upvotes=st.booleans()),
        st.builds(GroupCondition, group=st.none() | st.sampled_from(["g1", "g2"])),
        st.builds(RoleCondition, roles=st.sampled_from([("student",), ("ta", "student"), ("ta",)])),
        st.builds(DateCondition, from_=times),
        st.builds(DateCondition, until=times),
    ]
    if done_items:
        states = (
            ["complete", "passed"] if monotone else ["complete", "incomplete", "passed", "failed"]
        )
        options.append(
            st.builds(
                CompletionCondition,
                item=st.sampled_from(done_items),
                state=st.sampled_from(states),
                id=st.none() if monotone else ids,
            )
        )
    if not monotone:
        options += [
            st.builds(DripCondition, days=st.sampled_from([0.0, 2.0, 7.0, 30.0])),
            st.builds(
                ProfileCondition,
                field=st.just("dept"),
                op=st.sampled_from(["isequalto", "contains", "startswith"]),
                value=st.sampled_from(["math", "ma", "bio"]),
            ),
            st.builds(
                RelativeDateCondition,
                amount=st.integers(0, 3),
                unit=st.sampled_from(["hours", "days", "weeks", "months"]),
                anchor=st.sampled_from(["course_start", "enrolment", "before_course_end"]),
            ),
            st.builds(DeadlineCondition, item=st.sampled_from(any_items)),
            st.builds(DeadlineCondition, item=st.sampled_from(any_items), at=times),
        ]
        if done_items:
            options.append(
                st.builds(
                    RelativeDateCondition,
                    amount=st.integers(0, 3),
                    unit=st.sampled_from(["hours", "days"]),
                    anchor=st.just("completion"),
                    item=st.sampled_from(done_items),
                )
            )
    return st.one_of(*options)


def conditions(
    done_items: list[str], any_items: list[str] | None = None, monotone: bool = False
) -> st.SearchStrategy[Condition]:
    base = leaves(done_items, any_items or ITEMS, monotone)

    def extend(children: st.SearchStrategy[Condition]) -> st.SearchStrategy[Condition]:
        lists = st.lists(children, min_size=0, max_size=3).map(tuple)
        options = [lists.map(lambda c: AllOf(all=c)), lists.map(lambda c: AnyOf(any=c))]
        if not monotone:
            options.append(children.map(lambda c: Not(not_=c)))
        return st.one_of(*options)

    return st.recursive(base, extend, max_leaves=4)


@st.composite
def paths(draw: st.DrawFn) -> Path:
    """A path over ITEMS; gates may read earlier items' completion, criteria are monotone."""
    items = []
    for n, item_id in enumerate(ITEMS):
        earlier = ITEMS[:n]
        gate = draw(st.none() | conditions(earlier))
        criterion = draw(st.none() | conditions(earlier, [item_id, *earlier], monotone=True))
        items.append(
            Item(
                id=item_id,
                title=f"Item {n}",
                kind=draw(st.sampled_from(["quiz", "video", "live_session", "reading"])),
                conditions=gate,
                complete_when=criterion,
                pass_mark=draw(st.none() | st.sampled_from([50.0, 70.0])),
                due=draw(st.none() | times),
                duration_minutes=draw(st.none() | st.sampled_from([40.0, 60.0])),
            )
        )
    mastery = ()
    if draw(st.booleans()):
        mastery = (
            MasteryRule(
                id="r",
                trigger="i0",
                attempt=draw(st.sampled_from(["best", "latest", "average"])),
                ranges=(
                    MasteryRange(label="low", max=50, release=("i4",)),
                    MasteryRange(label="high", min=50, release=("i5",)),
                ),
            ),
        )
    return Path(
        id="prop",
        course_start=T0,
        course_end=T0 + timedelta(days=60),
        modules=(
            Module(id="m1", items=tuple(items[:3]), sequential=draw(st.booleans())),
            Module(
                id="m2",
                items=tuple(items[3:]),
                conditions=draw(st.none() | conditions(ITEMS[:3])),
                sequential=draw(st.booleans()),
            ),
        ),
        mastery=mastery,
    )


def pieces(items: list[str] | None = None) -> st.SearchStrategy[Any]:
    item = st.sampled_from(items or ITEMS)
    override = st.builds(
        Override,
        item=item,
        action=st.sampled_from(["unlock", "waive"]),
        condition_id=st.sampled_from(["c1", "c2", "sequential"]),
        by=st.just("teacher"),
        at=times,
        reason=st.just("agreed in class"),
    )
    return st.one_of(
        st.builds(ScoreRecorded, item=item, score=percents, at=times),
        st.builds(
            CompletionRecorded,
            item=item,
            state=st.sampled_from(["incomplete", "complete", "passed", "failed"]),
            at=st.none() | times,
        ),
        st.builds(
            AttendanceRecorded,
            item=item,
            minutes=st.sampled_from([0.0, 5.0, 30.0, 60.0]),
            percent=percents,
        ),
        st.builds(RecordingWatched, item=item, percent=percents),
        st.builds(VideoWatched, item=item, percent=percents),
        st.builds(ItemViewed, item=item, at=times),
        st.builds(PeerReviewGiven, item=item, count=st.integers(1, 2)),
        st.builds(PollAnswered, item=item, poll=st.sampled_from(["p1", "p2", "p3"])),
        st.builds(
            QuestionRaised,
            item=item,
            question=st.sampled_from(["q1", "q2"]),
            action=st.sampled_from(["asked", "upvoted"]),
        ),
        st.builds(GroupJoined, group=st.sampled_from(["g1", "g2"])),
        st.builds(RoleGranted, role=st.sampled_from(["student", "ta"])),
        st.builds(ProfileSet, field=st.just("dept"), value=st.sampled_from(["math", "bio", ""])),
        st.builds(Enrolled, at=times),
        st.builds(ExtensionGranted, item=item, until=times),
        st.builds(OverrideAdded, override=override),
    )


# --- Moodle documents ---------------------------------------------------------------------------

unix = st.integers(min_value=0, max_value=2**31 - 1)
moodle_percent = st.floats(min_value=0, max_value=100, allow_nan=False).map(lambda v: round(v, 5))


@st.composite
def moodle_grade(draw: st.DrawFn) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "grade", "id": draw(st.integers(1, 10**6))}
    low, high = draw(st.none() | moodle_percent), draw(st.none() | moodle_percent)
    if low is not None and high is not None and low >= high:
        high = None
    if low is not None:
        node["min"] = low
    if high is not None:
        node["max"] = high
    return node


@st.composite
def moodle_relative(draw: st.DrawFn) -> dict[str, Any]:
    s = draw(st.integers(1, 7))
    m = draw(st.integers(1, 10**6)) if s == 7 else draw(st.sampled_from([0, 0, 42]))
    return {
        "type": "relativedate",
        "n": draw(st.integers(0, 500)),
        "d": draw(st.integers(0, 4)),
        "s": s,
        "m": m,
    }


@st.composite
def moodle_profile(draw: st.DrawFn) -> dict[str, Any]:
    key = draw(st.sampled_from(["sf", "cf"]))
    op = draw(
        st.sampled_from(
            [
                "isequalto",
                "contains",
                "doesnotcontain",
                "startswith",
                "endswith",
                "isempty",
                "isnotempty",
            ]
        )
    )
    node: dict[str, Any] = {
        "type": "profile",
        key: draw(st.sampled_from(["email", "city", "dept"])),
        "op": op,
    }
    if op not in ("isempty", "isnotempty"):
        node["v"] = draw(st.text(max_size=8))
    return node


moodle_leaves = st.one_of(
    st.builds(lambda d, t: {"type": "date", "d": d, "t": t}, st.sampled_from([">=", "<"]), unix),
    moodle_grade(),
    st.builds(
        lambda cm, e: {"type": "completion", "cm": cm, "e": e},
        st.integers(1, 10**6) | st.just(-1),
        st.integers(0, 3),
    ),
    st.just({"type": "group"}),
    st.integers(1, 10**5).map(lambda i: {"type": "group", "id": i}),
    st.integers(1, 10**5).map(lambda i: {"type": "grouping", "id": i}),
    moodle_profile(),
    moodle_relative(),
)


def moodle_subtrees() -> st.SearchStrategy[dict[str, Any]]:
    return st.recursive(
        moodle_leaves,
        lambda children: st.builds(
            lambda op, c: {"op": op, "c": c},
            st.sampled_from(["&", "|", "!&", "!|"]),
            st.lists(children, max_size=3),
        ),
        max_leaves=6,
    )


@st.composite
def moodle_documents(draw: st.DrawFn) -> dict[str, Any]:
    op = draw(st.sampled_from(["&", "|", "!&", "!|"]))
    children = draw(st.lists(moodle_subtrees(), max_size=4))
    root: dict[str, Any] = {"op": op, "c": children}
    if op in ("&", "!|"):
        root["showc"] = draw(
            st.lists(st.booleans(), min_size=len(children), max_size=len(children))
        )
    else:
        root["show"] = draw(st.booleans())
    return root


@st.composite
def _supported_score(draw: st.DrawFn) -> Condition:
    low = draw(st.none() | moodle_percent)
    high = draw(st.none() | moodle_percent)
    if low is not None and high is not None and low >= high:
        high = None
    return ScoreCondition(item=f"grade:{draw(st.integers(1, 99))}", min=low, max=high)


def moodle_supported_conditions() -> st.SearchStrategy[Condition]:
    """Blendkit conditions that have a Moodle form (the subset export accepts)."""
    whole = unix.map(lambda t: datetime.fromtimestamp(t, UTC))
    leaves_ = st.one_of(
        _supported_score(),
        st.builds(
            CompletionCondition,
            item=st.sampled_from(["cm:1", "cm:2", "@previous"]),
            state=st.sampled_from(["complete", "incomplete", "passed", "failed"]),
        ),
        st.builds(DateCondition, from_=whole),
        st.builds(DateCondition, until=whole),
        st.builds(GroupCondition, group=st.none() | st.just("group:4")),
        st.builds(
            ProfileCondition,
            field=st.sampled_from(["email", "dept"]),
            custom=st.booleans(),
            op=st.sampled_from(["isequalto", "contains", "startswith"]),
            value=st.text(max_size=5),
        ),
        st.builds(
            RelativeDateCondition,
            amount=st.integers(0, 30),
            unit=st.sampled_from(["minutes", "hours", "days", "weeks", "months"]),
            anchor=st.sampled_from(["course_start", "enrolment", "after_course_end"]),
        ),
        st.builds(DripCondition, days=st.integers(0, 60).map(float)),
    )
    return st.recursive(
        leaves_,
        lambda children: st.one_of(
            st.lists(children, max_size=3).map(lambda c: AllOf(all=tuple(c))),
            st.lists(children, max_size=3).map(lambda c: AnyOf(any=tuple(c))),
            children.map(lambda c: Not(not_=c)),
        ),
        max_leaves=6,
    )
