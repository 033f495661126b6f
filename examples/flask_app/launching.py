"""What happens right after a valid launch: course and enrolment kept, then the right page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import redirect, url_for
from flask.typing import ResponseReturnValue

from blendkit import LaunchRejected
from blendkit.courses import Course, Enrolment, Question, Quiz
from blendkit.lti import Launch, platform_time_zone
from blendkit.progression import Path, flipped_classroom
from blendkit.xapi import actor_from_launch
from blendkit_examples.flask_app.app import services

ITEM_PARAM = "blendkit_item"
_QUIZZES_READY: set[tuple[str, int]] = set()


def default_path(now: datetime | None = None) -> Path:
    """A new course starts from the flipped-classroom template, class in a week."""
    moment = (now or datetime.now(UTC)) + timedelta(days=7)
    start = moment.replace(hour=16, minute=0, second=0, microsecond=0)
    return flipped_classroom(start)


def default_quiz(title: str) -> Quiz:
    """Questions for a quiz item nobody wrote questions for yet (editable later)."""
    return Quiz(
        title=title,
        pass_mark=60,
        max_attempts=3,
        questions=(
            Question(
                id="q1",
                prompt="What does the pre-work video ask you to bring to class?",
                choices=("Nothing", "One question about the topic", "A printed summary"),
                correct=1,
            ),
            Question(
                id="q2",
                prompt="When is the live session recorded?",
                choices=("Never", "Always, for who cannot attend", "Only on request"),
                correct=1,
            ),
            Question(
                id="q3",
                prompt="What unlocks the live session?",
                choices=(
                    "Watching the pre-work video and passing this quiz",
                    "Nothing, it is always open",
                    "Only the instructor",
                ),
                correct=0,
            ),
        ),
    )


def no_context() -> LaunchRejected:
    """The refusal of a launch that carries no course context."""
    return LaunchRejected(
        "this launch carries no course context; place the tool inside a course in the LMS",
        code="lti.no_context",
        http_status=400,
    )


def _course_fields(launch: Launch) -> dict[str, Any]:
    assert launch.context is not None
    return {
        "title": launch.context.title or launch.context.label or launch.context.id,
        "path": default_path,
        "ags": launch.ags.model_dump(mode="json") if launch.ags else None,
    }


def _quizzes_ready(course: Course) -> None:
    """Attach default questions to quiz items without any (once per course and process)."""
    svc = services()
    key = (str(svc.store.url), course.id)
    if key not in _QUIZZES_READY:  # once per course, database and process
        for item in course.path.items():
            if item.kind == "quiz" and svc.courses.quiz(course, item.id) is None:
                svc.courses.set_quiz(course, item.id, default_quiz(item.title or item.id))
        _QUIZZES_READY.add(key)


def _person(launch: Launch) -> tuple[Enrolment, bool]:
    """Who launched (name, e-mail, role, time zone) and whether to keep their stored zone.

    A valid zone from the platform replaces a stored one unless the learner chose theirs; with
    none (absent, Moodle's ``99``, not an IANA name) the stored zone stays: the learner's
    confirmed browser zone, else the course default (UTC).
    """
    zone = platform_time_zone(launch.custom)
    staff = launch.is_instructor or launch.is_teaching_assistant or launch.is_institution_admin
    person = Enrolment(
        sub=launch.user.sub,
        name=launch.user.name or launch.user.given_name or "",
        email=launch.user.email,
        time_zone=zone or "UTC",
        time_zone_source="platform" if zone else "course",
        roles=("instructor",) if staff else ("learner",),
    )
    return person, zone is None


def enrol(course: Course, launch: Launch) -> Enrolment:
    """Keep who launched: name, e-mail, role and (when the LMS sends it) their time zone."""
    person, keep_zone = _person(launch)
    return services().courses.enrol(course, person, keep_zone=keep_zone)


def course_and_person(launch: Launch) -> tuple[Course, Enrolment]:
    """Course and enrolment kept from the launch, with one read for both."""
    if launch.context is None:
        raise no_context()
    person, keep_zone = _person(launch)
    course, enrolled = services().courses.ensure_course_and_enrol(
        launch.tenant, launch.context.id, person, keep_zone=keep_zone, **_course_fields(launch)
    )
    _quizzes_ready(course)
    return course, enrolled


def on_launch(launch: Launch, launch_id: str) -> ResponseReturnValue:
    """Keep course and person, queue the ``launched`` statement, and open the right page."""
    course, _ = course_and_person(launch)
    svc = services()
    if launch.nrps is not None and (launch.is_instructor or launch.is_teaching_assistant):
        # One small write: `blendkit roster sync --loop` reads the roster soon after, so the
        # launch never waits for the platform.
        svc.roster.request(course, launch.nrps.context_memberships_url)
    svc.outbox.emit(
        svc.courses.statements.launched(
            actor_from_launch(launch, name=launch.user.name),
            resource_id=launch.resource_link.id if launch.resource_link else "tool",
            launch_id=launch_id,
            name=launch.resource_link.title if launch.resource_link else None,
            course_id=svc.courses.course_key(course),
        )
    )
    if launch.is_deep_linking:
        return redirect(url_for("instructor.deep_link", launch=launch_id))
    item = launch.custom.get(ITEM_PARAM)
    if item:
        try:
            course.path.item(item)
        except KeyError:
            item = None
    if item:
        return redirect(url_for("learner.item", item_id=item, launch=launch_id))
    if launch.is_instructor or launch.is_teaching_assistant:
        return redirect(url_for("instructor.dashboard", launch=launch_id))
    return redirect(url_for("learner.course", launch=launch_id))
