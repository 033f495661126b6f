"""Roles: context roles decide learner/instructor; institution and system roles never do."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blendkit.lti import parse_role, summarize_roles

V2 = "http://purl.imsglobal.org/vocab/lis/v2/"
M = V2 + "membership#"
INST = V2 + "institution/person#"
SYS = V2 + "system/person#"

CANVAS_TEACHER = [INST + "Instructor", INST + "Student", M + "Instructor", SYS + "User"]
CANVAS_STUDENT = [INST + "Student", M + "Learner", SYS + "User"]
MOODLE_TEACHER = [INST + "Administrator", M + "Instructor", SYS + "Administrator"]


def test_canvas_teacher_is_instructor_not_learner() -> None:
    roles = summarize_roles(CANVAS_TEACHER)
    assert roles.is_instructor
    assert not roles.is_learner
    assert not roles.is_institution_admin


def test_canvas_student_is_learner_only() -> None:
    roles = summarize_roles(CANVAS_STUDENT)
    assert roles.is_learner
    assert not roles.is_instructor
    assert not roles.is_teaching_assistant


def test_moodle_site_admin_teaching_is_instructor_and_admin() -> None:
    roles = summarize_roles(MOODLE_TEACHER)
    assert roles.is_instructor
    assert roles.is_institution_admin


@pytest.mark.parametrize(
    ("role", "helper"),
    [
        (M + "Learner", "is_learner"),
        ("Learner", "is_learner"),
        (V2 + "membership/Learner#Learner", "is_learner"),
        (M + "Instructor", "is_instructor"),
        ("Instructor", "is_instructor"),
        (V2 + "membership/Instructor#Lecturer", "is_instructor"),
        (V2 + "membership/Instructor#TeachingAssistant", "is_teaching_assistant"),
        (M + "Administrator", "is_instructor"),  # a course administrator teaches it
        (V2 + "membership/Administrator#Developer", "is_instructor"),
        (INST + "Administrator", "is_institution_admin"),
        (SYS + "Administrator", "is_institution_admin"),
        (SYS + "SysAdmin", "is_institution_admin"),
        (M + "ContentDeveloper", "is_content_developer"),
        ("ContentDeveloper", "is_content_developer"),
        (M + "Mentor", "is_mentor"),
        ("Mentor", "is_mentor"),
    ],
)
def test_each_role_sets_exactly_its_helper(role: str, helper: str) -> None:
    summary = summarize_roles([role])._asdict()
    assert summary.pop(helper) is True
    assert not any(summary.values()), summary


@pytest.mark.parametrize(
    "role",
    [
        INST + "Student",
        INST + "Instructor",
        INST + "Faculty",
        SYS + "User",
        "Student",  # not a context role name
        "urn:lti:role:ims/lis/Learner",  # LTI 1.1 URN: not a 1.3 role
        "http://example.com/vocab#Instructor",
        M,
    ],
)
def test_roles_outside_the_context_never_make_learner_or_instructor(role: str) -> None:
    summary = summarize_roles([role])
    assert not summary.is_learner
    assert not summary.is_instructor


def test_teaching_assistant_alone_is_not_an_instructor() -> None:
    summary = summarize_roles([V2 + "membership/Instructor#TeachingAssistant"])
    assert summary.is_teaching_assistant
    assert not summary.is_instructor
    with_principal = summarize_roles(
        [M + "Instructor", V2 + "membership/Instructor#TeachingAssistant"]
    )
    assert with_principal.is_instructor
    assert with_principal.is_teaching_assistant


def test_parse_role_shapes() -> None:
    assert parse_role(M + "Instructor") == ("context", "Instructor", None)
    assert parse_role(V2 + "membership/Instructor#TeachingAssistant") == (
        "context",
        "Instructor",
        "TeachingAssistant",
    )
    assert parse_role(SYS + "User") == ("system", "User", None)
    assert parse_role(INST + "Student") == ("institution", "Student", None)
    assert parse_role("Learner") == ("context", "Learner", None)
    assert parse_role("nonsense") is None


KNOWN = [
    M + "Learner",
    M + "Instructor",
    M + "Administrator",
    M + "ContentDeveloper",
    M + "Mentor",
    M + "Member",
    V2 + "membership/Instructor#TeachingAssistant",
    V2 + "membership/Learner#NonCreditLearner",
    "Instructor",
    "Learner",
    INST + "Student",
    INST + "Faculty",
    INST + "Administrator",
    SYS + "Administrator",
]
role_lists = st.lists(st.one_of(st.sampled_from(KNOWN), st.text(max_size=30)), max_size=8)


@settings(max_examples=200)
@given(roles=role_lists, position=st.integers(min_value=0, max_value=8))
def test_adding_person_user_roles_never_changes_learner_or_instructor(
    roles: list[str], position: int
) -> None:
    before = summarize_roles(roles)
    extended = list(roles)
    extended.insert(min(position, len(roles)), SYS + "User")
    extended.append(INST + "Student")
    after = summarize_roles(extended)
    assert (after.is_instructor, after.is_learner) == (before.is_instructor, before.is_learner)


@settings(max_examples=200)
@given(roles=role_lists)
def test_summary_ignores_order_and_duplicates(roles: list[str]) -> None:
    assert summarize_roles(roles) == summarize_roles(sorted(set(roles)))
    assert summarize_roles(roles) == summarize_roles(roles + roles)


@settings(max_examples=200)
@given(roles=role_lists)
def test_learner_iff_a_learner_context_role_is_present(roles: list[str]) -> None:
    expected = any(
        r in {M + "Learner", "Learner"} or r.startswith(V2 + "membership/Learner#") for r in roles
    )
    assert summarize_roles(roles).is_learner is expected
