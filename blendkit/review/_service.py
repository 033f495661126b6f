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
from urllib.parse import urlsplit

from sqlalchemy import Connection, insert, select, update

from blendkit.courses import Course, CourseService, RecordOutcome
from blendkit.errors import ConfigError, CourseInputInvalid, CoursesError, ItemLocked, NotFound
from blendkit.progression import CompletionRecorded, PeerReviewGiven
from blendkit.review._allocation import Allocation, Assigned, Placed, allocate, drop_reviewer
from blendkit.review._files import SubmissionStorage, check_file, display_name
from blendkit.review._models import Assignment, Feedback, ReceivedReview, Submission
from blendkit.review._settings import PeerReviewSettings, ReviewScores
from blendkit.review._statements import feedback_received, review_given, work_submitted
from blendkit.store._tables_review import (
    review_assignments,
    review_inactive,
    review_settings,
    review_submissions,
)
from blendkit.xapi import Statement, lti_actor

__all__ = ["ReviewRecords", "check_link"]

MAX_TEXT = 50_000


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


class ReviewRecords:
    """Peer review of one store: settings, submissions, allocation, reviews and feedback."""

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

    # --- allocation ------------------------------------------------------------------------

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
