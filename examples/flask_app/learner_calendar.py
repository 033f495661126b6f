"""The learner's "Upcoming" page (sessions and deadlines on their own clock) and the calendar
subscription links: a learner's own feed, and the course feed for instructors.

A feed token is shown once, right after it is created (only its hash is kept), so creating a
link answers with the page that shows it instead of redirecting; creating a new one revokes the
old link, and "Stop" revokes it without a new one.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import redirect, render_template
from flask.typing import ResponseReturnValue

from blendkit_examples.flask_app.app import services
from blendkit_examples.flask_app.learner import bp
from blendkit_examples.flask_app.pages import here, link, require_staff

__all__ = ["feed_links"]


def feed_links(token: str) -> dict[str, str]:
    """The subscribe (``webcal://``) and download (``https://``) links of a feed token."""
    base = services().settings.tool.base_url.rstrip("/")
    url = f"{base}/calendar/{token}.ics"
    return {"https": url, "webcal": "webcal://" + url.split("://", 1)[1]}


@bp.get("/upcoming")
def upcoming() -> ResponseReturnValue:
    """What comes next for the learner: each live sitting and each deadline still ahead."""
    current = here()
    svc = services()
    now = datetime.now(UTC)
    result = svc.courses.learner_path(current.course, current.person.sub)
    visible = {s.id: s for s in result.items if s.visible}
    sessions = [
        s
        for s in svc.live.sessions(current.course)
        if s.end_utc > now and (s.item is None or s.item in visible)
    ]
    deadlines = sorted(
        (s for s in visible.values() if s.due is not None and s.due > now),
        key=lambda s: s.due or now,
    )
    return render_template(
        "upcoming.html",
        sessions=sessions,
        deadlines=deadlines,
        has_feed=svc.feeds.has_token(current.course, current.person.sub),
        has_course_feed=current.is_staff and svc.feeds.has_token(current.course),
    )


def _shown(what: str, token: str) -> ResponseReturnValue:
    page = render_template("calendar_link.html", what=what, links=feed_links(token))
    return page, 200, {"Cache-Control": "no-store"}


@bp.post("/my-calendar/link")
def calendar_link() -> ResponseReturnValue:
    """A new secret link to the learner's own feed (any earlier link stops working)."""
    current = here()
    token = services().feeds.issue_token(current.course, current.person.sub)
    return _shown("your calendar", token)


@bp.post("/my-calendar/stop")
def calendar_stop() -> ResponseReturnValue:
    """Revoke the learner's feed link: calendar apps get 404 from then on."""
    current = here()
    services().feeds.revoke_token(current.course, current.person.sub)
    return redirect(link("learner.upcoming"))


@bp.post("/course-calendar/link")
def course_calendar_link() -> ResponseReturnValue:
    """A new secret link to the course feed (every session, the path's deadlines)."""
    current = require_staff()
    token = services().feeds.issue_token(current.course, issued_by=current.person.sub)
    return _shown("the course calendar", token)


@bp.post("/course-calendar/stop")
def course_calendar_stop() -> ResponseReturnValue:
    current = require_staff()
    services().feeds.revoke_token(current.course)
    return redirect(link("learner.upcoming"))
