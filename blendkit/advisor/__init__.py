"""The course-design advisor: how to deliver each item and live session, and the pitfalls.

:func:`advise` recommends synchronous, asynchronous, office hours, a recording or
micro-learning for every item of a path and every scheduled session, naming the rule of
:data:`ADVISOR_RULES` that decided and its evidence: the item's declared ``nature`` and
``expected_minutes``, the cohort's time-zone coverage from :func:`blendkit.sessions.plan_slots`,
its size and pace spread. :func:`lint_course` finds the pitfalls (lecture trap, content dumping,
overlong micro-learning, recordings without captions), each with why and how to fix it.
Pure: the caller gathers polls, recordings and progress and passes them in.
"""

from blendkit.advisor._advise import advise
from blendkit.advisor._lint import lint_course
from blendkit.advisor._models import (
    AdvisorThresholds,
    CohortFacts,
    CourseAdvice,
    DeliveryMode,
    DeliveryRecommendation,
    DesignFinding,
    RecordingFacts,
    SessionFacts,
)
from blendkit.advisor._rules import ADVISOR_RULES, AdviceRule

__all__ = [
    "ADVISOR_RULES",
    "AdviceRule",
    "AdvisorThresholds",
    "CohortFacts",
    "CourseAdvice",
    "DeliveryMode",
    "DeliveryRecommendation",
    "DesignFinding",
    "RecordingFacts",
    "SessionFacts",
    "advise",
    "lint_course",
]
