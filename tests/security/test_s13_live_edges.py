"""Suspicion 13, live polls and Q&A from outside: what held (kept as regression guards).

- An anonymous question names its asker to no other learner, in any byte of the page, of the
  JSON state, or of their headers (the ETag included), while the staff console does name them.
- Every state-changing route of the live page refuses a request without this launch's CSRF
  token, whatever the body's content type (JSON, ``text/plain``, a form), and one learner's
  token does not carry another learner's launch.
- An idempotency key another learner already sent replays nothing of theirs: keys belong to
  one learner.
- Poll questions and options, learners' questions and the instructor's answers are text on
  every page that shows them (escaped), never markup; the polled state is JSON with ``nosniff``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from blendkit.store._tables_polls import poll_answers, poll_questions
from tests.app import conftest as app
from tests.app.conftest import Tool
from tests.app.test_live_polls_pages import _open_poll
from tests.app.test_staff_pages import _ready_before, _session, _teacher

tool = app.tool  # the example tool launched on a real SQLite store (a fixture)

ASKER_SUB, ASKER_NAME = "zq-asker-7731", "Zelda Quasimodo"


def _live(tool: Tool) -> tuple[str, str, str, str, str]:
    teacher = _teacher(tool)
    session = _session(tool, teacher)
    asker = tool.launch(ASKER_SUB, name=ASKER_NAME)
    peer = tool.launch("ben", name="Ben")
    for sub, launch in ((ASKER_SUB, asker), ("ben", peer)):
        tool.get("/course", launch)
        _ready_before(tool, sub, datetime.now(UTC) - timedelta(hours=1))
    return teacher, session, asker, peer, f"/item/live-session/live/{session}"


def _identifiers() -> tuple[str, ...]:
    return ASKER_SUB, ASKER_NAME, "Zelda", "Quasimodo", f"{ASKER_SUB}@example.edu"


def test_an_anonymous_question_names_its_asker_to_no_peer_in_any_byte(tool: Tool) -> None:
    teacher, session, asker, peer, page = _live(tool)
    sent = tool.post(f"{page}/questions", asker, {"question": "Is it examined?", "anonymous": "1"})
    assert sent.status_code == 302
    console = tool.get(f"/teach/sessions/{session}/live/state", teacher).get_json()
    assert console["questions"][0]["author"] == ASKER_NAME, "staff see who asked"
    question = console["questions"][0]["id"]
    tool.post(f"{page}/questions/{question}/upvote", peer)
    answers = [
        tool.get(page, peer),
        tool.get(f"{page}/state", peer),
        tool.client.get(f"{page}/state", query_string={"launch": peer},
                        headers={"Accept": "application/json"}),
    ]  # fmt: skip
    for answer in answers:
        assert answer.status_code == 200
        seen = answer.get_data(as_text=True) + repr(sorted(answer.headers.items()))
        assert "Is it examined?" in seen
        for identifier in _identifiers():
            assert identifier not in seen, identifier


def _counts(tool: Tool) -> tuple[int, int]:
    with tool.store.transaction() as s:
        return (
            s.execute(select(func.count()).select_from(poll_answers)).scalar_one(),
            s.execute(select(func.count()).select_from(poll_questions)).scalar_one(),
        )


def test_live_routes_refuse_every_body_without_this_launchs_token(tool: Tool) -> None:
    teacher, session, asker, peer, page = _live(tool)
    poll = _open_poll(tool, teacher, session)
    own, other = tool.csrf(asker), tool.csrf(peer)
    before = _counts(tool)
    attempts = [
        {"json": {"answer": 0}},
        {"json": {"answer": 0, "csrf": other}},
        {"data": '{"answer": 0}', "content_type": "text/plain"},
        {"data": f"csrf={other}&answer=0", "content_type": "text/plain"},
        {"data": {"answer": "0", "csrf": other}},
        {"json": {"answer": 0}, "headers": {"X-CSRF-Token": other}},
    ]
    for routes in (f"{page}/polls/{poll}", f"{page}/questions"):
        for kw in attempts:
            headers = {"X-Blendkit-Launch": asker, **kw.pop("headers", {})}
            refused = tool.client.post(routes, headers=headers, **kw)
            assert refused.status_code == 403, (routes, kw)
            kw["headers"] = {k: v for k, v in headers.items() if k != "X-Blendkit-Launch"}
    assert _counts(tool) == before
    taken = tool.client.post(
        f"{page}/polls/{poll}", json={"answer": 0},
        headers={"X-Blendkit-Launch": asker, "X-CSRF-Token": own},
    )  # fmt: skip
    assert taken.status_code == 200
    assert _counts(tool)[0] == before[0] + 1


def test_an_idempotency_key_of_another_learner_replays_nothing_of_theirs(tool: Tool) -> None:
    from blendkit_examples.flask_app.app import services

    first, second = tool.launch("kim", name="Kim"), tool.launch("lou", name="Lou")
    key = "k" * 24
    for launch, percent in ((first, "10"), (second, "100")):
        data = {"percent": percent, "position": "5", "length": "60", "idempotency_key": key}
        sent = tool.post("/item/prework-video/progress", launch, data)
        assert sent.status_code == 302, sent.get_data(as_text=True)
    again = tool.post(
        "/item/prework-video/progress",
        second,
        {"percent": "50", "position": "5", "length": "60", "idempotency_key": key},
    )
    assert again.status_code == 409, "the same learner's key with other content is refused"
    with tool.app.app_context():
        courses = services().courses
        course = courses.course_by_id(_course_id(tool))
        assert courses.evidence(course, "kim").videos["prework-video"] == 10.0
        assert courses.evidence(course, "lou").videos["prework-video"] == 100.0


def _course_id(tool: Tool) -> int:
    from blendkit.store._tables_courses import course_courses

    with tool.store.transaction() as s:
        return int(s.execute(select(course_courses.c.id)).scalar_one())


PAYLOAD = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_poll_question_and_answer_text_is_never_markup_on_any_page(tool: Tool) -> None:
    teacher, session, asker, peer, page = _live(tool)
    poll = _open_poll(tool, teacher, session, question=f"Pace? {PAYLOAD}",
                      options=f"{PAYLOAD}\nFine")  # fmt: skip
    assert tool.post(f"{page}/polls/{poll}", asker, {"answer": "0"}).status_code == 302
    tool.post(f"{page}/questions", asker, {"question": f"Why {PAYLOAD}?"})
    console = tool.get(f"/teach/sessions/{session}/live/state", teacher).get_json()
    question = console["questions"][0]["id"]
    moderated = tool.post(
        f"/teach/sessions/{session}/questions/{question}", teacher,
        {"action": "answer", "answer": f"Because {PAYLOAD}"},
    )  # fmt: skip
    assert moderated.status_code == 302
    for launch, path in ((peer, page), (asker, page), (teacher, f"/teach/sessions/{session}/live")):
        html = tool.get(path, launch).get_data(as_text=True)
        assert "&lt;script&gt;" in html, path  # the text is there, escaped
        assert "<script>alert" not in html, path
        assert "<img src=x" not in html, path
    state = tool.get(f"{page}/state", peer)
    assert state.mimetype == "application/json"
    assert state.headers["X-Content-Type-Options"] == "nosniff"
