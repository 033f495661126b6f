"""The learner's notification settings page and the one-click unsubscribe link: preferences
saved through a CSRF form, unsubscribing without a login by GET (confirm) then POST, forged
or other-course tokens refused with a reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from blendkit.courses import ReminderSettings
from blendkit.notify import UnsubscribeTokens
from blendkit.store._tables_courses import course_courses
from blendkit_examples.flask_app.app import services
from blendkit_examples.flask_app.notify_pages import unsubscribe_url
from tests.app.conftest import Tool


def _course_id(tool: Tool, launch_id: str, context: str = "bio-101") -> int:
    tool.client.get("/course", query_string={"launch": launch_id})
    with tool.store.transaction() as s:
        found = s.execute(
            select(course_courses.c.id).where(course_courses.c.context_id == context)
        ).scalar_one()
    return int(found)


def test_a_learner_saves_quiet_hours_and_a_daily_digest(tool: Tool) -> None:
    launch_id = tool.launch("ana")
    page = tool.get("/notifications", launch_id)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert 'name="csrf"' in body
    assert "Europe/Berlin" in body  # times are the learner's own clock

    saved = tool.post(
        "/notifications", launch_id,
        {"quiet_start": "22:00", "quiet_end": "07:00", "delivery": "digest", "digest_hour": "9",
         "channel": "webhook"},
    )  # fmt: skip
    assert saved.status_code == 302
    prefs = ReminderSettings(tool.store).preferences(_course_id(tool, launch_id), "ana")
    assert (prefs.digest, prefs.digest_hour, prefs.channel) == (True, 9, "webhook")
    assert prefs.quiet is not None
    assert prefs.quiet.start.hour == 22

    refused = tool.post("/notifications", launch_id, {"quiet_start": "22:00", "quiet_end": ""})
    assert refused.status_code == 400
    assert "quiet hours need both" in refused.get_data(as_text=True)
    no_csrf = tool.client.post("/notifications", data={"launch": launch_id, "delivery": "digest"})
    assert no_csrf.status_code == 403


def test_unsubscribing_needs_no_login_and_one_post(tool: Tool) -> None:
    launch_id = tool.launch("ana")
    course_id = _course_id(tool, launch_id)
    with tool.app.test_request_context():
        url = unsubscribe_url(course_id, "ana", "email")
    assert url.startswith("http://tool.test/unsubscribe/")
    path = url.removeprefix("http://tool.test")

    confirm = tool.client.get(path)  # no launch, no cookie
    assert confirm.status_code == 200
    assert "Unsubscribe</button>" in confirm.get_data(as_text=True)
    settings = ReminderSettings(tool.store)
    assert settings.preferences(course_id, "ana").unsubscribed == {}  # a GET changes nothing

    done = tool.client.post(path, data={"List-Unsubscribe": "One-Click"})  # RFC 8058 body
    assert done.status_code == 200
    assert "no more notifications" in done.get_data(as_text=True)
    assert set(settings.preferences(course_id, "ana").unsubscribed) == {"email"}
    assert tool.client.post(path).status_code == 200  # again: nothing changes

    page = tool.get("/notifications", launch_id).get_data(as_text=True)
    assert "You unsubscribed from email" in page
    tool.post("/notifications", launch_id, {"delivery": "immediate", "resubscribe": "1"})
    assert settings.preferences(course_id, "ana").unsubscribed == {}


def test_forged_or_foreign_tokens_are_refused_with_a_reason(tool: Tool) -> None:
    launch_id = tool.launch("ana")
    course_id = _course_id(tool, launch_id)
    other = tool.launch("ana", context="chem-200")
    other_id = _course_id(tool, other, "chem-200")
    with tool.app.test_request_context():
        url = unsubscribe_url(course_id, "ana")
        tenant = services().reminders.tenant_of(course_id) or ""
    token = url.rsplit("/", 1)[1]
    payload, signature = token.split(".")

    forged = UnsubscribeTokens("not-the-tool-key").issue(course_id, tenant, "ana")
    for bad in (forged, f"{payload}.{signature[:-2]}", "nonsense"):
        answer = tool.client.post(f"/unsubscribe/{bad}")
        assert answer.status_code == 403
        assert "notify.unsubscribe_invalid" in answer.get_data(as_text=True)
    # The same learner's token for one course does not unsubscribe them from another.
    moved = UnsubscribeTokens("test-secret").issue(other_id, tenant, "ana")
    assert tool.client.post(f"/unsubscribe/{moved}").status_code == 403
    assert ReminderSettings(tool.store).preferences(other_id, "ana").unsubscribed == {}

    year_ago = datetime.now(UTC) - timedelta(days=400)
    expired = UnsubscribeTokens("test-secret", clock=lambda: year_ago).issue(
        course_id, tenant, "ana"
    )
    answer = tool.client.get(f"/unsubscribe/{expired}")
    assert answer.status_code == 403
    assert "expired" in answer.get_data(as_text=True)
