"""The instructor side of peer review: flag, reassign and override reviews, drop a reviewer,
grade the work, and send the weighted grade to the platform through the AGS queue."""

from __future__ import annotations

from sqlalchemy import Connection, insert, select, update

from blendkit.courses import Course
from blendkit.errors import NotFound
from blendkit.review._allocation import Allocation, Assigned
from blendkit.review._base import _invalid
from blendkit.review._models import Assignment, GradeBreakdown
from blendkit.review._service import ReviewRecords
from blendkit.store._tables_courses import course_grades
from blendkit.store._tables_review import (
    review_assignments,
    review_settings,
    review_submissions,
)

__all__ = ["PeerReviewService"]


def _note(note: str) -> str:
    if not note.strip():
        raise _invalid("say why (the note is shown to other instructors)")
    return note.strip()[:2000]


class PeerReviewService(ReviewRecords):
    """Peer review of one store: the learner side (:class:`ReviewRecords`) and moderation."""

    def _assignment(self, s: Connection, course: Course, assignment_id: int) -> Assignment:
        row = s.execute(
            select(review_assignments).where(
                review_assignments.c.id == assignment_id,
                review_assignments.c.course_id == course.id,
            )
        ).first()
        if row is None:
            raise NotFound("no such review assignment in this course")
        return Assignment.of(row)

    def flag(
        self, course: Course, assignment_id: int, *, by: str, note: str, flagged: bool = True
    ) -> Assignment:
        """Flag a review (it stops counting in the author's feedback and peer grade) or clear
        the flag."""
        with self.store.unit_of_work() as s:
            found = self._assignment(s, course, assignment_id)
            s.execute(
                update(review_assignments)
                .where(review_assignments.c.id == found.id)
                .values(flagged=flagged, flag_note=f"{by}: {_note(note)}" if flagged else None)
            )
            self._resend(s, course, found)
            return self._assignment(s, course, assignment_id)

    def override(
        self, course: Course, assignment_id: int, *, points: float, by: str, note: str
    ) -> Assignment:
        """Replace the points of a given review (between 0 and the rubric's maximum)."""
        with self.store.unit_of_work() as s:
            found = self._assignment(s, course, assignment_id)
            if found.status != "done":
                raise _invalid("only a given review can be overridden")
            top = self.settings(course, found.item).rubric.max_points
            if not 0 <= points <= top:
                raise _invalid(f"points must be between 0 and {top:g}")
            s.execute(
                update(review_assignments)
                .where(review_assignments.c.id == found.id)
                .values(override_points=points, override_note=f"{by}: {_note(note)}")
            )
            self._resend(s, course, found)
            return self._assignment(s, course, assignment_id)

    def reassign(
        self, course: Course, assignment_id: int, *, by: str, to: str | None = None
    ) -> Allocation:
        """Take a review away from its reviewer (a given one stops counting) and give the
        submission another reviewer: ``to`` or the least-loaded one the rules allow."""
        with self.store.unit_of_work() as s:
            found = self._assignment(s, course, assignment_id)
            settings = self.settings(course, found.item)
            if found.status == "dropped":
                raise _invalid("this review was already taken away")
            s.execute(
                update(review_assignments)
                .where(review_assignments.c.id == found.id)
                .values(status="dropped", flag_note=f"{by}: reassigned")
            )
            now = self.courses.clock()
            change = Allocation()
            if to is not None:
                submissions, assigned, gone = self._state(s, course, found.item)
                author = next(p.author for p in submissions if p.id == found.submission_id)
                taken = {a.reviewer for a in assigned if a.submission == found.submission_id}
                pool = {p.author for p in submissions} - gone
                if to == author or to in taken or to not in pool:
                    raise _invalid(
                        "pick a learner who submitted work, is still active, is not the author "
                        "and was not already assigned this submission"
                    )
                change.added.append(Assigned(found.submission_id, to))
                self._apply(s, course, found.item, change, now)
            else:
                change = self._allocate(s, course, found.item, settings, now)
            self._resend(s, course, found)
            return change

    def allocate_all(self) -> list[tuple[Course, str, Allocation]]:
        """Run allocation on every peer review of every course (``blendkit review allocate``,
        e.g. from cron): work that arrived is placed and reviewers past the review deadline
        are replaced even when nobody opens a page."""
        with self.store.transaction() as s:
            rows = s.execute(
                select(review_settings.c.course_id, review_settings.c.item).order_by(
                    review_settings.c.course_id, review_settings.c.item
                )
            ).all()
        done = []
        for course_id, item in rows:
            course = self.courses.course_by_id(course_id)
            done.append((course, item, self.allocate(course, item)))
        return done

    def drop_reviewer(self, course: Course, item: str, sub: str, *, reason: str) -> Allocation:
        """Take a learner out of the reviewer pool (inactive): their unfinished reviews go to
        others."""
        settings = self.settings(course, item)
        with self.store.unit_of_work() as s:
            return self._drop(s, course, item, sub, _note(reason), settings, self.courses.clock())

    # --- grades ----------------------------------------------------------------------------

    def breakdown(self, course: Course, item: str, sub: str) -> GradeBreakdown:
        """The learner's grade: the mean of the reviews that count (given, not flagged,
        overrides applied) as a percentage of the rubric, the instructor's grade, the weights."""
        settings = self.settings(course, item)
        own = self.submission(course, sub, item)
        peer = None
        if own is not None:
            counted = [
                a.counted_points
                for a in self.assignments(course, item)
                if a.submission_id == own.id and a.status == "done" and not a.flagged
            ]
            top = settings.rubric.max_points
            points = [p for p in counted if p is not None]
            if points and top > 0:
                peer = round(100 * sum(points) / len(points) / top, 2)
        return GradeBreakdown(
            peer_percent=peer,
            instructor_percent=own.instructor_points if own is not None else None,
            peer_weight=settings.peer_weight,
            instructor_weight=settings.instructor_weight,
        )

    def grade(
        self, course: Course, item: str, sub: str, *, percent: float, by: str, note: str = ""
    ) -> GradeBreakdown:
        """Set the instructor's grade (0–100) of a learner's work; the weighted grade is queued
        for the platform's gradebook once every weighted part is known."""
        if not 0 <= percent <= 100:
            raise _invalid("the instructor grade is a percentage between 0 and 100")
        own = self.submission(course, sub, item)
        if own is None:
            raise NotFound(f"{sub!r} has not submitted work on {item!r}")
        with self.store.unit_of_work() as s:
            s.execute(
                update(review_submissions)
                .where(review_submissions.c.id == own.id)
                .values(instructor_points=percent, instructor_by=by,
                        instructor_note=note.strip()[:2000] or None)
            )  # fmt: skip
            self._queue(s, course, item, sub)
        return self.breakdown(course, item, sub)

    def _resend(self, s: Connection, course: Course, changed: Assignment) -> None:
        row = s.execute(
            select(review_submissions.c.sub).where(review_submissions.c.id == changed.submission_id)
        ).scalar_one()
        self._queue(s, course, changed.item, row)

    def _queue(self, s: Connection, course: Course, item: str, sub: str) -> int | None:
        """Queue the weighted grade for AGS (the course's grade queue; delivered by
        ``blendkit grades deliver``) when the course has AGS and the grade is complete."""
        if not course.ags or not (course.ags.get("lineitems") or course.ags.get("lineitem")):
            return None
        final = self.breakdown(course, item, sub).final_percent
        if final is None:
            return None
        now = self.courses.clock()
        result = s.execute(
            insert(course_grades).values(
                course_id=course.id, sub=sub, item=item,
                label=course.path.item(item).title or item, score_given=final,
                score_maximum=100.0, scored_at=now, status="pending", attempts=0,
                next_attempt_at=now,
            )
        )  # fmt: skip
        key = result.inserted_primary_key
        return int(key[0]) if key else None
