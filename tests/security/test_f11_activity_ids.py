"""Finding 11 (first half): a course's xAPI activity id was the issuer's host + context id, so two
schools on one Canvas Cloud issuer wrote their statements onto one activity in the LRS.

New courses get a deployment-scoped key; it is a valid IRI segment, stable across processes,
and distinct for distinct deployments."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from blendkit import Store
from blendkit.courses import CourseService, Enrolment, activity_key
from blendkit.lti import Tenant
from blendkit.progression import VideoWatched, flipped_classroom
from blendkit.store._tables_xapi import xapi_outbox
from blendkit.xapi import Outbox, StatementFactory, lti_actor, parse_statement

CANVAS = "https://canvas.instructure.com"
SCHOOL_A = Tenant(issuer=CANVAS, client_id="10000000000042", deployment_id="101:a")
SCHOOL_B = Tenant(issuer=CANVAS, client_id="10000000000042", deployment_id="202:b")
START = datetime(2030, 3, 4, 16, 0, tzinfo=UTC)

parts = st.text(min_size=1, max_size=40)
tenants = st.builds(
    Tenant,
    issuer=st.sampled_from([CANVAS, "https://moodle.example.edu", "urn:platform"]),
    client_id=parts,
    deployment_id=parts,
)


def test_two_schools_on_one_issuer_get_two_course_activities(store: Store) -> None:
    courses = CourseService(
        store, outbox=Outbox(store), statements=StatementFactory("https://tool.example.edu")
    )
    parents = set()
    for school, sub in ((SCHOOL_A, "ana"), (SCHOOL_B, "ben")):
        course, _ = courses.ensure_course_and_enrol(
            school, "ctx-1", Enrolment(sub=sub), title="Bio", path=flipped_classroom(START)
        )
        courses.record(course, sub, VideoWatched(item="prework-video", percent=95))
        with store.session() as s:
            payloads = s.execute(select(xapi_outbox.c.payload)).scalars().all()
        for payload in payloads:
            for parent in json.loads(payload)["context"]["contextActivities"].get("parent", ()):
                parents.add(parent["id"])
    assert len(parents) == 2, parents
    assert all(p.startswith("https://tool.example.edu/xapi/course/") for p in parents)


def test_one_learner_in_two_schools_courses_keeps_both_courses_statements(store: Store) -> None:
    """The same person (one issuer, one sub) in two deployments' courses with the same module
    ids: each course's module statements are stored, none is deduplicated into the other's."""
    courses = CourseService(
        store, outbox=Outbox(store), statements=StatementFactory("https://tool.example.edu")
    )
    for school in (SCHOOL_A, SCHOOL_B):
        course, _ = courses.ensure_course_and_enrol(
            school, "ctx-1", Enrolment(sub="ana"), title="Bio", path=flipped_classroom(START)
        )
        outcome = courses.record(course, "ana", VideoWatched(item="prework-video", percent=95))
        assert len(outcome.statement_ids) == 2  # prework-video completed, quiz unlocked
    with store.session() as s:
        stored = s.execute(select(xapi_outbox.c.payload)).scalars().all()
    assert len(stored) == 4
    parents = {json.loads(p)["context"]["contextActivities"]["parent"][0]["id"] for p in stored}
    assert len(parents) == 2


def test_the_key_is_sha256_of_the_three_parts_and_the_same_in_another_process() -> None:
    expected = hashlib.sha256(json.dumps([CANVAS, "10000000000042", "101:a"]).encode()).hexdigest()[
        :24
    ]
    assert SCHOOL_A.key == expected
    assert activity_key(SCHOOL_A, "ctx-1") == f"canvas.instructure.com:{expected}:ctx-1"
    other = subprocess.run(
        [
            sys.executable,
            "-c",
            "from blendkit.lti import Tenant; print(Tenant(issuer='https://canvas.instructure.com',"
            " client_id='10000000000042', deployment_id='101:a').key)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert other.stdout.strip() == expected


@given(tenants, tenants, st.text(min_size=1, max_size=40))
def test_distinct_deployments_never_share_a_key(one: Tenant, two: Tenant, context: str) -> None:
    if one != two:
        assert one.key != two.key
        assert activity_key(one, context) != activity_key(two, context)
    else:
        assert activity_key(one, context) == activity_key(two, context)


@given(tenants, st.text(min_size=1, max_size=60))
def test_the_course_activity_id_is_a_valid_iri_in_a_valid_statement(
    tenant: Tenant, context: str
) -> None:
    factory = StatementFactory("https://tool.example.edu")
    statement = factory.launched(
        lti_actor(tenant.issuer, "ana"),
        resource_id="r1",
        launch_id="l1",
        course_id=activity_key(tenant, context),
    )
    assert parse_statement(statement.to_json()) == statement
    (parent,) = statement.context.contextActivities.parent  # type: ignore[union-attr]
    assert parent.id.startswith("https://tool.example.edu/xapi/course/")
    assert not any(c in parent.id for c in ' <>"{}|\\^`')


def test_an_old_shape_call_is_refused_before_it_reaches_the_store(store: Store) -> None:
    import pytest

    courses = CourseService(store, outbox=Outbox(store), statements=StatementFactory("https://t"))
    with pytest.raises(TypeError, match=r"launch\.tenant"):
        courses.course(CANVAS, "ctx-1")  # type: ignore[arg-type]


def test_a_copied_tenant_never_keeps_the_key_of_the_original() -> None:
    copied = SCHOOL_A.model_copy(update={"deployment_id": SCHOOL_B.deployment_id})
    assert copied.key == SCHOOL_B.key != SCHOOL_A.key
