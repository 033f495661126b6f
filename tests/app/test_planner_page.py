"""The instructor's slot planner: local weekdays, chosen hours and who can attend, per zone."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from blendkit.lti import Tenant
from blendkit.sessions import WEEKDAY_NAMES, Availability, plan_slots
from tests.app.conftest import INSTRUCTOR, Tool

COHORT = {"aiko": "Asia/Tokyo", "ben": "America/New_York", "clara": "Europe/Berlin"}
TERM = {"term_start": "2026-03-02", "term_end": "2026-05-29"}


def _cohort(tool: Tool) -> str:
    for sub, zone in COHORT.items():
        assert tool.get("/course", tool.launch(sub, name=sub.title(), zone=zone)).status_code == 200
    return tool.launch("teach", roles=(INSTRUCTOR,), name="Dr T", zone="Europe/London")


def _rows(page: str) -> list[tuple[str, str]]:
    """(slot label, coverage cell text) of the planner table."""
    table = page.split('aria-labelledby="teach-sessions-t2"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<th scope="row">([^<]+)</th><td>[^<]*</td>\s*<td>(.*?)</td>', table, re.S)
    return [(label, html.unescape(re.sub(r"<[^>]+>", " ", cell))) for label, cell in rows]


def _local_weekdays(label: str) -> set[int]:
    """The local weekdays of the attending zones named in a slot label, over the term."""
    name, hhmm, _ = label.split()
    weekday = WEEKDAY_NAMES.index(name)
    day = date(2026, 3, 2) + timedelta(days=weekday)
    found = set()
    while day <= date(2026, 5, 29):
        start = datetime.combine(day, time.fromisoformat(hhmm), UTC)
        found |= {start.astimezone(ZoneInfo(z)).weekday() for z in COHORT.values()}
        day += timedelta(weeks=1)
    return found


def test_planner_table_shows_coverage_per_zone_matching_the_plan(tool: Tool) -> None:
    teacher = _cohort(tool)
    page = tool.get("/teach/sessions", teacher, plan="1", duration="60", **TERM)
    page_text = page.get_data(as_text=True)
    assert page.status_code == 200, page_text
    assert 'role="region" aria-labelledby="teach-sessions-t2" tabindex="0"' in page_text
    assert 'id="teach-sessions-t2"' in page_text
    assert "Can attend every week, per time zone" in page_text
    expected = plan_slots(
        COHORT,
        term_start=date(2026, 3, 2),
        term_end=date(2026, 5, 29),
        duration_minutes=60,
    )
    rows = _rows(page_text)
    assert [label for label, _ in rows] == [slot.label for slot in expected.slots]
    for (_, cell), slot in zip(rows, expected.slots, strict=True):
        for cover in slot.coverage:
            assert f"{cover.time_zone}: {len(cover.attending)} of {cover.learners}" in cell
            for sub in cover.attending:
                assert sub.title() in cell  # shown by display name
    # Every learner counted as attending meets on a weekday of their own.
    for slot in expected.slots:
        for cover in slot.coverage:
            zone = ZoneInfo(cover.time_zone)
            day = date(2026, 3, 2) + timedelta(days=slot.weekday)
            local = datetime.combine(day, slot.utc_start, UTC).astimezone(zone)
            assert not cover.attending or local.weekday() < 5


def test_planner_weekdays_and_hours_come_from_the_form(tool: Tool) -> None:
    teacher = _cohort(tool)
    weekend = tool.get(
        "/teach/sessions", teacher, plan="1", duration="60", day="5", hours="09:00-17:00", **TERM
    ).get_data(as_text=True)
    rows = _rows(weekend)
    assert rows
    for label, cell in rows:
        assert "1 of 1" in cell
        assert 5 in _local_weekdays(label)  # a Saturday somewhere is the only way in
    assert 'value="09:00-17:00" selected' in weekend
    assert re.search(r'value="5" checked', weekend)
    assert not re.search(r'value="0" checked', weekend)


def test_planner_refuses_unknown_hours_and_weekdays(tool: Tool) -> None:
    teacher = _cohort(tool)
    for params in ({"hours": "00:00-23:00"}, {"day": "9"}, {"day": "monday"}):
        bad = tool.get("/teach/sessions", teacher, plan="1", **params)
        assert bad.status_code == 400, params


def test_learners_own_hours_are_kept_and_used_by_the_planner(tool: Tool) -> None:
    teacher = _cohort(tool)
    night = tool.launch("nina", name="Nina", zone="Europe/Berlin")
    page = tool.get("/course", night).get_data(as_text=True)
    assert '<label for="session_hours">' in page
    no_token = tool.client.post("/session-hours", data={"launch": night, "hours": "18:00-21:00"})
    assert no_token.status_code == 403
    assert 'value="" selected' in tool.get("/course", night).get_data(as_text=True)
    assert tool.post("/session-hours", night, {"hours": "18:00-21:00"}).status_code == 302
    assert 'value="18:00-21:00" selected' in tool.get("/course", night).get_data(as_text=True)
    assert tool.post("/session-hours", night, {"hours": "03:00-04:00"}).status_code == 400
    cohort = {**COHORT, "nina": "Europe/Berlin"}
    term = {"term_start": date(2026, 3, 2), "term_end": date(2026, 5, 29)}
    page = tool.get("/teach/sessions", teacher, plan="1", duration="60", **TERM)
    rows = _rows(page.get_data(as_text=True))
    own = Availability.parse("18:00-21:00")
    expected = plan_slots(cohort, availability={"nina": own}, duration_minutes=60, **term)
    assert [label for label, _ in rows] == [slot.label for slot in expected.slots]
    ignoring = plan_slots(cohort, duration_minutes=60, **term)
    assert expected.slots != ignoring.slots  # her evening-only hours change the ranking
    # Back to the course's hours.
    assert tool.post("/session-hours", night, {"hours": ""}).status_code == 302
    assert 'value="" selected' in tool.get("/course", night).get_data(as_text=True)


def test_the_demo_cohort_has_an_evening_learner(tmp_path: Path) -> None:
    from blendkit_examples.flask_app.app import services
    from blendkit_examples.flask_app.demo import build_demo
    from blendkit_examples.flask_app.demo_lms import CLIENT_ID, CONTEXT_ID, DEPLOYMENT_ID

    app, _ = build_demo(tmp_path, host="127.0.0.1", port=5000)
    issuer = app.extensions["blendkit_demo_lms"].issuer
    with app.app_context():
        svc = services()
        course = svc.courses.course(
            Tenant(issuer=issuer, client_id=CLIENT_ID, deployment_id=DEPLOYMENT_ID), CONTEXT_ID
        )
        assert svc.hours.for_course(course) == {"demo-sam": "18:00-21:00"}
