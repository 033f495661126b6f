"""The records peer review reads: settings of each item, submissions and assignments."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, select

from blendkit.courses import Course, CourseService
from blendkit.errors import ConfigError, CourseInputInvalid, CoursesError, NotFound
from blendkit.review._files import SubmissionStorage
from blendkit.review._models import Assignment, Submission
from blendkit.review._settings import PeerReviewSettings
from blendkit.store._tables_review import (
    review_assignments,
    review_settings,
    review_submissions,
)

__all__ = ["ReviewBase", "check_link"]


def _invalid(message: str, code: str = "courses.review_invalid") -> CourseInputInvalid:
    return CourseInputInvalid(message, code=code)


def _denied(message: str, code: str) -> CoursesError:
    return CoursesError(message, code=code, http_status=403)


def check_link(url: str) -> str:
    """An http(s) link with a host, at most 2,000 characters (``courses.review_invalid``)."""
    url = url.strip()
    parts = urlsplit(url)
    if len(url) > 2000 or parts.scheme not in ("http", "https") or not parts.hostname:
        raise _invalid("the link must be a full http:// or https:// address with a host name")
    return url


class ReviewBase:
    """Settings, submissions and assignments of one store (the reading half)."""

    def __init__(self, courses: CourseService, storage: SubmissionStorage | None = None) -> None:
        self.courses = courses
        self._storage = storage
        self.store = courses.store

    @property
    def storage(self) -> SubmissionStorage:
        """Where files go (a service built without one handles no file)."""
        if self._storage is None:
            raise ConfigError(
                "this peer review service has no file storage: build it with a "
                "SubmissionStorage (LocalDirectoryStorage on one host)"
            )
        return self._storage

    # --- settings --------------------------------------------------------------------------

    def configure(
        self, course: Course, item: str, settings: PeerReviewSettings
    ) -> PeerReviewSettings:
        """Set the peer review of ``item`` (a ``peer_review`` item of the course path)."""
        found = self._item(course, item)
        if found.kind != "peer_review":
            raise _invalid(f"{item!r} is a {found.kind}, not a peer_review item")
        if settings.submit_item is not None:
            self._item(course, settings.submit_item)
        values = {
            "course_id": course.id, "item": item,
            "settings": settings.model_dump_json(), "updated_at": self.courses.clock(),
        }  # fmt: skip
        with self.store.transaction() as s:
            s.execute(
                self.store.insert_or_replace(
                    review_settings, ("course_id", "item"), values, ["settings", "updated_at"]
                )
            )
        return settings

    def settings(self, course: Course, item: str) -> PeerReviewSettings:
        """The settings of ``item`` (``store.not_found`` until the instructor set them)."""
        with self.store.transaction() as s:
            body = s.execute(
                select(review_settings.c.settings).where(
                    review_settings.c.course_id == course.id, review_settings.c.item == item
                )
            ).scalar_one_or_none()
        if body is None:
            raise NotFound(
                f"the peer review of {item!r} is not set up yet: the instructor sets its "
                "rubric and reviewers first"
            )
        return PeerReviewSettings.model_validate_json(body)

    def configured(self, course: Course) -> dict[str, PeerReviewSettings]:
        """Every peer-review item of the course with its settings."""
        with self.store.transaction() as s:
            rows = s.execute(
                select(review_settings.c.item, review_settings.c.settings).where(
                    review_settings.c.course_id == course.id
                )
            ).all()
        return {r.item: PeerReviewSettings.model_validate_json(r.settings) for r in rows}

    def review_item_for(self, course: Course, item: str) -> str | None:
        """The peer-review item whose submissions are made on ``item``, if any."""
        for name, settings in self.configured(course).items():
            if (settings.submit_item or name) == item:
                return name
        return None

    @staticmethod
    def _item(course: Course, item: str) -> Any:
        try:
            return course.path.item(item)
        except KeyError:
            raise NotFound(f"the course path has no item {item!r}") from None

    # --- submissions and assignments --------------------------------------------------------

    @staticmethod
    def _own(s: Connection, course: Course, item: str, sub: str) -> Any:
        return s.execute(
            select(review_submissions).where(
                review_submissions.c.course_id == course.id,
                review_submissions.c.item == item,
                review_submissions.c.sub == sub,
            )
        ).first()

    @staticmethod
    def _reviewed(s: Connection, submission_id: int) -> bool:
        return (
            s.execute(
                select(review_assignments.c.id).where(
                    review_assignments.c.submission_id == submission_id,
                    review_assignments.c.status == "done",
                )
            ).first()
            is not None
        )

    def submission(self, course: Course, sub: str, item: str) -> Submission | None:
        """The learner's own submission on ``item``, if any."""
        with self.store.transaction() as s:
            row = self._own(s, course, item, sub)
        return Submission.of(row) if row is not None else None

    def submissions(self, course: Course, item: str) -> list[Submission]:
        """Every submission on ``item``, in arrival order (for instructors)."""
        with self.store.transaction() as s:
            rows = s.execute(
                select(review_submissions)
                .where(review_submissions.c.course_id == course.id)
                .where(review_submissions.c.item == item)
                .order_by(review_submissions.c.id)
            ).all()
        return [Submission.of(r) for r in rows]

    def submission_by_id(self, course: Course, submission_id: int) -> Submission:
        """One submission of this course (``store.not_found`` for another course's)."""
        with self.store.transaction() as s:
            row = s.execute(
                select(review_submissions).where(
                    review_submissions.c.id == submission_id,
                    review_submissions.c.course_id == course.id,
                )
            ).first()
        if row is None:
            raise NotFound("no such submission in this course")
        return Submission.of(row)

    def assignments(
        self, course: Course, item: str, *, reviewer: str | None = None
    ) -> list[Assignment]:
        """Assignments on ``item`` (of one reviewer), oldest first."""
        query = select(review_assignments).where(
            review_assignments.c.course_id == course.id, review_assignments.c.item == item
        )
        if reviewer is not None:
            query = query.where(review_assignments.c.reviewer == reviewer)
        with self.store.transaction() as s:
            rows = s.execute(query.order_by(review_assignments.c.id)).all()
        return [Assignment.of(r) for r in rows]
