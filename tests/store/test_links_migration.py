"""links_0001: links stored before the page-link check are removed, so the course still loads
and no learner's page carries them; valid links stay as they were (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

from alembic import command
from alembic.config import Config
from sqlalchemy import select, update

from blendkit.courses import CourseService
from blendkit.courses._records import _parsed
from blendkit.store._migrate import _MIGRATIONS
from blendkit.store._tables_courses import course_courses, course_recordings
from tests.courses.test_course_service import Clock, clock, service  # noqa: F401
from tests.courses.test_recordings import world  # noqa: F401


def _alembic(courses: CourseService, *, down: str, up: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with courses.store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, down)
        command.upgrade(config, up)


def test_unsafe_stored_links_are_removed_and_safe_ones_kept(world, service: CourseService) -> None:  # noqa: F811
    course, _recordings, rid, _ = world
    document = json.loads(
        service.store.engine.connect()
        .execute(select(course_courses.c.path).where(course_courses.c.id == course.id))
        .scalar_one()
    )
    items = [i for m in document["modules"] for i in m.get("items", [])]
    items[0]["url"] = "javascript:alert(document.domain)"
    items[1]["url"] = "//evil.example/x"
    items[2]["url"] = "https://media.example.edu/kept.mp4"
    with service.store.transaction() as s:
        s.execute(
            update(course_courses)
            .where(course_courses.c.id == course.id)
            .values(path=json.dumps(document))
        )
        s.execute(
            update(course_recordings)
            .where(course_recordings.c.id == rid)
            .values(media_url="javascript:alert(1)")
        )
    _alembic(service, down="links@base", up="heads")
    with service.store.transaction() as s:
        path = s.execute(
            select(course_courses.c.path).where(course_courses.c.id == course.id)
        ).scalar_one()
        media = s.execute(
            select(course_recordings.c.media_url).where(course_recordings.c.id == rid)
        ).scalar_one()
    loaded = _parsed(path)  # the course loads again
    urls = [i.url for i in loaded.items()]
    assert urls[0] is None
    assert urls[1] is None
    assert urls[2] == "https://media.example.edu/kept.mp4"
    assert media is None
