"""Every page of the example app the accessibility checks open, derived from its URL map.

Each GET route of the demo app (the example tool with the demo LMS mounted) is either audited
(``AUDITED``: a route pattern and the pages that stand for it) or excluded with a reason
(``EXCLUDED``). ``test_a11y_routes.py`` fails when a route is in neither list, so a page added
later cannot escape the axe and reflow checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

# Routes that render no page a person reads, with the reason each is left out.
EXCLUDED: dict[str, str] = {
    "/static/<path:filename>": "stylesheet and script files",
    "/lti/login": "OIDC login: a redirect to the platform",
    "/lti/launch": "answers with a redirect to the tool's first page (audited below)",
    "/lti/jwks": "JSON key set for platforms",
    "/lti/canvas.json": "JSON configuration for Canvas",
    "/lti/register": "dynamic registration, off by default: answers with the error page (audited)",
    "/healthz": "JSON health check for load balancers",
    "/readyz": "JSON readiness check for load balancers",
    "/metrics": "Prometheus text for monitoring",
    "/webhooks/<name>": "meeting provider webhooks (JSON)",
    "/": "redirects to the course path or the demo LMS course page",
    "/demo-lms/autosubmit.js": "script of the demo's launch form",
    "/demo-lms/launch": "OIDC login initiation: a redirect to the tool",
    "/demo-lms/auth": "auto-submitting launch form, replaced by the tool's page at once",
    "/demo-lms/jwks": "JSON key set of the demo LMS",
    "/demo-lms/media/lecture.wav": "the demo's audio file",
    "/item/<item_id>/live/<session_id>/state": "JSON state the learner's poll page polls",
    "/teach/sessions/<session_id>/live/state": "JSON state the instructor's poll console polls",
    "/demo-lms/media/recap.wav": "the demo recording's media file",
    "/item/<item_id>/recording/<int:recording_id>/captions/<lang>.vtt": "WebVTT caption file",
    "/calendar/<token>.ics": "the calendar feed (text/calendar) that calendar apps poll",
    "/review/<item_id>/file/<int:submission_id>": "submitted files, served as attachments",
}


@dataclass(frozen=True)
class Page:
    """One page load: a name for reports, the route it stands for, who opens it, its path."""

    name: str
    rule: str
    role: str  # learner, locked-learner, zoneless-learner, instructor, admin, deep-linking, lms
    path: str


def inventory(app: Any) -> list[Page]:
    """The pages to audit in the seeded demo app (ids read from its store)."""
    from blendkit.lti import Tenant
    from blendkit_examples.flask_app.app import services
    from blendkit_examples.flask_app.demo_lms import (
        CLIENT_ID,
        CONTEXT_ID,
        CONTEXT_TITLE,
        DEPLOYMENT_ID,
    )

    lms = app.extensions["blendkit_demo_lms"]
    with app.app_context():
        svc = services()
        tenant = Tenant(issuer=lms.issuer, client_id=CLIENT_ID, deployment_id=DEPLOYMENT_ID)
        course = svc.courses.ensure_course(tenant, CONTEXT_ID, title=CONTEXT_TITLE, path=None)
        items = {i.kind: i.id for i in course.path.items()}
        sessions = svc.live.sessions(course)
        recording = next(r for r in svc.live.recordings(course) if r.play_url)
        tenant_key = svc.reminders.tenant_of(course.id) or ""
        unsubscribe = svc.unsubscribe.issue(course.id, tenant_key, "demo-mei")
        captioned = next(r for r in svc.live.recordings(course) if r.media_url)
        review_task = next(
            a.id
            for a in svc.reviews.assignments(course, "peer-review", reviewer="demo-kofi")
            if a.status == "assigned"
        )
    past = next(s for s in sessions if s.attendance_imported)
    polled = next(s for s in sessions if s.item is not None)
    sitting = next(s for s in sessions if s.series_id is not None)
    pages = [
        Page("course path", "/course", "learner", "/course"),
        Page("course path: time zone offer", "/course", "zoneless-learner", "/course"),
        Page("item: video", "/item/<item_id>", "learner", f"/item/{items['video']}"),
        Page("item: quiz", "/item/<item_id>", "learner", f"/item/{items['quiz']}"),
        Page("item: live session", "/item/<item_id>", "learner", f"/item/{items['live_session']}"),
        Page("item: assignment", "/item/<item_id>", "learner", f"/item/{items['assignment']}"),
        Page("item: office hours", "/item/<item_id>", "learner",
             f"/item/{items['office_hours']}"),
        Page("item: locked", "/item/<item_id>", "locked-learner", f"/item/{items['quiz']}"),
        Page("recording player with captions and transcript",
             "/item/<item_id>/recording/<int:recording_id>", "learner",
             f"/item/{items['live_session']}/recording/{captioned.id}"),
        Page("error page", "/item/<item_id>", "learner", "/item/no-such-item"),
        Page("notification settings", "/notifications", "learner", "/notifications"),
        Page("unsubscribe", "/unsubscribe/<token>", "lms", f"/unsubscribe/{unsubscribe}"),
        Page("reminder link opened outside the LMS", "/courses/<int:course_id>", "lms",
             f"/courses/{course.id}"),
        Page("reminder item link opened outside the LMS",
             "/courses/<int:course_id>/items/<item_id>", "lms",
             f"/courses/{course.id}/items/{items['quiz']}"),
        Page("course path (instructor)", "/course", "instructor", "/course"),
        Page("dashboard", "/teach", "instructor", "/teach"),
        Page("sessions", "/teach/sessions", "instructor", "/teach/sessions"),
        Page(
            "sessions with planner",
            "/teach/sessions",
            "instructor",
            "/teach/sessions?plan=1&duration=60&per_week=1",
        ),
        Page("session detail", "/teach/sessions/<session_id>", "instructor",
             f"/teach/sessions/{past.id}"),
        Page("session detail: sitting of a series", "/teach/sessions/<session_id>", "instructor",
             f"/teach/sessions/{sitting.id}"),
        Page("poll console", "/teach/sessions/<session_id>/live", "instructor",
             f"/teach/sessions/{polled.id}/live"),
        Page("polls and questions", "/item/<item_id>/live/<session_id>", "learner",
             f"/item/{polled.item}/live/{polled.id}"),
        Page("office hours", "/teach/office-hours", "instructor", "/teach/office-hours"),
        Page("learners", "/teach/learners", "instructor", "/teach/learners"),
        Page("learner detail", "/teach/learners/<sub>", "instructor", "/teach/learners/demo-mei"),
        Page("roster", "/teach/roster", "instructor", "/teach/roster"),
        Page("attendance grades", "/teach/attendance-grades", "instructor",
             "/teach/attendance-grades"),
        Page("quiz results", "/teach/quizzes", "instructor", "/teach/quizzes"),
        Page("quiz editor", "/teach/quizzes/<item_id>", "instructor",
             f"/teach/quizzes/{items['quiz']}"),
        Page("path settings", "/teach/path", "instructor", "/teach/path"),
        Page("course-design advice", "/teach/advice", "instructor", "/teach/advice"),
        Page("peer review: submit", "/review/<item_id>", "locked-learner", "/review/peer-review"),
        Page("peer review: progress", "/review/<item_id>", "learner", "/review/peer-review"),
        Page("peer review: rubric form", "/review/<item_id>/task/<int:assignment_id>", "learner",
             f"/review/peer-review/task/{review_task}"),
        Page("peer review: feedback", "/review/<item_id>/feedback", "learner",
             "/review/peer-review/feedback"),
        Page("peer review items", "/teach/reviews", "instructor", "/teach/reviews"),
        Page("rubric editor", "/teach/reviews/<item_id>/settings", "instructor",
             "/teach/reviews/peer-review/settings"),
        Page("peer review moderation", "/teach/reviews/<item_id>", "instructor",
             "/teach/reviews/peer-review"),
        Page("admin", "/admin", "admin", "/admin"),
        Page("deep-linking picker", "/deep-link", "deep-linking", "/deep-link"),
        Page("upcoming", "/upcoming", "learner", "/upcoming"),
        Page("upcoming (instructor: course calendar link)", "/upcoming", "instructor",
             "/upcoming"),
        Page("demo mail catcher", "/demo-mail", "lms", "/demo-mail"),
        Page("demo mail: one message", "/demo-mail/<int:message_id>", "lms", "/demo-mail/1"),
        Page("demo LMS", "/demo-lms", "lms", "/demo-lms"),
        Page("demo LMS welcome", "/demo-lms/welcome", "lms", "/demo-lms/welcome"),
        Page("demo meeting", "/demo-lms/meet/j/<meeting_id>", "lms",
             f"/demo-lms/meet/j/{past.provider_meeting_id}"),
        Page("demo recording", "/demo-lms/meet/rec/play/<file_id>", "lms",
             urlsplit(recording.play_url or "").path),
    ]  # fmt: skip
    return pages


def get_rules(app: Any) -> set[str]:
    """Every route of ``app`` that answers GET."""
    return {rule.rule for rule in app.url_map.iter_rules() if "GET" in (rule.methods or ())}
