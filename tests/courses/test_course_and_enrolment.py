"""One read for a course and a person's enrolment in it: the same results as the two calls; and
whose time zone wins: the learner's choice > the platform's zone > the browser's (confirmed) >
the course default, whatever order launches and forms arrive in."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event

from blendkit import NotFound, Store
from blendkit.courses import ZONE_PRECEDENCE, CourseService, Enrolment
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


ZONES = ["Asia/Kathmandu", "Asia/Kolkata", "America/St_Johns", "Europe/Berlin", "UTC"]


def _launch(service: CourseService, course, zone: str | None) -> Enrolment:  # type: ignore[no-untyped-def]
    """What a launch does: a platform zone when one came, else the stored zone stays."""
    person = Enrolment(
        sub="ana",
        name="Ana",
        time_zone=zone or "UTC",
        time_zone_source="platform" if zone else "course",
    )
    return service.enrol(course, person, keep_zone=zone is None)


def _zoned_course(service: CourseService):  # type: ignore[no-untyped-def]
    context = f"tz-{next(_contexts)}"
    return service.ensure_course(TENANT, context, title="Geo", path=flipped_classroom(START))


def test_each_source_replaces_lower_ones_only(service: CourseService) -> None:
    course = _zoned_course(service)
    first = _launch(service, course, None)
    assert (first.time_zone, first.time_zone_source) == ("UTC", "course")
    browser = service.set_time_zone(course, "ana", "Asia/Kathmandu", source="browser")
    assert (browser.time_zone, browser.time_zone_source) == ("Asia/Kathmandu", "browser")
    assert _launch(service, course, None).time_zone == "Asia/Kathmandu"  # Moodle's 99, say
    platform = _launch(service, course, "Europe/Berlin")
    assert (platform.time_zone, platform.time_zone_source) == ("Europe/Berlin", "platform")
    late = service.set_time_zone(course, "ana", "Asia/Kathmandu", source="browser")
    assert late.time_zone == "Europe/Berlin"  # a stale offer changes nothing
    chosen = service.set_time_zone(course, "ana", "America/St_Johns")
    assert (chosen.time_zone, chosen.time_zone_source) == ("America/St_Johns", "learner")
    assert _launch(service, course, "Asia/Tokyo").time_zone == "America/St_Johns"
    stored = service.enrolment(course, "ana")
    assert (stored.time_zone, stored.time_zone_source) == ("America/St_Johns", "learner")


EVENTS = st.lists(
    st.tuples(
        st.sampled_from(["launch", "launch-none", "browser", "learner"]), st.sampled_from(ZONES)
    ),
    min_size=1,
    max_size=8,
)
RANK = {"launch": "platform", "browser": "browser", "learner": "learner"}


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(events=EVENTS)
def test_the_last_zone_of_the_highest_source_wins(
    service: CourseService, events: list[tuple[str, str]]
) -> None:
    course = _zoned_course(service)
    _launch(service, course, None)
    for kind, zone in events:
        if kind.startswith("launch"):
            _launch(service, course, None if kind == "launch-none" else zone)
        else:
            service.set_time_zone(course, "ana", zone, source=RANK[kind])  # type: ignore[arg-type]
    # The oracle: of the events that carried a zone, the last one whose source ranks highest.
    carried = [(RANK[k], z) for k, z in events if k in RANK]
    stored = service.enrolment(course, "ana")
    if not carried:
        assert (stored.time_zone, stored.time_zone_source) == ("UTC", "course")
        return
    top = max(ZONE_PRECEDENCE[source] for source, _ in carried)
    source, zone = [(s, z) for s, z in carried if ZONE_PRECEDENCE[s] == top][-1]
    assert (stored.time_zone, stored.time_zone_source) == (zone, source)
