"""PeerReviewService: the learner side of peer review, on top of :class:`CourseService`.

submit work → (at the submission deadline, then as late work arrives) reviewers are allocated →
each review given is evidence (``PeerReviewGiven`` on the peer-review item, so the path's
``peer_reviews`` condition counts it) → the author's feedback opens once they gave the number
of reviews the settings ask for. Work on a locked item is refused by the course's own check
(``courses.item_locked``), in the same transaction as the rows written, so nothing stays.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from blendkit.courses import Course, RecordOutcome
from blendkit.courses._timeline import serialise_learner
from blendkit.errors import ItemLocked, NotFound
from blendkit.progression import CompletionRecorded, PeerReviewGiven
from blendkit.review._allocating import ReviewAllocation
from blendkit.review._base import _denied, _invalid, check_link
from blendkit.review._files import check_file, display_name
from blendkit.review._models import Assignment, Feedback, ReceivedReview, Submission
from blendkit.review._settings import ReviewScores
from blendkit.review._statements import feedback_received, review_given, work_submitted
from blendkit.store._tables_review import (
    review_assignments,
    review_submissions,
)
from blendkit.xapi import Statement, lti_actor

__all__ = ["ReviewRecords"]

MAX_TEXT = 50_000


class ReviewRecords(ReviewAllocation):
    """Peer review of one store: submissions, reviews and feedback (on top of allocation)."""

    # --- submissions -----------------------------------------------------------------------

    def submit(
        self,
        course: Course,
        sub: str,
        item: str,
        *,
        text: str | None = None,
        link: str | None = None,
        file_name: str = "",
        file_data: bytes | None = None,
    ) -> Submission:
        """Store a learner's work (exactly one of text, link or file) and allocate reviewers.

        A learner may replace their work until someone has reviewed it. Submissions after
        ``submit_by`` are accepted and marked late. Refused on a locked item.
        """
        settings = self.settings(course, item)
        given = [k for k, v in (("text", text), ("link", link), ("file", file_data)) if v]
        if len(given) != 1:
            raise _invalid("send exactly one of: a text, a link or a file")
        kind = given[0]
        if kind not in settings.kinds:
            raise _invalid(f"this peer review accepts {', '.join(settings.kinds)}, not a {kind}")
        values: dict[str, Any] = dict.fromkeys(
            ("body", "file_key", "file_name", "file_type", "file_size")
        )
        values["kind"] = kind
        if kind == "text":
            assert text is not None
            if len(text) > MAX_TEXT:
                raise _invalid(f"the text is longer than {MAX_TEXT:,} characters")
            values["body"] = text
        elif kind == "link":
            values["body"] = check_link(link or "")
        else:
            assert file_data is not None
            file_type = check_file(file_data, settings.file_types, settings.max_file_bytes)
            values.update(file_name=display_name(file_name, file_type), file_type=file_type,
                          file_size=len(file_data))  # fmt: skip
        now = self.courses.clock()
        late = settings.submit_by is not None and now > settings.submit_by
        person = self.courses.enrolment(course, sub)
        if kind == "file":  # written before the transaction; removed again if it fails
            assert file_data is not None
            values["file_key"] = self.storage.save(file_data)
        try:
            with self.store.unit_of_work() as s:
                # One learner's submissions run one after the other (insert or replace).
                serialise_learner(s, course.id, sub)
                self._check_open(course, sub, settings.submit_item or item, now)
                earlier = self._own(s, course, item, sub)
                old_key = earlier.file_key if earlier is not None else None
                if earlier is not None:
                    if self._reviewed(s, earlier.id):
                        raise _invalid(
                            "your work has already been reviewed, so it can no longer be "
                            "replaced", "courses.review_submission_closed",
                        )  # fmt: skip
                    s.execute(update(review_submissions)
                              .where(review_submissions.c.id == earlier.id)
                              .values(**values, submitted_at=now, late=late))  # fmt: skip
                    submission_id = int(earlier.id)
                else:
                    result = s.execute(insert(review_submissions).values(
                        course_id=course.id, item=item, sub=sub, submitted_at=now, late=late,
                        placed=False, **values,
                    ))  # fmt: skip
                    key = result.inserted_primary_key
                    assert key is not None
                    submission_id = int(key[0])
                title = course.path.item(item).title or item
                actor = lti_actor(course.issuer, sub, name=person.name or None)
                statement = work_submitted(
                    self.courses.statements, actor, self.courses.course_key(course), item,
                    submission_id, title, now,
                )  # fmt: skip
                self.courses.outbox.emit([statement], session=s)
                if settings.submit_item is not None:
                    piece = CompletionRecorded(item=settings.submit_item, state="complete", at=now)
                    self.courses.record(course, sub, piece, session=s)
                self._allocate(s, course, item, settings, now)
        except BaseException:
            if values["file_key"]:
                self.storage.delete(values["file_key"])
            raise
        if old_key and old_key != values["file_key"]:
            self.storage.delete(old_key)
        found = self.submission(course, sub, item)
        assert found is not None
        return found

    def _check_open(self, course: Course, sub: str, item: str, now: datetime) -> None:
        if self.courses.learner_path(course, sub, now).state(item) == "locked":
            raise ItemLocked(
                f"{course.path.item(item).title or item!r} is locked for you; open it from the "
                "course path once its conditions are met",
                code="courses.item_locked",
            )

    def file(
        self, course: Course, viewer: str, submission_id: int, *, staff: bool = False
    ) -> tuple[Submission, bytes]:
        """The file of a submission, for its author, a reviewer assigned to it or staff of its
        course; ``store.not_found`` for anyone else (nothing tells them it exists)."""
        found = self.submission_by_id(course, submission_id)
        if not staff and found.sub != viewer:
            assigned = [a for a in self.assignments(course, found.item, reviewer=viewer)
                        if a.submission_id == found.id and a.status != "dropped"]  # fmt: skip
            if not assigned:
                raise NotFound("no such submission in this course")
        if found.kind != "file":
            raise NotFound("this submission has no file")
        with self.store.transaction() as s:
            key = s.execute(
                select(review_submissions.c.file_key).where(review_submissions.c.id == found.id)
            ).scalar_one()
        return found, self.storage.load(key)

    # --- reviews ---------------------------------------------------------------------------

    def task(
        self, course: Course, reviewer: str, assignment_id: int
    ) -> tuple[Assignment, Submission]:
        """An assignment of ``reviewer`` with the submission to review; ``store.not_found`` for
        an assignment of someone else or of another course."""
        with self.store.transaction() as s:
            row = s.execute(
                select(review_assignments).where(
                    review_assignments.c.id == assignment_id,
                    review_assignments.c.course_id == course.id,
                    review_assignments.c.reviewer == reviewer,
                )
            ).first()
        if row is None or row.status == "dropped":
            raise NotFound("this review is not assigned to you")
        return Assignment.of(row), self.submission_by_id(course, int(row.submission_id))

    def give_review(
        self, course: Course, reviewer: str, assignment_id: int, scores: ReviewScores
    ) -> RecordOutcome:
        """Record a review the reviewer was assigned, as ``PeerReviewGiven`` evidence (refused
        on a locked item, on someone else's assignment, or when incomplete)."""
        assignment, submission = self.task(course, reviewer, assignment_id)
        if submission.sub == reviewer:
            raise _denied("you cannot review your own work", "courses.review_own_work")
        if assignment.status == "done":
            raise _invalid("you already gave this review", "courses.review_already_given")
        settings = self.settings(course, assignment.item)
        problems = scores.check(settings.rubric)
        if problems:
            raise _invalid("the review is incomplete: " + "; ".join(problems))
        points = settings.rubric.score(scores.levels)
        now = self.courses.clock()
        key = self.courses.course_key(course)

        def describe(actor: Any, course_key: str) -> list[Statement]:
            return [review_given(self.courses.statements, actor, course_key, assignment.item,
                                 assignment.id, submission.id, points,
                                 settings.rubric.max_points, now)]  # fmt: skip

        with self.store.unit_of_work() as s:
            done = s.execute(
                update(review_assignments)
                .where(review_assignments.c.id == assignment.id,
                       review_assignments.c.status == "assigned")
                .values(status="done", review=scores.model_dump_json(), points=points,
                        reviewed_at=now)
            )  # fmt: skip
            if done.rowcount != 1:
                raise _invalid("you already gave this review", "courses.review_already_given")
            outcome = self.courses.record(
                course, reviewer, PeerReviewGiven(item=assignment.item, at=now),
                details={"assignment": assignment.id, "course": key},
                statements=describe, session=s,
            )  # fmt: skip
        return outcome

    def given(self, course: Course, sub: str, item: str) -> int:
        """How many reviews on ``item`` count for the learner (the path's own count)."""
        return self.courses.evidence(course, sub).peer_reviews.get(item, 0)

    def feedback(self, course: Course, sub: str, item: str) -> Feedback:
        """The reviews of the learner's work, once they gave the reviews the settings ask for
        (``courses.review_feedback_locked`` before). Reviews are numbered, never named; the
        first time each is shown a *received feedback* statement is queued."""
        settings = self.settings(course, item)
        given = self.given(course, sub, item)
        if given < settings.reviewers:
            raise _denied(
                f"give {settings.reviewers} peer reviews to see your feedback — you gave {given}",
                "courses.review_feedback_locked",
            )
        own = self.submission(course, sub, item)
        if own is None:
            raise NotFound("you have not submitted work on this peer review")
        mine = [a for a in self.assignments(course, item) if a.submission_id == own.id]
        done = [a for a in mine if a.status == "done" and not a.flagged and a.scores]
        now = self.courses.clock()
        unseen = [a.id for a in done if a.seen_at is None]
        if unseen:
            person = self.courses.enrolment(course, sub)
            actor = lti_actor(course.issuer, sub, name=person.name or None)
            key = self.courses.course_key(course)
            with self.store.unit_of_work() as s:
                claimed = [aid for aid in unseen if s.execute(
                    update(review_assignments)
                    .where(review_assignments.c.id == aid, review_assignments.c.seen_at.is_(None))
                    .values(seen_at=now)
                ).rowcount == 1]  # fmt: skip
                statements = [feedback_received(self.courses.statements, actor, key, item, aid, now)
                              for aid in claimed]  # fmt: skip
                if statements:
                    self.courses.outbox.emit(statements, session=s)
        reviews = tuple(
            ReceivedReview(number=n, scores=a.scores, points=a.counted_points or 0.0,
                           max_points=settings.rubric.max_points,
                           overridden=a.override_points is not None)
            for n, a in enumerate(done, 1) if a.scores is not None
        )  # fmt: skip
        waiting = len([a for a in mine if a.status == "assigned"])
        return Feedback(submission=own, reviews=reviews, waiting=waiting)
