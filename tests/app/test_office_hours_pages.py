"""Office hours in the example app: the instructor publishes slots, learners book and cancel
from the item page, each refusal named on the page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from blendkit.progression import Item, Module
from blendkit.store._tables_courses import course_courses
from tests.app.conftest import INSTRUCTOR, Tool

ITEM = "office-hours"
LONDON = ZoneInfo("Europe/London")


def add_office_hours_item(tool: Tool, launch_id: str) -> None:
    """Append an open office-hours item to the launched course's path."""
    from blendkit_examples.flask_app.app import services

    tool.get("/course", launch_id)
    with tool.app.app_context():
        svc = services()
    with tool.store.transaction() as s:
        course_id = s.execute(select(course_courses.c.id)).scalars().first()
    course = svc.courses.course_by_id(course_id)
    clinic = Module(id="help", items=(Item(id=ITEM, title="Office hours", kind="office_hours"),))
    svc.courses.set_path(
        course, course.path.model_copy(update={"modules": (*course.path.modules, clinic)})
    )


def teacher_with_slots(tool: Tool, *, capacity: int = 1, count: int = 2) -> str:
    teacher = tool.launch("teach", roles=(INSTRUCTOR,), name="Dr T", zone="Europe/London")
    add_office_hours_item(tool, teacher)
    first = (datetime.now(UTC) + timedelta(days=3)).astimezone(LONDON)
    published = tool.post(
        "/teach/office-hours",
        teacher,
        {"item": ITEM, "date": first.date().isoformat(), "time": "10:00", "count": str(count),
         "duration": "20", "buffer": "10", "capacity": str(capacity), "host_name": "Dr T",
         "location": "Room 12", "time_zone": "Europe/London"},
    )  # fmt: skip
    assert published.status_code == 302, published.get_data(as_text=True)
    return teacher


def slot_ids(page: str) -> list[str]:
    return re.findall(r'data-slot="(\w+)"', page)


def test_publish_book_refuse_and_cancel_through_the_pages(tool: Tool) -> None:
    teacher = teacher_with_slots(tool, capacity=1, count=2)
    page = tool.get("/teach/office-hours", teacher).get_data(as_text=True)
    assert page.count("0 of 1") == 2
    ana = tool.launch("ana", zone="Asia/Tokyo")
    item_page = tool.get(f"/item/{ITEM}", ana).get_data(as_text=True)
    first, second = slot_ids(item_page)
    assert "Times are in your time zone, Asia/Tokyo" in item_page
    day = (datetime.now(UTC) + timedelta(days=3)).astimezone(LONDON).date()
    tokyo = datetime.combine(day, time(10, 0), LONDON).astimezone(ZoneInfo("Asia/Tokyo"))
    assert f"{tokyo:%H:%M} JST" in item_page  # the host's 10:00 in London, on Ana's clock
    booked = tool.post(f"/item/{ITEM}/slots/{first}/book", ana)
    assert booked.status_code == 302
    mine = tool.get(f"/item/{ITEM}", ana, booked=first).get_data(as_text=True)
    assert "You booked this slot" in mine
    assert "Booked:" in mine
    # The one booking a learner may hold by default: the second slot is refused with a reason.
    limit = tool.post(f"/item/{ITEM}/slots/{second}/book", ana)
    assert limit.status_code == 409
    assert "the most allowed" in limit.get_data(as_text=True)
    again = tool.post(f"/item/{ITEM}/slots/{first}/book", ana)
    assert again.status_code == 409
    assert "already booked this slot" in again.get_data(as_text=True)

    ben = tool.launch("ben", name="Ben", zone="America/New_York")
    ben_page = tool.get(f"/item/{ITEM}", ben).get_data(as_text=True)
    assert "<strong>Full</strong>" in ben_page
    full = tool.post(f"/item/{ITEM}/slots/{first}/book", ben)
    assert full.status_code == 409
    assert "this slot is full" in full.get_data(as_text=True)
    assert 'role="alert"' in full.get_data(as_text=True)

    cancelled = tool.post(f"/item/{ITEM}/slots/{first}/cancel", ana)
    assert cancelled.status_code == 302
    assert tool.post(f"/item/{ITEM}/slots/{first}/book", ben).status_code == 302
    staff = tool.get("/teach/office-hours", teacher).get_data(as_text=True)
    assert "Ben" in staff


def test_too_late_to_cancel_is_named(tool: Tool) -> None:
    teacher = teacher_with_slots(tool)
    rules = tool.post(
        "/teach/office-hours/rules",
        teacher,
        {"item": ITEM, "max_per_learner": "2", "cancel_cutoff": str(60 * 24 * 14)},
    )
    assert rules.status_code == 302
    ana = tool.launch("ana")
    first = slot_ids(tool.get(f"/item/{ITEM}", ana).get_data(as_text=True))[0]
    assert tool.post(f"/item/{ITEM}/slots/{first}/book", ana).status_code == 302
    page = tool.get(f"/item/{ITEM}", ana).get_data(as_text=True)
    assert "too late to cancel" in page
    late = tool.post(f"/item/{ITEM}/slots/{first}/cancel", ana)
    assert late.status_code == 409
    assert "it is too late now" in late.get_data(as_text=True)


def test_a_slot_of_another_item_or_course_is_not_found(tool: Tool) -> None:
    teacher_with_slots(tool)
    ana = tool.launch("ana")
    first = slot_ids(tool.get(f"/item/{ITEM}", ana).get_data(as_text=True))[0]
    assert tool.post(f"/item/live-session/slots/{first}/book", ana).status_code == 404
    other = tool.launch("ana", context="chem-202")
    tool.get("/course", other)
    assert tool.post(f"/item/{ITEM}/slots/{first}/book", other).status_code == 404


def test_instructor_cancels_a_slot_and_the_planner_suggests_windows(tool: Tool) -> None:
    teacher = teacher_with_slots(tool, capacity=3, count=1)
    for sub, zone in (("ana", "Europe/Berlin"), ("ben", "America/New_York")):
        tool.get("/course", tool.launch(sub, zone=zone))
    page = tool.get("/teach/office-hours", teacher, window="60").get_data(as_text=True)
    assert "Publish slots in this window" in page
    assert "America/New_York:" in page  # coverage per zone
    window = re.search(r'name="slot" value="(\d@\d\d:\d\d)"', page)
    assert window
    published = tool.post(
        "/teach/office-hours",
        teacher,
        {"item": ITEM, "slot": window.group(1), "window": "60", "duration": "15",
         "buffer": "5", "capacity": "2", "host_name": "Dr T", "location": "Room 3"},
    )  # fmt: skip
    assert published.status_code == 302
    assert "published=3" in published.headers["Location"]  # 60 minutes: 15 + 5 + 15 + 5 + 15
    ana = tool.launch("ana", zone="Europe/Berlin")
    slots = slot_ids(tool.get(f"/item/{ITEM}", ana).get_data(as_text=True))
    assert len(slots) == 4
    assert tool.post(f"/item/{ITEM}/slots/{slots[0]}/book", ana).status_code == 302
    assert tool.post(f"/teach/office-hours/{slots[0]}/cancel", teacher).status_code == 302
    after = tool.get(f"/item/{ITEM}", ana).get_data(as_text=True)
    assert slots[0] not in slot_ids(after)
    assert tool.post(f"/item/{ITEM}/slots/{slots[1]}/book", ana).status_code == 302
