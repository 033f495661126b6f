"""Event builders: deterministic ids, client timestamps, and an independent second opinion.

ralph's pydantic models (base statement plus the Video and Virtual Classroom profiles) and
TinCanPython both have to accept every statement the builders produce.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
import tincan
from hypothesis import given, settings
from hypothesis import strategies as st

from blendkit.errors import StatementInvalid
from blendkit.xapi import (
    ADL,
    CMI5,
    VIDEO,
    Statement,
    StatementFactory,
    actor_from_launch,
    from_tincan,
    iso_duration,
    lti_actor,
    parse_statement,
    poll_answered,
    question_posted,
    statement_id,
    to_tincan,
)

from .conftest import ralph_available

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FACTORY = StatementFactory("https://tool.example.edu", clock=lambda: T0)
ACTOR = lti_actor("https://canvas.instructure.com", "user-42", name="Ann")
SESSION = uuid.UUID("8c8b1a3e-8d4f-4c9e-9d7e-2f0b6c1d9a11")


def _catalogue() -> dict[str, tuple[Statement, str | None]]:
    """Every statement blendkit emits, with the ralph profile model that must accept it."""
    f, a = FACTORY, ACTOR
    video: dict[str, Any] = {"video_id": "intro", "session_id": SESSION, "length": 600.0}
    live: dict[str, Any] = {"live_session_id": "ls-1", "course_id": "c-1", "occurrence": "w1"}
    return {
        "launched": (f.launched(a, resource_id="r1", launch_id="nonce-1", course_id="c-1"), None),
        "quiz passed": (
            f.quiz_attempt(
                a,
                quiz_id="q1",
                attempt_id="1",
                score=8,
                max_score=10,
                mastery_score=0.7,
                session_id="s1",
                duration=timedelta(minutes=12),
                course_id="c-1",
            ),
            None,
        ),
        "quiz failed": (
            f.quiz_attempt(
                a,
                quiz_id="q1",
                attempt_id="2",
                score=3,
                max_score=10,
                mastery_score=0.7,
                session_id="s1",
                duration=95.5,
            ),
            None,
        ),
        "video initialized": (f.video("initialized", a, time=0, **video), "VideoInitialized"),
        "video played": (f.video("played", a, time=0, **video), "VideoPlayed"),
        "video paused": (f.video("paused", a, time=42.5, progress=0.07, **video), "VideoPaused"),
        "video seeked": (f.video("seeked", a, time=120, time_from=42.5, **video), "VideoSeeked"),
        "video completed": (
            f.video("completed", a, time=600, progress=1.0, played_segments="0[.]600", **video),
            "VideoCompleted",
        ),
        "recording paused": (
            f.video(
                "paused",
                a,
                time=240,
                progress=0.4,
                played_segments="0[.]240",
                course_id="c-1",
                name="Week 1 (video)",
                **video,
            ),
            "VideoPaused",
        ),
        "recording completed": (
            f.video(
                "completed",
                a,
                time=300,
                progress=0.8,
                played_segments="0[.]240[,]250[.]300",
                completion_threshold=0.8,
                course_id="c-1",
                name="Week 1 (video)",
                **video,
            ),
            "VideoCompleted",
        ),
        "video terminated": (
            f.video("terminated", a, time=600, progress=1.0, **video),
            "VideoTerminated",
        ),
        "live joined": (
            f.live_session("joined", a, at=T0, **live),
            "VirtualClassroomJoined",
        ),
        "live left": (
            f.live_session("left", a, at=T0 + timedelta(minutes=50), attended=3000, **live),
            "VirtualClassroomLeft",
        ),
        "live terminated": (
            f.live_session("terminated", a, attended=timedelta(minutes=55), **live),
            "VirtualClassroomTerminated",
        ),
        "peer review": (
            f.peer_review_submitted(
                a, review_id="pr-1", submission_id="sub-9", course_id="c-1", rating=4, max_rating=5
            ),
            None,
        ),
        "module unlocked": (
            f.module("unlocked", a, module_id="m2", course_id="c-1", reason="quiz q1 passed"),
            None,
        ),
        "module completed": (f.module("completed", a, module_id="m2", course_id="c-1"), None),
        "milestone completed": (
            f.milestone(a, milestone_id="week-1", course_id="c-1", on_time=True, name="Week 1"),
            None,
        ),
        "voided": (f.voiding(a, uuid.UUID("0b2a962f-88b5-41c2-927d-72c1079f540b")), None),
        "poll answered": (
            poll_answered(
                f, a, course_id="c-1", session_id="s-1", poll_id="p-1", question="Topics?",
                kind="multi", options=("cells", "energy"), response="0[,]1", at=T0,
                session_name="Week 1",
            ),
            "VirtualClassroomAnsweredPoll",
        ),
        "question asked": (
            question_posted(f, a, action="asked", course_id="c-1", session_id="s-1",
                            question_id="q-1", text="Why?", at=T0),
            "VirtualClassroomPostedPublicMessage",
        ),
        "question upvoted": (
            question_posted(f, a, action="upvoted", course_id="c-1", session_id="s-1",
                            question_id="q-1", at=T0),
            None,
        ),
    }  # fmt: skip


CATALOGUE = _catalogue()


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_statement_is_valid_for_blendkit_with_id_and_timestamp(name: str) -> None:
    statement, _ = CATALOGUE[name]
    assert (statement.id is not None and statement.timestamp == T0) or name.startswith("live")
    assert parse_statement(statement.to_json()) == statement


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_ralph_models_accept_every_statement(name: str) -> None:
    if not ralph_available():
        pytest.skip("ralph-malph[lrs] is not installed (dev extra)")
    from ralph.models.selector import ModelSelector
    from ralph.models.validator import Validator
    from ralph.models.xapi.base.statements import BaseXapiStatement

    statement, profile = CATALOGUE[name]
    data = orjson.loads(statement.to_json())
    BaseXapiStatement.model_validate(data)
    if profile is not None:
        model = Validator(ModelSelector(module="ralph.models.xapi")).get_first_valid_model(data)
        assert type(model).__name__ == profile


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_tincan_parses_every_statement_and_back(name: str) -> None:
    statement, _ = CATALOGUE[name]
    theirs = to_tincan(statement)
    assert isinstance(theirs, tincan.Statement)
    assert str(theirs.id) == str(statement.id)
    ours = from_tincan(theirs)
    assert ours.id == statement.id
    assert ours.verb.id == statement.verb.id
    assert ours.actor == statement.actor.model_copy(update={"objectType": "Agent"})
    assert ours.result == statement.result or (
        ours.result is not None
        and statement.result is not None
        and ours.result.score == statement.result.score
        and ours.result.success == statement.result.success
    )


def test_tincan_statement_is_accepted_as_input() -> None:
    theirs = tincan.Statement(
        actor=tincan.Agent(mbox="mailto:ann@example.org"),
        verb=tincan.Verb(id="http://adlnet.gov/expapi/verbs/experienced"),
        object=tincan.Activity(id="https://tool.example.edu/page/1"),
    )
    assert from_tincan(theirs).actor.mbox == "mailto:ann@example.org"
    with pytest.raises(StatementInvalid):
        from_tincan({"not": "tincan"})


def test_actor_is_the_platform_account_never_an_email_by_default() -> None:
    class User:
        sub = "user-42"

    class Launch:
        issuer = "https://canvas.instructure.com"
        user = User()

    agent = actor_from_launch(Launch())
    assert agent.account is not None
    assert (agent.account.homePage, agent.account.name) == (Launch.issuer, "user-42")
    assert agent.mbox is None
    assert lti_actor("https://x.example", "s", email="a@example.org").mbox == "mailto:a@example.org"
    with pytest.raises(StatementInvalid, match="sub"):
        lti_actor("https://x.example", "")


def test_ids_are_deterministic_per_event_identity() -> None:
    def quiz(attempt: str, at: datetime) -> Statement:
        return FACTORY.quiz_attempt(
            ACTOR,
            quiz_id="q1",
            attempt_id=attempt,
            score=5,
            max_score=10,
            mastery_score=0.5,
            session_id="s",
            duration=1,
            at=at,
        )

    assert quiz("1", T0).id == quiz("1", T0 + timedelta(hours=1)).id
    assert quiz("1", T0).id != quiz("2", T0).id
    other = lti_actor("https://canvas.instructure.com", "user-43")
    launched = [
        FACTORY.launched(who, resource_id="r", launch_id="n") for who in (ACTOR, ACTOR, other)
    ]
    assert launched[0].id == launched[1].id != launched[2].id


def test_quiz_pass_fail_follows_the_mastery_score() -> None:
    build: Callable[[float], Statement] = lambda score: FACTORY.quiz_attempt(  # noqa: E731
        ACTOR,
        quiz_id="q",
        attempt_id=str(score),
        score=score,
        max_score=20,
        mastery_score=0.75,
        session_id="s",
        duration=60,
        move_on="CompletedAndPassed",
    )
    passed, failed = build(15), build(14.5)
    assert passed.verb == ADL.PASSED
    assert failed.verb == ADL.FAILED
    assert passed.result is not None
    assert passed.result.score is not None
    assert passed.result.score.scaled == 0.75
    ext = passed.context.extensions if passed.context else None
    assert ext is not None
    assert ext[CMI5.MASTERY_SCORE] == 0.75
    assert ext[CMI5.MOVE_ON] == "CompletedAndPassed"
    with pytest.raises(StatementInvalid, match="masteryscore"):
        FACTORY.quiz_attempt(
            ACTOR,
            quiz_id="q",
            attempt_id="x",
            score=1,
            max_score=2,
            mastery_score=75,
            session_id="s",
            duration=1,
        )


def test_video_rules() -> None:
    with pytest.raises(StatementInvalid, match="time_from"):
        FACTORY.video("seeked", ACTOR, video_id="v", session_id=SESSION, time=1, length=2)
    with pytest.raises(StatementInvalid, match="progress"):
        FACTORY.video("completed", ACTOR, video_id="v", session_id=SESSION, time=1, length=2)
    paused = CATALOGUE["video paused"][0]
    assert paused.result is not None
    assert paused.result.extensions is not None
    assert paused.result.extensions[VIDEO.PROGRESS] == 0.07


@settings(max_examples=200, deadline=None)
@given(seconds=st.floats(0, 10**6, allow_nan=False))
def test_iso_duration_is_valid_and_keeps_the_seconds(seconds: float) -> None:
    text = iso_duration(seconds)
    parse_statement(
        {**orjson.loads(CATALOGUE["launched"][0].to_json()), "result": {"duration": text}}
    )
    hours = minutes = 0.0
    body = text[2:]
    if "H" in body:
        h, body = body.split("H")
        hours = float(h)
    if "M" in body:
        m, body = body.split("M")
        minutes = float(m)
    secs = float(body.rstrip("S") or 0)
    assert abs(hours * 3600 + minutes * 60 + secs - seconds) < 0.01


def test_hot_builders_refuse_wrong_input_types() -> None:
    with pytest.raises(StatementInvalid, match="numbers"):
        FACTORY.quiz_attempt(
            ACTOR,
            quiz_id="q",
            attempt_id="1",
            score="8",  # type: ignore[arg-type]
            max_score=10,
            mastery_score=0.5,
            session_id="s",
            duration=1,
        )
    with pytest.raises(StatementInvalid, match="UUID"):
        FACTORY.video(
            "played",
            ACTOR,
            video_id="v",
            session_id="not-a-uuid",
            time=0,
            length=1,  # type: ignore[arg-type]
        )
    with pytest.raises(StatementInvalid, match="numbers"):
        FACTORY.video("played", ACTOR, video_id="v", session_id=SESSION, time=-1, length=1)
    with pytest.raises(StatementInvalid, match="language"):
        StatementFactory("https://tool.example.edu", language="not a tag")


@settings(max_examples=200, deadline=None)
@given(parts=st.lists(st.one_of(st.text(), st.integers()), min_size=1, max_size=5))
def test_statement_id_is_standard_uuid5(parts: list[object]) -> None:
    from blendkit.xapi import STATEMENT_NAMESPACE, statement_id

    expected = uuid.uuid5(STATEMENT_NAMESPACE, "\x1f".join(map(str, parts)))
    got = statement_id(*parts)
    assert got == expected
    assert str(got) == str(expected)
    assert got.version == 5


_TEXT = st.text(st.characters(codec="utf-8"), max_size=20)


@st.composite
def _quiz_inputs(draw: st.DrawFn) -> dict[str, Any]:
    low = draw(st.integers(-100, 100) | st.floats(-100, 100))
    high = low + draw(st.integers(1, 1000) | st.floats(0.5, 1000))
    offset = draw(st.integers(-14 * 60, 14 * 60))
    return {
        "quiz_id": draw(_TEXT),
        "attempt_id": draw(_TEXT),
        "score": draw(st.floats(low, high) | st.sampled_from([low, high])),
        "min_score": low,
        "max_score": high,
        "mastery_score": draw(st.floats(0, 1)),
        "session_id": draw(_TEXT),
        "duration": draw(
            st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400))
            | st.floats(0, 10**7)
        ),
        "move_on": draw(st.sampled_from(sorted(CMI5.MOVE_ON_VALUES))),
        "name": draw(st.none() | _TEXT.filter(bool)),
        "course_id": draw(st.none() | _TEXT),
        "at": draw(
            st.datetimes(
                min_value=datetime(2000, 1, 1),
                max_value=datetime(2100, 1, 1),
                timezones=st.just(timezone(timedelta(minutes=offset))),
            )
        ),
    }


@settings(max_examples=300, deadline=None)
@given(inputs=_quiz_inputs(), email=st.booleans())
def test_quiz_statement_json_is_the_validated_statement_json(
    inputs: dict[str, Any], email: bool
) -> None:
    """The builder's shortcuts (trusted assembly, inline parts, cached bytes) change nothing in
    the JSON: it equals pydantic's own dump, and re-validating the JSON gives the same bytes."""
    actor = lti_actor(
        "https://canvas.example.edu", "learner", email="a@example.org" if email else None
    )
    statement = FACTORY.quiz_attempt(actor, **inputs)
    body = statement.to_json()
    assert body == orjson.dumps(statement.to_dict())
    again = parse_statement(body)
    assert again == statement
    assert again.to_json() == body
    assert statement.id == statement_id(
        "quiz",
        "mailto:a@example.org" if email else "https://canvas.example.edu|learner",
        statement.object.id,  # type: ignore[union-attr]
        inputs["attempt_id"],
    )


