"""Weekly series in the example app: scheduled from the planner, one sitting moved or cancelled."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from blendkit.sessions import Learner
from tests.app.conftest import Tool
from tests.app.test_staff_pages import _ready_before, _teacher

LONDON = ZoneInfo("Europe/London")


def _sittings(page: str) -> list[str]:
    """Session ids of the sittings the series table lists, in order."""
    return re.findall(r'action="/teach/sessions/(\w+)/cancel"', page)


def test_the_planner_schedules_a_weekly_series_that_keeps_local_time(tool: Tool) -> None:
    for sub, zone in (("a", "Europe/Berlin"), ("b", "America/New_York")):
        tool.get("/course", tool.launch(sub, zone=zone))
    teacher = _teacher(tool)  # in Europe/London
    page = tool.get(
        "/teach/sessions", teacher, plan="1", term_start="2031-02-03", term_end="2031-05-01"
    ).get_data(as_text=True)
    assert "Schedule a weekly series" in page
    slot = re.search(r'name="slot" value="(\d@\d\d:\d\d)"', page)
    assert slot
    created = tool.post(
        "/teach/sessions",
        teacher,
        {"slot": slot.group(1), "duration": "60", "title": "Seminar", "count": "10",
         "time_zone": "Europe/London", "item": "live-session", "term_start": "2031-02-03"},
    )  # fmt: skip
    assert created.status_code == 302, created.get_data(as_text=True)
    first = created.headers["Location"].split("/teach/sessions/", 1)[1].split("?", 1)[0]
    page = tool.get(f"/teach/sessions/{first}", teacher).get_data(as_text=True)
    assert "Weekly series: 10 sittings" in page
    assert len(_sittings(page)) == 10
    times = re.findall(r'name="time" type="time" required value="(\d\d:\d\d)"', page)
    assert len(set(times)) == 1, "every sitting at the same London wall-clock time, across DST"
    starts = re.findall(r"<td>\w{3} \d\d \w{3} 2031, \d\d:\d\d (GMT|BST)", page)
    assert (starts[0], starts[-1]) == ("GMT", "BST"), "the term crosses into summer time"
    # The accessible names carry each sitting's date.
    assert re.search(r"Move the sitting of \w{3} \d\d \w{3} 2031", page)
    assert re.search(r"Cancel this one<span class=\"sr-only\">: the sitting of \w{3} \d\d", page)


def test_moving_and_cancelling_sittings_through_the_forms(tool: Tool) -> None:
    ana = tool.launch()
    tool.get("/course", ana)
    _ready_before(tool, "ana", datetime.now(UTC) - timedelta(days=1))  # the item is open to her
    teacher = _teacher(tool)
    start = (datetime.now(UTC) + timedelta(days=1)).replace(second=0, microsecond=0)
    local = start.astimezone(LONDON)
    until = (local.date() + timedelta(weeks=3)).isoformat()
    created = tool.post(
        "/teach/sessions",
        teacher,
        {"title": "Studio", "date": local.date().isoformat(), "time": local.strftime("%H:%M"),
         "time_zone": "Europe/London", "duration": "60", "item": "live-session", "until": until},
    )  # fmt: skip
    assert created.status_code == 302, created.get_data(as_text=True)
    first = created.headers["Location"].split("/teach/sessions/", 1)[1].split("?", 1)[0]
    page = tool.get(f"/teach/sessions/{first}", teacher).get_data(as_text=True)
    ids = _sittings(page)
    assert len(ids) == 4
    meeting = re.search(r"meeting <code>(\w+)</code>", page).group(1)  # type: ignore[union-attr]

    # Learners see the next sitting only, with a join button naming its date.
    item = tool.get("/item/live-session", ana).get_data(as_text=True)
    assert item.count("with your personal link") == 1
    assert "Next sitting of the weekly series" in item

    new_day = local.date() + timedelta(days=1)
    moved = tool.post(
        f"/teach/sessions/{ids[0]}/move",
        teacher,
        {"date": new_day.isoformat(), "time": "18:30", "duration": "45"},
    )
    assert moved.status_code == 302
    page = tool.get(f"/teach/sessions/{ids[0]}", teacher).get_data(as_text=True)
    assert "(moved)" in page
    expected = datetime(new_day.year, new_day.month, new_day.day, 18, 30, tzinfo=LONDON)
    link = tool.provider.join_link(meeting, Learner(id="ana"))
    tool.provider.join(meeting, at=expected, link=link, occurrence_id=f"{meeting}.0")
    (record,) = tool.provider.fetch_attendance(meeting, f"{meeting}.0")
    assert record.join_time == expected.astimezone(UTC)
    item = tool.get("/item/live-session", ana).get_data(as_text=True)
    assert "moved from" in item

    bad = tool.post(f"/teach/sessions/{ids[1]}/move", teacher, {"date": "soon", "time": "18:30"})
    assert bad.status_code == 400
    assert "new date" in bad.get_data(as_text=True)

    assert tool.post(f"/teach/sessions/{ids[1]}/cancel", teacher).status_code == 302
    assert tool.post(f"/teach/sessions/{ids[1]}/cancel", teacher).status_code == 302  # again
    page = tool.get(f"/teach/sessions/{ids[1]}", teacher).get_data(as_text=True)
    assert "This sitting is cancelled." in page
    assert tool.post(f"/item/live-session/join/{ids[1]}", ana).status_code == 409

    series_id = re.search(r'action="/teach/series/(\w+)/cancel"', page).group(1)  # type: ignore[union-attr]
    assert tool.post(f"/teach/series/{series_id}/cancel", teacher).status_code == 302
    page = tool.get(f"/teach/sessions/{ids[2]}", teacher).get_data(as_text=True)
    assert "The whole series is cancelled." in page
    assert _sittings(page) == []
    item = tool.get("/item/live-session", ana).get_data(as_text=True)
    assert "with your personal link" not in item


def test_series_forms_refuse_learners_and_forged_posts(tool: Tool) -> None:
    ana = tool.launch()
    teacher = _teacher(tool)
    created = tool.post(
        "/teach/sessions",
        teacher,
        {"title": "S", "date": "2031-01-06", "time": "16:00", "time_zone": "UTC",
         "duration": "60", "count": "3"},
    )  # fmt: skip
    first = created.headers["Location"].split("/teach/sessions/", 1)[1].split("?", 1)[0]
    assert tool.post(f"/teach/sessions/{first}/cancel", ana).status_code == 403
    forged = tool.client.post(f"/teach/sessions/{first}/cancel", data={"launch": teacher})
    assert forged.status_code in (400, 403)
    page = tool.get(f"/teach/sessions/{first}", teacher).get_data(as_text=True)
    assert len(_sittings(page)) == 3, "nothing was cancelled"
    both = tool.post(
        "/teach/sessions",
        teacher,
        {"title": "S", "date": "2031-01-06", "time": "16:00", "time_zone": "UTC",
         "duration": "60", "count": "3", "until": date(2031, 2, 1).isoformat()},
    )  # fmt: skip
    assert both.status_code == 400
