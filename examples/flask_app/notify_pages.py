"""Notification pages: a learner's preferences (inside the launch) and the one-click
unsubscribe link of every message (no login: the signed token is the authority)."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from flask import Blueprint, redirect, render_template, request
from flask.typing import ResponseReturnValue

from blendkit.notify import available_notifiers
from blendkit_examples.flask_app.app import services
from blendkit_examples.flask_app.learner import bp as learner_bp
from blendkit_examples.flask_app.pages import bad_request, here, link

bp = Blueprint("notifications", __name__)
CHANNELS = {"": "The course's channel"}
HOURS = list(range(24))


def unsubscribe_url(course_id: int, sub: str, channel: str = "*") -> str:
    """The one-click link a message carries (absolute: it is read outside the tool)."""
    svc = services()
    tenant = svc.reminders.tenant_of(course_id)
    if tenant is None:
        raise bad_request(f"course {course_id} does not exist")
    token = svc.unsubscribe.issue(course_id, tenant, sub, channel)
    return f"{svc.settings.tool.base_url.rstrip('/')}/unsubscribe/{token}"


@learner_bp.get("/notifications")
def notifications() -> ResponseReturnValue:
    """The learner's notification preferences, in their own time zone."""
    current = here()
    svc = services()
    prefs = svc.reminders.preferences(current.course.id, current.person.sub)
    return render_template(
        "notifications.html",
        prefs=prefs,
        channels=CHANNELS | {n: n.capitalize() for n in available_notifiers()},
        hours=HOURS,
        saved=request.args.get("saved") == "1",
        unsubscribe_all=unsubscribe_url(current.course.id, current.person.sub),
    )


@learner_bp.post("/notifications")
def save_notifications() -> ResponseReturnValue:
    current = here()
    form = request.form
    try:
        hour = int(form.get("digest_hour", "8"))
    except ValueError:
        raise bad_request("choose the digest hour from the list") from None
    svc = services()
    svc.reminders.set_preferences(
        current.course,
        current.person.sub,
        channel=form.get("channel") or None,
        quiet_start=form.get("quiet_start", "").strip() or None,
        quiet_end=form.get("quiet_end", "").strip() or None,
        digest=form.get("delivery") == "digest",
        digest_hour=hour,
        available=available_notifiers(),
    )
    if form.get("resubscribe") == "1":
        svc.reminders.resubscribe(current.course, current.person.sub)
    return redirect(link("learner.notifications", saved="1"))


def _request(token: str) -> Any:
    """What a valid link asks; refused when forged, expired, or revoked by a resubscribe."""
    svc = services()
    asked = svc.unsubscribe.verify(token, svc.reminders.tenant_of)
    svc.reminders.check_link(asked.course_id, asked.sub, asked.issued_at)
    return asked


@bp.get("/unsubscribe/<token>")
def unsubscribe(token: str) -> ResponseReturnValue:
    """A confirm button: mail scanners follow links, so only the POST unsubscribes."""
    asked = _request(token)
    course = services().courses.course_by_id(asked.course_id)
    return render_template("unsubscribe.html", asked=asked, course=course, token=token, done=None)


@bp.post("/unsubscribe/<token>")
def unsubscribe_confirmed(token: str) -> ResponseReturnValue:
    """RFC 8058 one-click: the mail client (or the confirm button) posts here."""
    asked = _request(token)
    svc = services()
    course = svc.courses.course_by_id(asked.course_id)
    when = svc.reminders.unsubscribe(
        asked.course_id, asked.sub, asked.channel, issued_at=asked.issued_at
    )
    return render_template(
        "unsubscribe.html", asked=asked, course=course, token=token, done=when.astimezone(UTC)
    )
