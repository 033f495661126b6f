"""Live polls and the Q&A board: answers kept per session, results, evidence, statements."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from blendkit import BlendkitError, NotFound
from blendkit.courses import (
    CourseService,
    Enrolment,
    LivePolls,
    LiveSessionService,
    QuestionBoard,
)
from blendkit.progression import (
    AskedQuestionCondition,
    CompletionCondition,
    Item,
    Module,
    Path,
    PollsAnsweredCondition,
)
from blendkit.sessions import FakeMeetingProvider, ProviderPollAnswer, ProviderQuestion
from blendkit.store import Store
from blendkit.store._tables_polls import poll_answers
from blendkit.store._tables_xapi import xapi_outbox
from blendkit.xapi import Outbox, StatementFactory
from tests.courses.test_course_service import NOW, START, TENANT, Clock


def participation_path() -> Path:
    """A live session, a debrief unlocked by answering two of its polls, and a wrap-up
    unlocked by asking (or upvoting) a question; a locked session item after them."""
    return Path(
        id="polls",
        course_start=START - timedelta(days=10),
        modules=(
            Module(
                id="m",
                items=(
                    Item(id="live", title="Live", kind="live_session"),
                    Item(id="debrief", title="Debrief",
                         conditions=PollsAnsweredCondition(item="live", count=2)),
                    Item(id="wrap-up", title="Wrap-up",
                         conditions=AskedQuestionCondition(item="live")),
                    Item(id="later", title="Later", kind="live_session",
                         conditions=CompletionCondition(item="debrief")),
                ),
            ),
        ),
    )  # fmt: skip


@pytest.fixture
def world(store: Store):  # type: ignore[no-untyped-def]
    service = CourseService(
        store,
        outbox=Outbox(store),
        statements=StatementFactory("https://tool.example.edu"),
        clock=Clock(NOW),
    )
    course = service.ensure_course(TENANT, "bio-101", title="Biology", path=participation_path())
    for sub in ("ana", "ben", "cy"):
        service.enrol(course, Enrolment(sub=sub, name=sub.title(), email=f"{sub}@x.edu"))
    live = LiveSessionService(service, FakeMeetingProvider())
    session = live.schedule(
        course, title="Week 1", start_utc=START, time_zone="UTC", duration_minutes=60, item="live"
    )
    polls = LivePolls(service)
    return service, course, live, session, polls, QuestionBoard(polls)


def _statements(store: Store) -> list[dict]:  # type: ignore[type-arg]
    with store.transaction() as s:
        return [json.loads(p) for p in s.execute(select(xapi_outbox.c.payload)).scalars()]


def test_answers_are_one_per_learner_and_replace_while_open(world, store: Store) -> None:  # type: ignore[no-untyped-def]
    service, course, _live, session, polls, _board = world
    poll = polls.create(course, session.id, kind="single", question="Ready?", options=["yes", "no"])
    with pytest.raises(BlendkitError) as closed:
        polls.answer(course, poll.id, "ana", 0)
    assert closed.value.code == "polls.closed"  # a draft takes no answers
    polls.set_state(course, poll.id, "open")

    first = polls.answer(course, poll.id, "ana", 0)
    again = polls.answer(course, poll.id, "ana", "1")  # changed her mind
    polls.answer(course, poll.id, "ben", 1)
    assert (first.replaced, again.replaced) == (False, True)
    results = polls.results(course, poll.id)
    assert (results.respondents, results.counts) == (2, (0, 2))
    assert polls.my_answers(course, session.id, "ana") == {poll.id: 1}
    # the evidence counts the poll once, however often the answer changed
    assert service.evidence(course, "ana").polls == {"live": frozenset({poll.id})}
    answered = [s for s in _statements(store) if s["verb"]["id"].endswith("/answered")]
    assert [s["result"]["response"] for s in answered] == ["0", "1", "1"]
    shape = answered[0]["object"]["definition"]["extensions"]["urn:blendkit:xapi:extension:poll"]
    assert shape["kind"] == "single"
    assert [o["id"] for o in shape["options"]] == ["0", "1"]  # what the responses name
    assert answered[0]["context"]["contextActivities"]["parent"][0]["definition"]["type"] == (
        "https://w3id.org/xapi/virtual-classroom/activity-types/virtual-classroom"
    )

    polls.set_state(course, poll.id, "closed")
    with pytest.raises(BlendkitError) as late:
        polls.answer(course, poll.id, "ana", 0)
    assert late.value.code == "polls.closed"
    assert polls.results(course, poll.id).counts == (0, 2)


@pytest.mark.parametrize(
    ("kind", "options", "bad", "good", "shown"),
    [
        ("single", ["a", "b"], [0, 1], 1, (0, 1)),
        ("multi", ["a", "b", "c"], [3], [2, 0, 2], (1, 0, 1)),
        ("rating", [], 6, "4", (0, 0, 0, 1, 0)),
        ("text", [], "x" * 11, "  short  ", ()),
    ],
)
def test_each_kind_checks_its_answer(world, kind, options, bad, good, shown) -> None:  # type: ignore[no-untyped-def]
    _service, course, _live, session, polls, _board = world
    poll = polls.create(
        course, session.id, kind=kind, question="Q?", options=options, max_length=10
    )
    polls.set_state(course, poll.id, "open")
    with pytest.raises(BlendkitError) as refused:
        polls.answer(course, poll.id, "ana", bad)
    assert refused.value.code == "polls.invalid_answer"
    polls.answer(course, poll.id, "ana", good)
    results = polls.results(course, poll.id)
    assert results.counts == shown
    if kind == "text":
        assert results.texts == ("short",)
    if kind == "rating":
        assert results.mean == 4


def test_participation_unlocks_items_and_locked_sessions_refuse_work(world) -> None:  # type: ignore[no-untyped-def]
    service, course, live, session, polls, board = world
    first = polls.create(course, session.id, kind="rating", question="Pace?")
    second = polls.create(course, session.id, kind="text", question="One word?")
    for poll in (first, second):
        polls.set_state(course, poll.id, "open")
    polls.answer(course, first.id, "ana", 3)
    assert service.learner_path(course, "ana").state("debrief") == "locked"
    outcome = polls.answer(course, second.id, "ana", "fine")
    assert outcome.outcome is not None
    assert "debrief" in outcome.outcome.unlocked()
    assert service.learner_path(course, "ana").state("debrief") != "locked"

    question_id, _ = board.ask(course, session.id, "ben", "Why?", anonymous=True)
    assert service.learner_path(course, "ben").state("wrap-up") != "locked"
    assert board.upvote(course, question_id, "cy") is True
    assert board.upvote(course, question_id, "cy") is False  # one vote per learner
    assert service.learner_path(course, "cy").state("wrap-up") != "locked"
    with pytest.raises(BlendkitError) as own:
        board.upvote(course, question_id, "ben")
    assert own.value.code == "polls.own_question"
    assert service.evidence(course, "ben").asked == {"live": frozenset({question_id})}

    locked = live.schedule(
        course, title="Later", start_utc=START, time_zone="UTC", duration_minutes=30, item="later"
    )
    poll = polls.create(course, locked.id, kind="rating", question="Pace?")
    polls.set_state(course, poll.id, "open")
    with pytest.raises(BlendkitError) as refused:
        polls.answer(course, poll.id, "ben", 3)  # "later" is locked for ben
    assert refused.value.code == "courses.item_locked"
    assert polls.results(course, poll.id).respondents == 0  # nothing kept either


def test_anonymous_questions_hide_the_name_from_peers_only(world) -> None:  # type: ignore[no-untyped-def]
    _service, course, _live, session, polls, board = world
    question_id, _ = board.ask(course, session.id, "ben", "  Is   it on the exam? ", anonymous=True)
    peer = board.questions(course, session.id, viewer="ana")[0]
    asker = board.questions(course, session.id, viewer="ben")[0]
    staff = board.questions(course, session.id, viewer="teacher", staff=True)[0]
    assert (peer.text, peer.author, asker.author, staff.author) == (
        "Is it on the exam?", None, "Ben", "Ben",
    )  # fmt: skip
    version = polls.version(course, session.id)
    board.moderate(course, question_id, "hide")
    assert polls.version(course, session.id) == version + 1
    assert board.questions(course, session.id, viewer="ana") == []
    assert board.questions(course, session.id, viewer="ben")[0].hidden
    with pytest.raises(NotFound):
        board.upvote(course, question_id, "ana")
    board.moderate(course, question_id, "show")
    board.moderate(course, question_id, "answer", "Yes.")
    other, _ = board.ask(course, session.id, "cy", "Later question")
    board.moderate(course, other, "pin")
    assert [q.id for q in board.questions(course, session.id, viewer="ana")] == [other, question_id]
    board.set_open(course, session.id, False)
    with pytest.raises(BlendkitError) as closed:
        board.ask(course, session.id, "ana", "Too late?")
    assert closed.value.code == "polls.board_closed"


def test_another_course_sees_none_of_it(world) -> None:  # type: ignore[no-untyped-def]
    service, course, _live, session, polls, _board = world
    other = service.ensure_course(TENANT, "chem-202", title="Chemistry", path=participation_path())
    poll = polls.create(course, session.id, kind="rating", question="Pace?")
    with pytest.raises(NotFound):
        polls.poll(other, poll.id)
    with pytest.raises(NotFound):
        polls.create(other, session.id, kind="rating", question="Pace?")
    assert polls.polls(other, session.id) == []


def test_provider_reports_become_the_same_evidence_for_matched_learners(world) -> None:  # type: ignore[no-untyped-def]
    service, course, _live, session, polls, _board = world
    report = polls.import_provider(
        course,
        session.id,
        answers=[
            ProviderPollAnswer(email="ANA@x.edu", poll_key="p1"),
            ProviderPollAnswer(email="ana@x.edu", poll_key="p2"),
            ProviderPollAnswer(email="stranger@y.org", poll_key="p1"),
            ProviderPollAnswer(email=None, poll_key="p1"),
        ],
        questions=[ProviderQuestion(email="ben@x.edu", question="Why?")],
    )
    assert (report.answers_matched, report.questions_matched) == (2, 1)
    assert report.learners == ("ana", "ben")
    assert report.unmatched == ("(no e-mail)", "stranger@y.org")
    assert len(service.evidence(course, "ana").polls["live"]) == 2
    assert service.learner_path(course, "ana").state("debrief") != "locked"
    assert service.learner_path(course, "ben").state("wrap-up") != "locked"
    # importing the same report again changes nothing
    polls.import_provider(
        course, session.id, [ProviderPollAnswer(email="ana@x.edu", poll_key="p1")]
    )
    assert len(service.evidence(course, "ana").polls["live"]) == 2


def test_concurrent_answers_are_all_kept(world, store: Store) -> None:  # type: ignore[no-untyped-def]
    service, course, _live, session, polls, _board = world
    people = [f"p{n}" for n in range(12)]
    for sub in people:
        service.enrol(course, Enrolment(sub=sub, name=sub))
    poll = polls.create(course, session.id, kind="rating", question="Pace?")
    polls.set_state(course, poll.id, "open")
    errors: list[BaseException] = []

    def answer(sub: str) -> None:
        try:
            for value in (1, 5):
                polls.answer(course, poll.id, sub, value)
        except BaseException as exc:  # collected and reported below
            errors.append(exc)

    threads = [threading.Thread(target=answer, args=(sub,)) for sub in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with store.transaction() as s:
        rows = s.execute(select(func.count()).select_from(poll_answers)).scalar_one()
    assert rows == len(people)
    assert polls.results(course, poll.id).counts == (0, 0, 0, 0, len(people))
    assert all(service.evidence(course, sub).polls["live"] == {poll.id} for sub in people)


def test_every_poll_kind_needs_what_it_shows(world) -> None:  # type: ignore[no-untyped-def]
    _service, course, _live, session, polls, _board = world
    with pytest.raises(BlendkitError, match="2 to 10 options"):
        polls.create(course, session.id, kind="single", question="Q?", options=["only one"])
    with pytest.raises(BlendkitError, match="1 to 500"):
        polls.create(course, session.id, kind="rating", question="   ")
    with pytest.raises(BlendkitError, match="1 to 1000"):
        polls.create(course, session.id, kind="text", question="Q?", max_length=0)
    with pytest.raises(NotFound):
        polls.create(course, "no-such-session", kind="rating", question="Q?")


def test_an_answer_and_a_version_check_where_the_page_found_the_poll(world) -> None:  # type: ignore[no-untyped-def]
    service, course, live, session, polls, _board = world
    other = live.schedule(
        course, title="Week 2", start_utc=START + timedelta(days=7), time_zone="UTC",
        duration_minutes=60, item="later",
    )  # fmt: skip
    poll = polls.create(course, session.id, kind="single", question="Ready?", options=["y", "n"])
    polls.set_state(course, poll.id, "open")
    with pytest.raises(BlendkitError) as elsewhere:
        polls.answer(course, poll.id, "ana", 0, session_id=other.id)
    assert elsewhere.value.code == "polls.other_session"
    with pytest.raises(NotFound):
        polls.answer(course, poll.id, "ana", 0, session_id=session.id, item="debrief")
    assert polls.answer_count(course, poll.id) == 0  # refused answers keep nothing

    ana = service.enrolment(course, "ana")
    polls.answer(course, poll.id, "ana", 1, session_id=session.id, item="live", person=ana)
    assert polls.my_answers(course, session.id, "ana") == {poll.id: 1}
    version = polls.version(course, session.id)
    assert polls.session_version(course, session.id, item="live") == version
    assert polls.session_version(course, other.id) == 0  # never used
    with pytest.raises(NotFound):
        polls.session_version(course, session.id, item="later")
    with pytest.raises(NotFound):
        polls.session_version(course, "no-such-session")
    cached = polls.session_view(course, session.id)
    assert cached == ([polls.poll(course, poll.id)], [polls.results(course, poll.id)])
