"""Allocation in the store: runs the pure rules of :mod:`blendkit.review._allocation` on an
item's rows, one allocation at a time per item."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from blendkit.courses import Course
from blendkit.review._allocation import Allocation, Assigned, Placed, allocate, drop_reviewer
from blendkit.review._base import ReviewBase
from blendkit.review._settings import PeerReviewSettings
from blendkit.store._tables_review import (
    review_assignments,
    review_inactive,
    review_settings,
    review_submissions,
)

__all__ = ["ReviewAllocation"]


class ReviewAllocation(ReviewBase):
    """Who reviews whose work, kept in the store."""

    def allocate(self, course: Course, item: str) -> Allocation:
        """Run allocation now (rules in :mod:`blendkit.review._allocation`): nothing before the
        submission deadline; reviewers who missed the review deadline are dropped first."""
        settings = self.settings(course, item)
        with self.store.unit_of_work() as s:
            return self._allocate(s, course, item, settings, self.courses.clock())

    def _state(
        self, s: Connection, course: Course, item: str
    ) -> tuple[list[Placed], list[Assigned], set[str]]:
        subs = s.execute(
            select(review_submissions.c.id, review_submissions.c.sub, review_submissions.c.placed)
            .where(review_submissions.c.course_id == course.id, review_submissions.c.item == item)
            .order_by(review_submissions.c.id)
        ).all()
        rows = s.execute(
            select(review_assignments.c.submission_id, review_assignments.c.reviewer,
                   review_assignments.c.status)
            .where(review_assignments.c.course_id == course.id,
                   review_assignments.c.item == item)
        ).all()  # fmt: skip
        gone = s.execute(
            select(review_inactive.c.sub).where(
                review_inactive.c.course_id == course.id, review_inactive.c.item == item
            )
        ).scalars()
        return (
            [Placed(int(r.id), r.sub, bool(r.placed)) for r in subs],
            [Assigned(int(r.submission_id), r.reviewer, r.status) for r in rows],
            set(gone),
        )

    def _allocate(
        self, s: Connection, course: Course, item: str, settings: PeerReviewSettings, now: datetime
    ) -> Allocation:
        # One allocation at a time per item (PostgreSQL: the settings row is locked).
        s.execute(
            select(review_settings.c.item)
            .where(review_settings.c.course_id == course.id, review_settings.c.item == item)
            .with_for_update()
        )
        if settings.submit_by is not None and now < settings.submit_by:
            return Allocation()
        seed = f"{self.courses.course_key(course)}:{item}"
        if settings.review_by is not None and now > settings.review_by:
            late = s.execute(
                select(review_assignments.c.reviewer)
                .distinct()
                .where(
                    review_assignments.c.course_id == course.id,
                    review_assignments.c.item == item,
                    review_assignments.c.status == "assigned",
                )
            ).scalars()
            for who in sorted(late):
                self._drop(s, course, item, who, "missed the review deadline", settings, now)
        submissions, assigned, gone = self._state(s, course, item)
        change = allocate(submissions, assigned, settings.reviewers, inactive=gone, seed=seed)
        self._apply(s, course, item, change, now)
        return change

    def _apply(
        self, s: Connection, course: Course, item: str, change: Allocation, now: datetime
    ) -> None:
        for a in change.dropped:
            s.execute(
                update(review_assignments)
                .where(review_assignments.c.submission_id == a.submission,
                       review_assignments.c.reviewer == a.reviewer,
                       review_assignments.c.status == "assigned")
                .values(status="dropped")
            )  # fmt: skip
        for a in change.added:
            s.execute(insert(review_assignments).values(
                course_id=course.id, submission_id=a.submission, item=item,
                reviewer=a.reviewer, status="assigned", assigned_at=now,
            ))  # fmt: skip
        if change.placed:
            s.execute(
                update(review_submissions)
                .where(review_submissions.c.id.in_(change.placed))
                .values(placed=True)
            )

    def _drop(  # noqa: PLR0917
        self, s: Connection, course: Course, item: str, who: str, reason: str,
        settings: PeerReviewSettings, now: datetime,
    ) -> Allocation:  # fmt: skip
        s.execute(
            self.store.insert_ignoring_conflicts(review_inactive, "course_id", "item", "sub")
            .values(course_id=course.id, item=item, sub=who, reason=reason, at=now)
        )  # fmt: skip
        submissions, assigned, gone = self._state(s, course, item)
        seed = f"{self.courses.course_key(course)}:{item}"
        change = drop_reviewer(
            submissions, assigned, who, settings.reviewers, inactive=gone, seed=seed
        )
        self._apply(s, course, item, change, now)
        return change
