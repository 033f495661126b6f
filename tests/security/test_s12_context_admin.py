"""Suspicion 12: a context-level ``membership#Administrator`` counted as a tool administrator.

Before: ``Launch.is_admin`` was true for a course (context) Administrator exactly as for an
institution or system administrator, and the example tool opened ``/admin`` to it. Now a context
Administrator is an instructor of that course and nothing more.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blendkit.lti import Launch, LaunchContext, MessageType, UserIdentity, summarize_roles
from tests.security.registration_kit import (
    CONTEXT_ADMIN,
    INSTITUTION,
    LEARNER,
    MEMBERSHIP,
    SYSTEM,
    Tenants,
    two_tenants,
)

CONTEXT_PRINCIPALS = [
    "Administrator",
    "ContentDeveloper",
    "Instructor",
    "Learner",
    "Mentor",
    "Manager",
    "Member",
    "Officer",
]


def _launch(roles: tuple[str, ...]) -> Launch:
    return Launch(
        message_type=MessageType.RESOURCE_LINK,
        version="1.3.0",
        issuer="https://lms.example.edu",
        client_id="c",
        deployment_id="d",
        user=UserIdentity(sub="u"),
        roles=roles,
        context=LaunchContext(id="course-1"),
        target_link_uri="https://tool.example.edu/lti/launch",
    )


@pytest.fixture
def tenants(tmp_path: Path) -> Iterator[Tenants]:
    found = two_tenants(f"sqlite:///{tmp_path / 'tenants.sqlite3'}", admins=[])
    yield found
    found.store.dispose()


def test_a_context_administrator_teaches_the_course_and_administers_nothing(
    tenants: Tenants,
) -> None:
    course_admin = tenants.launch("course-admin", (CONTEXT_ADMIN,))
    assert tenants.get("/teach", course_admin).status_code == 200
    page = tenants.get("/course", course_admin).get_data(as_text=True)
    assert "Administration" not in page
    assert tenants.get("/admin", course_admin).status_code == 403


def test_a_context_administrator_is_an_instructor_of_that_context() -> None:
    launch = _launch((CONTEXT_ADMIN,))
    assert launch.is_instructor
    assert not launch.is_institution_admin
    sub_role = _launch((MEMBERSHIP.rstrip("#") + "/Administrator#Developer",))
    assert sub_role.is_instructor
    assert not sub_role.is_institution_admin
    assert not _launch((LEARNER,)).is_instructor


context_roles = st.one_of(
    st.sampled_from(CONTEXT_PRINCIPALS).map(lambda p: MEMBERSHIP + p),
    st.tuples(st.sampled_from(CONTEXT_PRINCIPALS), st.sampled_from(CONTEXT_PRINCIPALS)).map(
        lambda pair: f"{MEMBERSHIP.rstrip('#')}/{pair[0]}#{pair[1]}"
    ),
    st.sampled_from(CONTEXT_PRINCIPALS),
    st.sampled_from(["Faculty", "Student", "Staff", "Instructor", "Learner"]).map(
        lambda p: INSTITUTION + p
    ),
    st.sampled_from(["User", "Creator", "None"]).map(lambda p: SYSTEM + p),
    st.text(max_size=30),
)


@given(st.lists(context_roles, max_size=6))
def test_no_course_role_ever_makes_an_administrator(roles: list[str]) -> None:
    assert not summarize_roles(roles).is_institution_admin
    assert not _launch(tuple(roles)).is_institution_admin


@given(
    st.lists(context_roles, max_size=4),
    st.sampled_from([INSTITUTION + "Administrator", SYSTEM + "Administrator", SYSTEM + "SysAdmin"]),
)
def test_institution_and_system_administrators_are_recognised(roles: list[str], admin: str) -> None:
    assert _launch((*roles, admin)).is_institution_admin
