"""Suspicion 13: role confusion through the LIS teaching-assistant sub-roles.

``membership/Instructor#TeachingAssistantSection`` (and ``…Group``, ``…Offering``,
``…SectionAssociation``, ``…Template``) name teaching assistants, but only the bare
``#TeachingAssistant`` was read as one: the others made a full instructor, so
``require_role("instructor")`` (Django, Starlette) and every "instructor only" decision admitted
an assistant. Before the fix these tests failed.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from blendkit.lti import summarize_roles

MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership"


# --- teaching-assistant sub-roles -------------------------------------------------------------

ASSISTANT_SUBROLES = [
    "TeachingAssistant", "TeachingAssistantGroup", "TeachingAssistantOffering",
    "TeachingAssistantSection", "TeachingAssistantSectionAssociation",
    "TeachingAssistantTemplate",
]  # fmt: skip


@given(sub=st.sampled_from(ASSISTANT_SUBROLES))
def test_every_teaching_assistant_sub_role_is_an_assistant_not_an_instructor(sub: str) -> None:
    roles = summarize_roles([f"{MEMBERSHIP}/Instructor#{sub}"])
    assert roles.is_teaching_assistant
    assert not roles.is_instructor


def test_an_instructor_with_an_assistant_sub_role_too_is_an_instructor() -> None:
    roles = summarize_roles(
        [f"{MEMBERSHIP}#Instructor", f"{MEMBERSHIP}/Instructor#TeachingAssistantSection"]
    )
    assert roles.is_instructor
    assert roles.is_teaching_assistant
