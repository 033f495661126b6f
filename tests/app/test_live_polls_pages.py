"""Polls and questions in the example tool: the instructor's console, the learner's page, the
JSON state the pages poll (ETag/304), CSRF and JSON refusals."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from tests.app.conftest import Tool
from tests.app.test_staff_pages import _ready_before, _session, _teacher


def _poll_ids(page: str) -> list[str]:
    return re.findall(r'id="poll-(\w+)"', page)


def _open_poll(tool: Tool, teacher: str, session: str, **fields: str) -> str:
    data = {"question": "How is the pace?", "kind": "single", "options": "Too fast\nFine\nSlow",
            "open_now": "1", **fields}  # fmt: skip
    made = tool.post(f"/teach/sessions/{session}/polls", teacher, data)
    assert made.status_code == 302, made.get_data(as_text=True)
    return _poll_ids(tool.get(f"/teach/sessions/{session}/live", teacher).get_data(as_text=True))[
        -1
    ]


def test_learners_answer_and_the_console_shows_live_results(tool: Tool) -> None:
    teacher = _teacher(tool)
    session = _session(tool, teacher)
    ana, ben = tool.launch("ana"), tool.launch("ben", name="Ben")
    for sub, launch in (("ana", ana), ("ben", ben)):
        tool.get("/course", launch)
        _ready_before(tool, sub, datetime.now(UTC) - timedelta(hours=1))
    poll = _open_poll(tool, teacher, session)
    page = f"/item/live-session/live/{session}"
    shown = tool.get(page, ana).get_data(as_text=True)
    assert "How is the pace?" in shown
    assert 'type="radio"' in shown
    assert "<legend>" in shown

    state_url = f"{page}/state"
    first = tool.get(state_url, ana)
    assert first.status_code == 200
    tag = first.headers["ETag"]
    assert first.get_json()["polls"][0]["results"] is None  # results after answering
    idle = tool.client.get(state_url, query_string={"launch": ana}, headers={"If-None-Match": tag})
    assert idle.status_code == 304
    assert idle.get_data() == b""

    sent = tool.post(f"{page}/polls/{poll}", ana, {"answer": "1"})
    assert sent.status_code == 302
    again = tool.client.get(state_url, query_string={"launch": ana}, headers={"If-None-Match": tag})
    assert again.status_code == 200
    assert again.get_json()["polls"][0]["results"]["counts"] == [0, 1, 0]
    as_json = tool.client.post(
        f"{page}/polls/{poll}",
        json={"answer": 2},
        headers={"X-Blendkit-Launch": ben, "X-CSRF-Token": tool.csrf(ben)},
    )
    assert as_json.get_json() == {"replaced": False, "unlocked": []}

    console = tool.get(f"/teach/sessions/{session}/live/state", teacher).get_json()
    assert console["polls"][0]["results"]["counts"] == [0, 1, 1]
    assert console["polls"][0]["results"]["respondents"] == 2
    html = tool.get(f"/teach/sessions/{session}/live", teacher).get_data(as_text=True)
    assert 'aria-label="Fine: 1 of 2"' in html

    tool.post(f"/teach/sessions/{session}/polls/{poll}/state", teacher, {"state": "closed"})
    late = tool.client.post(
        f"{page}/polls/{poll}",
        json={"answer": 0},
        headers={"X-Blendkit-Launch": ana, "X-CSRF-Token": tool.csrf(ana)},
    )
    assert late.status_code == 409
    assert late.get_json()["error"] == "polls.closed"
    assert late.get_json()["message"]


def test_questions_are_anonymous_to_peers_and_moderated_by_staff(tool: Tool) -> None:
    teacher = _teacher(tool)
    session = _session(tool, teacher)
    ana, ben = tool.launch("ana"), tool.launch("ben", name="Ben")
    for sub, launch in (("ana", ana), ("ben", ben)):
        tool.get("/course", launch)
        _ready_before(tool, sub, datetime.now(UTC) - timedelta(hours=1))
    page = f"/item/live-session/live/{session}"
    form = tool.get(page, ana).get_data(as_text=True)
    assert "Your instructor still sees it" in form
    tool.post(f"{page}/questions", ana, {"question": "Is this on the exam?", "anonymous": "1"})
    seen_by_ben = tool.get(f"{page}/state", ben).get_json()["questions"][0]
    assert seen_by_ben["author"] is None
    console = tool.get(f"/teach/sessions/{session}/live/state", teacher).get_json()
    assert console["questions"][0]["author"] == "Ana"
    question = console["questions"][0]["id"]
    assert tool.post(f"{page}/questions/{question}/upvote", ben).status_code == 302
    assert tool.post(f"{page}/questions/{question}/upvote", ben).status_code == 302
    assert tool.get(f"{page}/state", ben).get_json()["questions"][0]["upvotes"] == 1
    tool.post(f"/teach/sessions/{session}/questions/{question}", teacher, {"action": "hide"})
    assert tool.get(f"{page}/state", ben).get_json()["questions"] == []


def test_forms_need_csrf_and_the_console_needs_staff(tool: Tool) -> None:
    teacher = _teacher(tool)
    session = _session(tool, teacher)
    ana = tool.launch("ana")
    tool.get("/course", ana)
    poll = _open_poll(tool, teacher, session)
    forged = tool.client.post(
        f"/item/live-session/live/{session}/polls/{poll}", data={"launch": ana, "answer": "0"}
    )
    assert forged.status_code == 403
    for path in (f"/teach/sessions/{session}/live", f"/teach/sessions/{session}/live/state"):
        assert tool.get(path, ana).status_code == 403
    refused = tool.post(f"/teach/sessions/{session}/polls", ana, {"question": "x", "kind": "text"})
    assert refused.status_code == 403
    # the session's item is still locked for ana: her answer is refused and nothing is kept
    locked = tool.post(f"/item/live-session/live/{session}/polls/{poll}", ana, {"answer": "0"})
    assert locked.status_code == 403
    console = tool.get(f"/teach/sessions/{session}/live/state", teacher).get_json()
    assert console["polls"][0]["results"]["respondents"] == 0
