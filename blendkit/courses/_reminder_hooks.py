"""What the course services tell the notification queue when dates move or items open.

A sitting moved or rescheduled: its pending reminders of the old start are cancelled, the new
start's reminders due within the horizon are scheduled, and every learner gets a "moved" notice
(:class:`~blendkit.notify.SessionMoved`). A learner's deadline extended: their pending reminders
of the old deadline are cancelled and the new ones scheduled. An item opened for a learner (an
unlock override, or evidence that met its gate): the unlock notice, keyed once per learner and
item, so it is sent once however often the item opens.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from blendkit.errors import BlendkitError, ProviderError
from blendkit.notify._contexts import ItemUnlocked, SessionMoved
from blendkit.notify._intent import NotificationSink, ReminderIntent
from blendkit.notify._planning import ReminderPlan

if TYPE_CHECKING:
    from blendkit.courses._live import LiveSessionService
    from blendkit.courses._models import Course, Enrolment, LiveSessionRecord
    from blendkit.courses._reminder_links import ReminderLinks
    from blendkit.courses._service import CourseService

__all__ = ["HORIZON", "announce_extension", "announce_move", "announce_unlocked"]

HORIZON = timedelta(hours=48)
"""How far ahead a hook schedules the reminders of a moved date (the planner does the rest)."""


def announce_unlocked(
    sink: NotificationSink,
    links: ReminderLinks,
    course: Course,
    person: Enrolment,
    items: tuple[str, ...],
    *,
    now: datetime,
) -> int:
    """Schedule the unlock notice of each item (version ``open``: once per learner and item)."""
    intents = [
        ReminderIntent(
            course.id,
            person.sub,
            f"unlock:{item}",
            "open",
            "0",
            now,
            ItemUnlocked(
                recipient_name=person.display_name[:200],
                course_title=course.title[:200],
                item_title=(course.path.item(item).title or item)[:200],
                item_url=links.item_url(course, item),
            ),
        )
        for item in items
    ]
    return sink.schedule(intents) if intents else 0


def announce_extension(
    sink: NotificationSink,
    courses: CourseService,
    course: Course,
    person: Enrolment,
    *,
    item: str,
    now: datetime,
) -> int:
    """Cancel the learner's pending reminders of the item's old deadline, schedule the new."""
    from blendkit.courses._reminders import ReminderPlanner, addressees

    links = courses.reminder_links
    assert links is not None
    planner = ReminderPlanner(courses, None, links, horizon=HORIZON)
    name = f"deadline:{item}"
    events = [e for e in planner.events(course, [person], now) if e.event == name]
    if not events:
        return 0
    new = events[0]
    sink.cancel_event(course.id, new.name_for(person.sub), keep_version=new.version)
    plan = ReminderPlan(course.id, addressees([person]), events)
    completed = courses.learner_path(course, person.sub, now).state(item) == "completed"
    return 0 if completed else sink.schedule(plan.due(now, HORIZON))


def announce_move(
    sink: NotificationSink,
    live: LiveSessionService,
    course: Course,
    *,
    before: LiveSessionRecord,
    after: LiveSessionRecord,
    now: datetime,
) -> int:
    """Cancel the sitting's pending reminders of its old start, schedule those of the new
    start due within the horizon and a "moved" notice per learner who may join it."""
    from blendkit.courses._reminders import ReminderPlanner, addressees

    if before.start_utc == after.start_utc:
        return 0
    event = f"session:{after.id}"
    version = after.start_utc.isoformat()
    sink.cancel_event(course.id, event, keep_version=version)
    courses = live.courses
    people = courses.enrolments(course, learners_only=True)
    intents: list[ReminderIntent] = []
    links = courses.reminder_links
    if links is not None:
        planner = ReminderPlanner(courses, live, links, horizon=HORIZON)
        offsets = planner.settings.offsets(course.id).session
        sittings = [
            e for e in planner.sitting_events(course, [after], offsets, now) if e.event == event
        ]
        plan = ReminderPlan(course.id, addressees(people), sittings)
        intents.extend(plan.due(now, HORIZON, personal=planner.join_links(course)))
    for person in people:
        try:
            url = live.join_link(course, after.id, person.sub)
        except ProviderError as exc:
            from blendkit.courses._reminders import provider_refused

            provider_refused(exc, after.id, person.sub)
            continue
        except BlendkitError:  # the sitting's item is locked for them: they cannot join
            continue
        intents.append(
            ReminderIntent(
                course.id, person.sub, event, version, "moved", now,
                SessionMoved(
                    recipient_name=person.display_name[:200], course_title=course.title[:200],
                    session_title=after.title[:200], previous_start=before.start_utc,
                    starts=after.start_utc, time_zone=person.time_zone, join_url=url,
                ),
            )
        )  # fmt: skip
    return sink.schedule(intents)