@settings(max_examples=300, deadline=None)
@given(
    seconds=st.integers(0, 10**10) | st.floats(0, 10**9, allow_nan=False),
    days=st.integers(0, 10**5),
)
def test_iso_duration_of_a_timedelta_equals_that_of_its_seconds(seconds: float, days: int) -> None:
    value = timedelta(days=days, seconds=seconds)
    assert iso_duration(value) == iso_duration(value.total_seconds())


@settings(max_examples=200, deadline=None)
@given(
    event=st.sampled_from(["initialized", "played", "paused", "seeked", "completed", "terminated"]),
    time=st.integers(0, 10**4) | st.floats(0, 10**4),
    time_from=st.integers(0, 10**4) | st.floats(0, 10**4),
    live=st.sampled_from(["joined", "left", "terminated"]),
    minutes=st.integers(0, 10**4),
)
def test_video_and_live_ids_stay_the_uuid5_of_their_identity(
    event: Any, time: float, time_from: float, live: Any, minutes: int
) -> None:
    """Ids must not change between releases: a re-sent event has to be stored once."""
    key = "https://canvas.instructure.com|user-42"
    video = FACTORY.video(
        event,
        ACTOR,
        video_id="v",
        session_id=SESSION,
        time=time,
        length=10**4,
        time_from=time_from,
        progress=0.5,
    )
    position = f"{time_from}>{time}" if event == "seeked" else str(time)
    assert video.id == statement_id("video", event, key, video.object.id, SESSION, position)  # type: ignore[union-attr]
    at = T0 + timedelta(minutes=minutes)
    session = FACTORY.live_session(
        live, ACTOR, live_session_id="ls", course_id="c", occurrence="w1", at=at, attended=minutes
    )
    moment = "" if live == "terminated" else at.isoformat()
    assert session.id == statement_id("live", live, key, session.object.id, moment)  # type: ignore[union-attr]
    assert parse_statement(session.to_json()).to_json() == session.to_json()
    assert parse_statement(video.to_json()).to_json() == video.to_json()


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_built_values_hold_every_field_in_declaration_order(name: str) -> None:
    """The hot builders assemble values without pydantic; they must look like validated ones."""
    statement, _ = CATALOGUE[name]
    values: list[Any] = [statement, statement.result, statement.context]
    if statement.result is not None:
        values.append(statement.result.score)
    for value in values:
        if value is not None:
            assert list(value.__dict__) == list(type(value).model_fields)
            assert value.model_fields_set <= set(type(value).model_fields)
            assert value.model_extra is None
