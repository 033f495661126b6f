"""LTI 1.3 roles: parse the role URIs and answer "is this person an instructor here?".

Only context (membership) roles describe what someone is *in this course*. Institution and
system roles (``…/institution/person#Student``, ``…/system/person#User``) describe the person
elsewhere; Canvas sends ``system/person#User`` to everyone, and a teacher may also be a student of
the institution. So learner/instructor/TA/mentor/content-developer come from context roles only.

Administrators: a context (membership) ``Administrator`` administers *this course* in the LMS and
is treated as an instructor of it, never more. ``is_institution_admin`` is true only for an
institution or system ``Administrator`` (or system ``SysAdmin``): someone who runs the platform
that sent the launch. Neither makes a person an administrator of the tool itself; that is decided
by :func:`blendkit.lti.administrator_for` from the tool's own settings.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, Literal, NamedTuple

__all__ = ["ParsedRole", "RoleSummary", "parse_role", "summarize_roles"]

_V2: Final = "http://purl.imsglobal.org/vocab/lis/v2/"
_MEMBERSHIP: Final = _V2 + "membership"
_INSTITUTION: Final = _V2 + "institution/person"
_SYSTEM: Final = _V2 + "system/person"
_CONTEXT_NAMES: Final = frozenset(
    {
        "Administrator",
        "ContentDeveloper",
        "Instructor",
        "Learner",
        "Mentor",
        "Manager",
        "Member",
        "Officer",
    }
)

Scope = Literal["context", "institution", "system"]


class ParsedRole(NamedTuple):
    """One role: where it applies, its principal role and its sub-role (if any)."""

    scope: Scope
    principal: str
    sub: str | None


def parse_role(role: str) -> ParsedRole | None:
    """Parse a role URI or a simple context role name; None for vocabularies we do not know."""
    if role.startswith(_MEMBERSHIP):
        rest = role[len(_MEMBERSHIP) :]
        if rest.startswith("#"):
            return ParsedRole("context", rest[1:], None)
        if rest.startswith("/") and "#" in rest:
            principal, _, sub = rest[1:].partition("#")
            return ParsedRole("context", principal, sub)
        return None
    if role.startswith(_INSTITUTION + "#"):
        return ParsedRole("institution", role[len(_INSTITUTION) + 1 :], None)
    if role.startswith(_SYSTEM + "#"):
        return ParsedRole("system", role[len(_SYSTEM) + 1 :], None)
    # LTI 1.3 allows simple names for context roles ("Instructor", "Learner").
    if role in _CONTEXT_NAMES or role == "TeachingAssistant":
        return ParsedRole("context", role, None)
    return None


class RoleSummary(NamedTuple):
    """What the role list means for the tool."""

    is_learner: bool
    is_instructor: bool
    is_teaching_assistant: bool
    is_institution_admin: bool
    is_content_developer: bool
    is_mentor: bool


def summarize_roles(roles: Iterable[str]) -> RoleSummary:
    """Compute the role helpers from a raw ``roles`` claim."""
    learner = instructor = assistant = institution_admin = developer = mentor = False
    for raw in roles:
        parsed = parse_role(raw)
        if parsed is None:
            continue
        scope, principal, sub = parsed
        if scope != "context":
            if principal in {"Administrator", "SysAdmin"}:
                institution_admin = True
            continue
        # LIS names six assistant sub-roles (…#TeachingAssistantSection, …Group, …Offering,
        # …SectionAssociation, …Template): each is an assistant, never an instructor.
        if (sub or "").startswith("TeachingAssistant") or principal == "TeachingAssistant":
            assistant = True
            continue
        if principal == "Learner":
            learner = True
        elif principal in {"Instructor", "Administrator"}:
            # A course administrator runs this course in the LMS: an instructor here.
            instructor = True
        elif principal == "ContentDeveloper":
            developer = True
        elif principal == "Mentor":
            mentor = True
    return RoleSummary(learner, instructor, assistant, institution_admin, developer, mentor)
