"""Finding 1 (data half): the deployment is the tenant boundary.

Two schools on Canvas Cloud share the issuer, and with an inherited developer key the client id
too; a course context id can be the same in both (an attacker's platform admin can choose it).
A launch under one deployment must never read or rewrite the other deployment's course:
learners, evidence, sessions, grades and AGS endpoints stay apart, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from blendkit import Store
from blendkit.store._tables_courses import (
    course_courses,
    course_enrolments,
    course_evidence,
    course_grades,
    course_sessions,
)
from tests.lti.launch_kit import OTHER_CLIENT_ID
from tests.security.tenant_kit import (
    CONTEXT,
    INSTRUCTOR,
    LEARNER,
    SCHOOL_A,
    SCHOOL_B,
    CanvasCloud,
    canvas_cloud,
    lineitems,
)

PASSING = {"answer-q1": "1", "answer-q2": "1", "answer-q3": "0"}
SESSION = {"title": "Week 1", "date": "2031-01-06", "time": "16:00", "time_zone": "UTC",
           "duration": "60", "item": "live-session"}  # fmt: skip


@pytest.fixture
def cloud(store: Store) -> CanvasCloud:
    return canvas_cloud(store, SCHOOL_A, SCHOOL_B)


def _rows(store: Store, table: Any) -> list[dict[str, Any]]:
    with store.session() as s:
        return [dict(r._mapping) for r in s.execute(select(table)).all()]


def _school_a_course(cloud: CanvasCloud) -> tuple[str, str]:
    """School A: an instructor with a scheduled session, a learner who passed the quiz."""
    teacher = cloud.launch(SCHOOL_A, "alice-teacher", role=INSTRUCTOR)
    created = cloud.post("/teach/sessions", teacher, SESSION)
    assert created.status_code == 302, created.get_data(as_text=True)
    ana = cloud.launch(SCHOOL_A, "ana")
    assert cloud.post("/item/prework-video/progress", ana, {"percent": "100"}).status_code < 400
    assert cloud.post("/item/readiness-quiz/quiz", ana, PASSING).status_code == 200
    return teacher, ana


def test_a_second_deployment_with_the_same_issuer_client_and_context_gets_its_own_course(
    cloud: CanvasCloud,
) -> None:
    teacher_a, _ = _school_a_course(cloud)
    before = {
        table.name: _rows(cloud.store, table)
        for table in (course_courses, course_enrolments, course_evidence, course_grades)
    }
    assert before["course_grades"], "school A's passed quiz queued a grade for its gradebook"

    # School B: the same issuer, client id and context id, its own gradebook URL.
    mallory = cloud.launch(
        SCHOOL_B, "mallory-teacher", role=INSTRUCTOR, ags_url="https://attacker.example/scores"
    )
    learners_b = cloud.get("/teach/learners", mallory).get_data(as_text=True)
    assert "Ana" not in learners_b
    assert "ana@school-a" not in learners_b
    sessions_b = cloud.get("/teach/sessions", mallory).get_data(as_text=True)
    assert "Week 1" not in sessions_b, "school A's live session is not listed to school B"
    refused = cloud.get("/teach/learners/ana", mallory)
    assert refused.status_code == 404, "school A's learner is unknown in school B's course"

    courses = cloud.courses()
    assert len(courses) == 2, "each deployment has its own course for the shared context id"
    a_row = next(c for c in courses if c.id == before["course_courses"][0]["id"])
    assert json.loads(a_row.ags)["lineitems"] == lineitems(SCHOOL_A), "A's AGS endpoint kept"
    assert a_row.title == before["course_courses"][0]["title"]
    for table in (course_enrolments, course_evidence, course_grades):
        rows_a = [r for r in _rows(cloud.store, table) if r["course_id"] == a_row.id]
        assert rows_a == before[table.name], f"{table.name} of school A unchanged by B's launch"
    b_row = next(c for c in courses if c.id != a_row.id)
    people = _rows(cloud.store, course_enrolments)
    assert [r["sub"] for r in people if r["course_id"] == b_row.id] == ["mallory-teacher"]

    # School A's own view is unchanged: its learner and session are still there.
    learners_a = cloud.get("/teach/learners", teacher_a).get_data(as_text=True)
    assert "Ana" in learners_a
    assert "Mallory" not in learners_a
    assert "Week 1" in cloud.get("/teach/sessions", teacher_a).get_data(as_text=True)


def test_a_learner_of_one_deployment_sees_nothing_of_the_other(cloud: CanvasCloud) -> None:
    _, ana = _school_a_course(cloud)
    ben = cloud.launch(SCHOOL_B, "ben")
    course_b = cloud.get("/course", ben).get_data(as_text=True)
    assert "Week 1" not in course_b, "school A's session is not listed to school B's learner"
    assert f"Biology {SCHOOL_B}" in course_b
    page = cloud.get("/item/live-session", ben).get_data(as_text=True)
    assert "Week 1" not in page, "school A's session is not offered to school B's learner"
    course_a = cloud.get("/course", cloud.launch(SCHOOL_A, "ana")).get_data(as_text=True)
    assert f"Biology {SCHOOL_A}" in course_a, "B's launch did not rename A's course"
    quiz = cloud.get("/item/readiness-quiz", ben).get_data(as_text=True)
    assert "Locked" in quiz or "locked" in quiz, "ana's progress is not ben's"
    with cloud.store.session() as s:
        session_ids = s.execute(select(course_sessions.c.id)).scalars().all()
    for session_id in session_ids:
        joined = cloud.post(f"/item/live-session/join/{session_id}", ben)
        assert joined.status_code in (403, 404), "school B cannot join school A's session"
    # And a later launch of school A still finds its own course, with ana's evidence.
    again = cloud.launch(SCHOOL_A, "ana")
    assert "readiness-quiz" in cloud.get("/course", again).get_data(as_text=True)
    with cloud.store.session() as s:
        subs = set(s.execute(select(course_evidence.c.sub)).scalars().all())
    assert subs == {"ana"}, "ben has no evidence: his launch recorded nothing in A's course"
    assert ana


def test_another_registration_of_the_issuer_with_the_same_deployment_id_is_another_tenant(
    store: Store,
) -> None:
    """The chained attack of finding 1: a second registration under school A's issuer (with
    its own client id, even reusing A's deployment id string) launches into A's context."""
    cloud = canvas_cloud(store, SCHOOL_A, other_client=OTHER_CLIENT_ID)
    teacher_a, _ = _school_a_course(cloud)
    before = _rows(cloud.store, course_courses)
    mallory = cloud.launch(
        SCHOOL_A,
        "mallory-teacher",
        role=INSTRUCTOR,
        client_id=OTHER_CLIENT_ID,
        ags_url="https://attacker.example/scores",
    )
    assert "Ana" not in cloud.get("/teach/learners", mallory).get_data(as_text=True)
    after = _rows(cloud.store, course_courses)
    assert after[: len(before)] == before, "school A's course row is untouched"
    assert [c["client_id"] for c in after[len(before) :]] == [OTHER_CLIENT_ID]
    assert "Ana" in cloud.get("/teach/learners", teacher_a).get_data(as_text=True)


def test_each_deployment_has_its_own_course_activity_id(cloud: CanvasCloud) -> None:
    cloud.launch(SCHOOL_A, "ana")
    first = cloud.course_parents()
    cloud.launch(SCHOOL_B, "ben")
    both = cloud.course_parents()
    assert len(first) == 1
    assert len(both) == 2, "the two schools' statements name two courses"


@settings(
    max_examples=12,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(
        st.tuples(
            st.sampled_from((SCHOOL_A, SCHOOL_B)),
            st.sampled_from(("ana", "ben", "teach")),
            st.sampled_from(("bio", CONTEXT)),
            st.booleans(),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_no_launch_reads_or_changes_another_deployments_rows(
    store: Store, steps: list[tuple[str, str, str, bool]]
) -> None:
    """Random launches across two deployments (same subs, same contexts): after each one, the
    rows of every course of the other deployment are exactly as they were."""
    cloud, prefix = _cloud_for(store)
    for deployment, sub, context, passes_quiz in steps:

        def others(row: dict[str, Any], mine: str = deployment) -> bool:
            return bool(row["deployment"] != mine)

        before = _snapshot(cloud, others)
        role = INSTRUCTOR if sub == "teach" else LEARNER
        launch_id = cloud.launch(deployment, sub, context=f"{prefix}{context}", role=role)
        if passes_quiz and sub != "teach":
            cloud.post("/item/prework-video/progress", launch_id, {"percent": "100"})
            cloud.post("/item/readiness-quiz/quiz", launch_id, PASSING)
        assert _snapshot(cloud, others) == before
        found = [
            c
            for c in _rows(cloud.store, course_courses)
            if c["context_id"] == f"{prefix}{context}"
            and json.loads(c["ags"])["lineitems"] == lineitems(deployment)
        ]
        assert len(found) == 1, "the launch found (or made) exactly its own course"


_CLOUDS: dict[int, tuple[CanvasCloud, list[int]]] = {}


def _cloud_for(store: Store) -> tuple[CanvasCloud, str]:
    """One app per store, and a context prefix of its own for each hypothesis example."""
    found = _CLOUDS.get(id(store))
    if found is None or found[0].store is not store:
        found = _CLOUDS[id(store)] = (canvas_cloud(store, SCHOOL_A, SCHOOL_B), [0])
    found[1][0] += 1
    return found[0], f"x{found[1][0]}-"


def _snapshot(cloud: CanvasCloud, keep: Any) -> dict[str, list[dict[str, Any]]]:
    """Every row hanging off the courses ``keep`` selects, keyed by table (stable order)."""
    courses = []
    for row in _rows(cloud.store, course_courses):
        ags = json.loads(row["ags"]) if row["ags"] else {}
        deployment = SCHOOL_A if ags.get("lineitems") == lineitems(SCHOOL_A) else SCHOOL_B
        if keep({**row, "deployment": deployment}):
            courses.append(row)
    ids = {c["id"] for c in courses}
    shot: dict[str, list[dict[str, Any]]] = {"course_courses": courses}
    for table in (course_enrolments, course_evidence, course_grades, course_sessions):
        rows = [r for r in _rows(cloud.store, table) if r["course_id"] in ids]
        shot[table.name] = sorted(rows, key=lambda r: str(r["id"]))
    return shot
