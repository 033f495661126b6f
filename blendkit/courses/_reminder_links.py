"""Where reminder messages point: the tool's pages for a course and its items."""

from __future__ import annotations

from urllib.parse import quote

from blendkit.courses._models import Course

__all__ = ["ReminderLinks"]


class ReminderLinks:
    """The web addresses messages point at; override the methods for other routes."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def course_url(self, course: Course) -> str:
        return f"{self.base_url}/courses/{course.id}"

    def item_url(self, course: Course, item: str) -> str:
        """The item's own ``url`` when the path gives an absolute one, else the tool's page."""
        own = course.path.item(item).url
        if own and own.startswith(("https://", "http://")):
            return own
        return f"{self.course_url(course)}/items/{quote(item, safe='')}"
