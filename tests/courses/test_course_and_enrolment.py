"""One read for a course and a person's enrolment in it: the same results as the two calls."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event

from blendkit import NotFound, Store
from blendkit.courses import CourseService, Enrolment
from blendkit.lti import Tenant
from blendkit.progression import flipped_classroom
from blendkit.xapi import Outbox, StatementFactory

START = datetime(2030, 3, 4, 16, 0, tzinfo=UTC)
ISSUER = "https://lms.example.edu"
TENANT = Tenant(issuer=ISSUER, client_id="c1", deployment_id="d1")
_contexts = itertools.count()


@pytest.fixture
def service(store: Store) -> CourseService:
    return CourseService(
        store,
        outbox=Outbox(store),
        statements=StatementFactory("https://tool.example.edu"),
        clock=lambda: START,
    )


def test_course_and_enrolment_reads_both_or_says_who_is_missing(service: CourseService) -> None:
    with pytest.raises(NotFound, match="no course for context 'geo-1'"):
        service.course_and_enrolment(TENANT, "geo-1", "ana")
    course = service.ensure_course(
        TENANT, "geo-1", title="Geography", path=flipped_classroom(START)
    )
    assert service.course_and_enrolment(TENANT, "geo-1", "ana") == (course, None)
    ana = service.enrol(course, Enrolment(sub="ana", name="Ana", time_zone="Asia/Tokyo"))
    service.enrol(course, Enrolment(sub="ben", name="Ben"))
    found_course, found = service.course_and_enrolment(TENANT, "geo-1", "ana")
    assert found_course == course
    assert found == ana == service.enrolment(course, "ana")
    assert service.course_and_enrolment(TENANT, "geo-1", "cleo") == (course, None)


def test_a_returning_launch_with_nothing_changed_is_one_statement(
    service: CourseService, store: Store
) -> None:
    person = Enrolment(sub="ana", name="Ana", email="ana@x.edu")
    fields = {"title": "Geography", "path": flipped_classroom(START)}
    service.ensure_course_and_enrol(TENANT, "geo-2", person, **fields)  # type: ignore[arg-type]
    seen: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    service.ensure_course_and_enrol(TENANT, "geo-2", person, **fields)  # type: ignore[arg-type]
    assert len(seen) == 1, seen


launch = st.fixed_dictionaries(
    {
        "title": st.sampled_from(["Biology", "Biology II", ""]),
        "ags": st.sampled_from([None, {"scope": ["score"]}, {"scope": ["score", "lineitem"]}]),
        "sub": st.sampled_from(["ana", "ben"]),
        "name": st.sampled_from(["Ana", "Ana B.", "Ben"]),
        "email": st.sampled_from([None, "a@x.edu"]),
        "zone": st.sampled_from([None, "Europe/Berlin", "Asia/Tokyo"]),
        "roles": st.sampled_from([("learner",), ("instructor",)]),
    }
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(launch, min_size=1, max_size=6))
def test_one_call_equals_ensure_course_then_enrol(
    service: CourseService, launches: list[dict]
) -> None:
    n = next(_contexts)
    old, new = f"two-calls-{n}", f"one-call-{n}"
    for item in launches:
        person = Enrolment(
            sub=item["sub"],
            name=item["name"],
            email=item["email"],
            time_zone=item["zone"] or "UTC",
            roles=item["roles"],
        )
        fields = {
            "title": item["title"] or "Untitled",
            "path": flipped_classroom(START),
            "ags": item["ags"],
        }
        keep_zone = item["zone"] is None
        course_a = service.ensure_course(TENANT, old, **fields)  # type: ignore[arg-type]
        person_a = service.enrol(course_a, person, keep_zone=keep_zone)
        course_b, person_b = service.ensure_course_and_enrol(
            TENANT,
            new,
            person,
            keep_zone=keep_zone,
            **fields,  # type: ignore[arg-type]
        )
        assert person_b == person_a
        differ = {"id", "context_id", "activity_key"}
        assert course_b.model_dump(exclude=differ) == course_a.model_dump(exclude=differ)
        stored_a = service.course_and_enrolment(TENANT, old, person.sub)
        stored_b = service.course_and_enrolment(TENANT, new, person.sub)
        assert stored_b[0] == course_b
        assert stored_b[1] == person_b
        assert stored_a[1] == stored_b[1]
