"""The demo's mail catcher: every notification the demo sends goes to the ``catcher`` notifier
(kept in the demo's database, so the web process sees what ``blendkit notify run`` sent), and
``/demo-mail`` lists the messages with their text and HTML.

The HTML of a message is shown in a sandboxed frame (``srcdoc``, escaped, no scripts, no same
origin): a message is data, never markup of this page.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from flask import Blueprint, abort
from flask.typing import ResponseReturnValue

from blendkit.calendar import session_invitation
from blendkit.config import Settings
from blendkit.notify import CatcherNotifier, Message, Recipient, caught_messages

__all__ = ["DEMO_CHANNEL", "mail_blueprint", "notify_defaults", "seed_mail"]

DEMO_CHANNEL = "catcher"


def notify_defaults() -> dict[str, Any]:
    """The demo's ``[notify]`` section when the settings have one: reminders go to the catcher."""
    return {"notify": {"channel": DEMO_CHANNEL}} if "notify" in Settings.model_fields else {}


def seed_mail(svc: Any, course: Any, person: Any, now: datetime) -> None:
    """One reminder for the learner's next live sitting, with its ``.ics``, caught as it would
    be sent (the first message the mail catcher shows)."""
    upcoming = [s for s in svc.live.sessions(course) if s.start_utc > now]
    if not upcoming or person.email is None:
        return
    sitting = upcoming[0]
    zone = person.zone
    when = sitting.start_utc.astimezone(zone)
    stamp = f"{when:%a %d %b %Y, %H:%M} {when.tzname()} ({person.time_zone})"
    CatcherNotifier(svc.settings, store=svc.store).send(
        Message(
            recipient=Recipient(address=person.email, name=person.name or None),
            subject=f"{sitting.title} starts {stamp}",
            text=f"Hello {person.display_name},\n\n{sitting.title} starts {stamp}.\n"
            "The calendar file attached puts it in your calendar.",
            html=f"<p>Hello {html.escape(person.display_name)},</p><p><strong>"
            f"{html.escape(sitting.title)}</strong> starts {html.escape(stamp)}.</p>",
            attachments=(session_invitation(course, sitting, join_url=None, changed_at=now),),
            key=f"demo:{person.sub}:{sitting.id}:v1:24h",
        )
    )


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)} · Demo mail</title>"
        '<link rel="stylesheet" href="/static/app.css"></head><body>'
        f'<main id="main">{body}</main></body></html>'
    )


def mail_blueprint(store: Any) -> Blueprint:
    bp = Blueprint("demo_mail", __name__, url_prefix="/demo-mail")

    @bp.get("")
    def inbox() -> ResponseReturnValue:
        rows = "".join(
            f'<li><a href="/demo-mail/{m.id}">{html.escape(m.subject)}</a><br>'
            f"to {html.escape(m.recipient)}, caught {m.caught_at:%Y-%m-%d %H:%M} UTC</li>"
            for m in caught_messages(store)
        )
        table = (
            f'<h2 id="caught-h">Caught messages, newest first</h2><ul class="mail-list">{rows}</ul>'
            if rows
            else "<p>No message yet: reminders appear here once they are sent.</p>"
        )
        return _page(
            "Inbox",
            "<h1>Demo mail catcher</h1><p>The demo sends notifications to this page instead of "
            f"a mail server (notifier <code>{DEMO_CHANNEL}</code>).</p>{table}"
            '<p><a href="/demo-lms">← Demo LMS</a></p>',
        )

    @bp.get("/<int:message_id>")
    def message(message_id: int) -> ResponseReturnValue:
        found = next((m for m in caught_messages(store, limit=1000) if m.id == message_id), None)
        if found is None:
            abort(404)
        files = "".join(f"<li>{html.escape(a)}</li>" for a in found.attachments)
        rendered = (
            '<h2 id="html-h">HTML</h2><iframe class="mail-html" sandbox '
            f'title="HTML of the message" srcdoc="{html.escape(found.html, quote=True)}"></iframe>'
            if found.html
            else ""
        )
        return _page(
            found.subject,
            f"<h1>{html.escape(found.subject)}</h1>"
            f"<p>To: {html.escape(found.recipient)}</p>"
            f'<h2 id="text-h">Text</h2><pre class="mail-text">{html.escape(found.text)}</pre>'
            f"{rendered}"
            + (f'<h2 id="files-h">Attachments</h2><ul>{files}</ul>' if files else "")
            + '<p><a href="/demo-mail">← All messages</a></p>',
        )

    return bp
