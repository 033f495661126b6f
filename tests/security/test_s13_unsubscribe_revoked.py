"""Suspicion 13: a one-click unsubscribe link could not be revoked.

The link (no login, valid a year) is in every reminder, and so in every forwarded or leaked
message. A learner who subscribes again from the course's notification page had no way to make
the old links stop: anyone holding one unsubscribed them again, silently. Now subscribing again
revokes every link issued before; links in messages sent after it work. This test failed before.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from blendkit.store._tables_reminders import reminder_unsubscribes
from tests.app import conftest as app
from tests.app.conftest import Tool

tool = app.tool  # the example tool launched on a real SQLite store (a fixture)


def _link(tool: Tool, launch: str, *, later: timedelta = timedelta(0)) -> str:
    """The link a message sent now (or ``later``) carries."""
    from blendkit_examples.flask_app.app import services
    from blendkit_examples.flask_app.pages import here

    with tool.app.test_request_context("/course", query_string={"launch": launch}):
        current = here()
        svc = services()
        tokens = svc.unsubscribe
        clock = tokens.clock
        tokens.clock = lambda: clock() + later
        try:
            tenant = svc.reminders.tenant_of(current.course.id) or ""
            token = tokens.issue(current.course.id, tenant, current.person.sub)
        finally:
            tokens.clock = clock
    return f"/unsubscribe/{token}"


def _unsubscribed(tool: Tool) -> int:
    with tool.store.transaction() as s:
        return int(s.execute(select(func.count()).select_from(reminder_unsubscribes)).scalar_one())


def test_subscribing_again_revokes_the_links_issued_before(tool: Tool) -> None:
    ana = tool.launch("ana")
    tool.get("/course", ana)
    old = _link(tool, ana)
    assert tool.client.post(old).status_code == 200
    assert _unsubscribed(tool) == 1
    again = tool.post("/notifications", ana, {"digest_hour": "8", "resubscribe": "1"})
    assert again.status_code == 302
    assert _unsubscribed(tool) == 0
    replayed = tool.client.post(old)
    assert replayed.status_code == 403
    assert "notify.unsubscribe_revoked" in replayed.get_data(as_text=True)
    assert _unsubscribed(tool) == 0, "the old link changed nothing"
    shown = tool.client.get(old)
    assert shown.status_code == 403, "the confirm page says so before any click"
    fresh = _link(tool, ana, later=timedelta(seconds=2))  # a message sent after subscribing
    assert tool.client.post(fresh).status_code == 200
    assert _unsubscribed(tool) == 1
