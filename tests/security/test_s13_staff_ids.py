"""Suspicion 13: staff routes of one course acting on ids that belong to another course.

An instructor (or assistant) of one course holds a launch that passes ``require_staff``; every
id in the path or form of a staff route (session, poll, question, slot, recording, review
assignment, learner) must then be resolved inside *that launch's* course. The attack takes the
ids of a second course (same deployment, same person as instructor of both, so no tenant check
can save it) and posts every staff route with them; nothing of the first course may change and
no answer may be a success.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from sqlalchemy import inspect, select, text

from blendkit.store._tables_courses import course_courses, course_recordings, course_sessions
from blendkit.store._tables_review import review_assignments
from tests.app import conftest as app
from tests.app.conftest import INSTRUCTOR, LEARNER, Tool
from tests.security.review_rules import ITEM as REVIEW_ITEM
from tests.security.test_gate_invariant_stateful import World, build_world

tool = app.tool  # the example tool launched on a real SQLite store (a fixture)

# Rows that only an action on the victim course could change (launches, enrolments and the
# outbox change on every page and are not part of the victim's data).
WATCHED_PREFIXES = ("poll_", "recording_", "course_booking", "course_office", "course_sessions",
                    "course_series", "review_", "course_recordings", "course_overrides",
                    "calendar_", "course_attendance")  # fmt: skip
TA = "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"


def _snapshot(tool: Tool) -> dict[str, list[Any]]:
    with tool.store.transaction() as s:
        names = [
            n
            for n in inspect(s).get_table_names()
            if n.startswith(WATCHED_PREFIXES) and n != "alembic_version"
        ]
        return {n: sorted(map(tuple, s.execute(text(f'SELECT * FROM "{n}"')).all()), key=repr)
                for n in names}  # fmt: skip


def _victim_ids(tool: Tool, world: World) -> dict[str, Any]:
    with tool.store.transaction() as s:
        sessions = list(
            s.execute(
                select(course_sessions.c.id).where(course_sessions.c.course_id == world.course.id)
            ).scalars()
        )
        assignments = list(
            s.execute(
                select(review_assignments.c.id).where(
                    review_assignments.c.course_id == world.course.id
                )
            ).scalars()
        )
        recordings = list(
            s.execute(
                select(course_recordings.c.id).where(course_recordings.c.session_id.in_(sessions))
            ).scalars()
        )
    return {
        "session": sessions[0],
        "poll": world.polls[0],
        "question": world.questions[0],
        "slot": world.slots[0],
        "recording": recordings[0],
        "assignment": assignments[0],
    }


def _staff_attacks(ids: dict[str, Any]) -> list[tuple[str, dict[str, str]]]:
    s, p, q, slot, r = ids["session"], ids["poll"], ids["question"], ids["slot"], ids["recording"]
    review = f"/teach/reviews/{REVIEW_ITEM}"
    return [
        (f"{review}/assignments/{ids['assignment']}", {"action": "override", "points": "0"}),
        (f"{review}/assignments/{ids['assignment']}", {"action": "flag", "note": "x"}),
        (f"{review}/assignments/{ids['assignment']}", {"action": "reassign"}),
        (f"{review}/grades/peer-1", {"percent": "0"}),
        (f"/teach/sessions/{s}/polls", {"kind": "single", "question": "Hijack?",
                                         "options": "a\nb", "open_now": "1"}),
        (f"/teach/sessions/{s}/polls/{p}/state", {"state": "closed"}),
        (f"/teach/sessions/{s}/questions/{q}", {"action": "hide"}),
        (f"/teach/sessions/{s}/board", {"open": "0"}),
        (f"/teach/sessions/{s}/cancel", {}),
        (f"/teach/sessions/{s}/move", {"date": "2031-01-01", "time": "10:00",
                                        "time_zone": "UTC"}),
        (f"/teach/sessions/{s}/import", {}),
        (f"/teach/office-hours/{slot}/edit", {"capacity": "1", "host_name": "Mallory"}),
        (f"/teach/office-hours/{slot}/cancel", {}),
        (f"/teach/office-hours/{slot}/present", {"sub": "ana"}),
        (f"/teach/recordings/{r}/media", {"media_url": "https://evil.example/x.mp4",
                                           "minutes": "1"}),
    ]  # fmt: skip


def _same_path_in_the_attackers_course(tool: Tool, world: World) -> None:
    """The attacker's course has the victim's items (the review item included), so no refusal
    comes from a missing item: only the ids' course can refuse them."""
    from blendkit_examples.flask_app.app import services

    with tool.app.app_context():
        svc = services()
    mine = svc.courses.set_path(svc.courses.course_by_id(world.other_course), world.course.path)
    svc.reviews.configure(mine, REVIEW_ITEM, svc.reviews.settings(world.course, REVIEW_ITEM))


@pytest.mark.parametrize("role", [INSTRUCTOR, TA])
def test_staff_of_another_course_change_nothing_with_this_courses_ids(
    tool: Tool, role: str
) -> None:
    world = build_world(tool)
    ids = _victim_ids(tool, world)
    # The same person teaches chem-202 too (build_world made it): their launch there is staff.
    attacker = tool.launch("teach", roles=(role,), context="chem-202")
    tool.get("/course", attacker)
    _same_path_in_the_attackers_course(tool, world)
    before = _snapshot(tool)
    watched = ("poll_polls", "poll_questions", "course_booking_slots", "review_assignments")
    assert all(before[t] for t in watched)
    for path, data in _staff_attacks(ids):
        answer = tool.post(path, attacker, data)
        assert 400 <= answer.status_code < 500, (path, answer.status_code)
    transcript = io.BytesIO(b"WEBVTT\n\n00:00.000 --> 00:01.000\nx\n")
    captions = tool.post(
        f"/teach/sessions/{ids['session']}/captions",
        attacker,
        {"transcript": (transcript, "t.vtt"), "language": "en"},
        content_type="multipart/form-data",
    )
    assert 400 <= captions.status_code < 500
    for path in (f"/teach/sessions/{ids['session']}", f"/teach/sessions/{ids['session']}/live",
                 f"/teach/sessions/{ids['session']}/live/state"):  # fmt: skip
        assert 400 <= tool.get(path, attacker).status_code < 500, path
    assert _snapshot(tool) == before


def test_a_learner_reaches_no_staff_route_of_their_own_course(tool: Tool) -> None:
    world = build_world(tool)
    ids = _victim_ids(tool, world)
    learner = tool.launch("lea", roles=(LEARNER,))
    tool.get("/course", learner)
    with tool.store.transaction() as s:
        assert s.execute(select(course_courses.c.id)).scalars().all()
    before = _snapshot(tool)
    for path, data in _staff_attacks(ids):
        assert tool.post(path, learner, data).status_code == 403, path
    assert _snapshot(tool) == before
