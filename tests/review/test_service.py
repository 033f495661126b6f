"""Peer review end to end in the core: submit, allocate at the deadline, review with the rubric,
feedback that opens only after giving reviews, moderation, grades and xAPI statements."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import unquote

import pytest
from sqlalchemy import select

from blendkit import CourseInputInvalid, CoursesError, ItemLocked, NotFound
from blendkit.review import ReviewScores
from blendkit.store._tables_courses import course_grades
from blendkit.store._tables_xapi import xapi_outbox
from blendkit.xapi import parse_statement
from tests.review.conftest import LEARNERS, T0, Workshop

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def full_review(general: str = "Good work") -> ReviewScores:
    return ReviewScores(
        levels={"clarity": 2, "evidence": 1},
        comments={"clarity": "Clear", "evidence": "Needs sources"},
        general=general,
    )


def submit_all(w: Workshop) -> None:
    w.reviews.submit(w.course, "ada", "reviews", text="Ada's essay")
    w.reviews.submit(w.course, "ben", "reviews", link="https://example.org/ben")
    w.reviews.submit(w.course, "cy", "reviews", file_name="../../etc/cy.pdf", file_data=PDF)


def statements(w: Workshop) -> list[dict[str, object]]:
    with w.store.transaction() as s:
        rows = s.execute(select(xapi_outbox.c.payload)).scalars().all()
    return [json.loads(r) for r in rows]


def test_allocation_waits_for_the_deadline_then_every_work_gets_two_reviewers(
    w: Workshop,
) -> None:
    submit_all(w)
    assert w.reviews.assignments(w.course, "reviews") == []  # before the submission deadline
    states = dict(w.courses.learner_path(w.course, "ada").states())
    assert states["submission"] == "completed"  # submitting completes the submission item
    w.clock.now = T0 + timedelta(days=8)
    w.reviews.allocate(w.course, "reviews")
    assigned = w.reviews.assignments(w.course, "reviews")
    authors = {s.id: s.sub for s in w.reviews.submissions(w.course, "reviews")}
    assert all(authors[a.submission_id] != a.reviewer for a in assigned)
    assert sorted(a.reviewer for a in assigned) == sorted(LEARNERS * 2)
    assert sorted(a.submission_id for a in assigned) == sorted(list(authors) * 2)


def test_feedback_opens_only_after_giving_two_reviews(w: Workshop) -> None:
    submit_all(w)
    w.clock.now = T0 + timedelta(days=8)
    w.reviews.allocate(w.course, "reviews")
    for sub in ("ben", "cy"):  # ada's reviewers review her
        for task in w.reviews.assignments(w.course, "reviews", reviewer=sub):
            w.reviews.give_review(w.course, sub, task.id, full_review(f"from {sub}"))
    with pytest.raises(CoursesError) as locked:
        w.reviews.feedback(w.course, "ada", "reviews")
    assert locked.value.code == "courses.review_feedback_locked"
    assert locked.value.http_status == 403
    assert w.courses.learner_path(w.course, "ada").state("feedback") == "locked"
    first, second = w.reviews.assignments(w.course, "reviews", reviewer="ada")
    w.reviews.give_review(w.course, "ada", first.id, full_review())
    with pytest.raises(CoursesError):
        w.reviews.feedback(w.course, "ada", "reviews")
    w.reviews.give_review(w.course, "ada", second.id, full_review())
    assert w.courses.learner_path(w.course, "ada").state("feedback") == "available"
    feedback = w.reviews.feedback(w.course, "ada", "reviews")
    assert {r.scores.general for r in feedback.reviews} == {"from ben", "from cy"}
    assert [r.number for r in feedback.reviews] == [1, 2]
    assert "ben" not in feedback.model_dump_json().replace("from ben", "")  # never named
    review_verbs = {"http://activitystrea.ms/schema/1.0/submit",
                    "http://adlnet.gov/expapi/verbs/experienced"}  # fmt: skip
    for payload in statements(w):  # valid statements, with clear, course-scoped activity ids
        parse_statement(payload)
        if payload["verb"]["id"] in review_verbs:  # type: ignore[index]
            assert ":workshop-1:reviews:" in unquote(payload["object"]["id"])  # type: ignore[index]
    verbs = [s["verb"]["id"] for s in statements(w)]  # type: ignore[index]
    assert verbs.count("http://activitystrea.ms/schema/1.0/submit") == 3 + 6
    assert verbs.count("http://adlnet.gov/expapi/verbs/experienced") == 2
    w.reviews.feedback(w.course, "ada", "reviews")  # seen again: no second statement
    assert [s["verb"]["id"] for s in statements(w)].count(  # type: ignore[index]
        "http://adlnet.gov/expapi/verbs/experienced"
    ) == 2


def test_reviewing_own_or_unassigned_work_is_refused(w: Workshop) -> None:
    submit_all(w)
    w.clock.now = T0 + timedelta(days=8)
    w.reviews.allocate(w.course, "reviews")
    bens = w.reviews.assignments(w.course, "reviews", reviewer="ben")
    with pytest.raises(NotFound):
        w.reviews.give_review(w.course, "ada", bens[0].id, full_review())
    with pytest.raises(CourseInputInvalid, match="write a general comment"):
        w.reviews.give_review(w.course, "ben", bens[0].id, full_review(general=""))
    w.reviews.give_review(w.course, "ben", bens[0].id, full_review())
    with pytest.raises(CourseInputInvalid):
        w.reviews.give_review(w.course, "ben", bens[0].id, full_review())  # counted once
    assert w.reviews.given(w.course, "ben", "reviews") == 1


def test_submissions_are_checked(w: Workshop) -> None:
    for bad in ("javascript:alert(1)", "ftp://x.org/a", "https://", "example.org"):
        with pytest.raises(CourseInputInvalid):
            w.reviews.submit(w.course, "ada", "reviews", link=bad)
    html = b"<!DOCTYPE html><script>alert(1)</script>"
    with pytest.raises(CourseInputInvalid) as refused:
        w.reviews.submit(w.course, "ada", "reviews", file_name="essay.pdf", file_data=html)
    assert refused.value.code == "courses.review_file_refused"
    with pytest.raises(CourseInputInvalid, match="largest accepted"):
        w.reviews.submit(w.course, "ada", "reviews", file_name="a.pdf", file_data=PDF * 20_000)
    with pytest.raises(CourseInputInvalid, match="exactly one"):
        w.reviews.submit(w.course, "ada", "reviews", text="x", link="https://a.org")
    assert not [p for p in w.files.rglob("*") if p.is_file()]  # refused files are not kept
    stored = w.reviews.submit(w.course, "cy", "reviews", file_name="..\\..\\ev il<>.pdf",
                              file_data=PDF)  # fmt: skip
    assert stored.file_name == "ev il.pdf"  # the last part, unsafe characters gone
    files = [p for p in w.files.rglob("*") if p.is_file()]
    assert len(files) == 1
    assert files[0].name != "ev il.pdf"
    found, data = w.reviews.file(w.course, "cy", stored.id)
    assert data == PDF
    assert found.file_type == "pdf"


def test_locked_submission_item_stores_nothing(w: Workshop) -> None:
    from blendkit.courses import Enrolment

    w.courses.enrol(w.course, Enrolment(sub="dee", name="Dee"))  # has not read the brief
    with pytest.raises(ItemLocked):
        w.reviews.submit(w.course, "dee", "reviews", file_name="a.pdf", file_data=PDF)
    assert w.reviews.submission(w.course, "dee", "reviews") is None
    assert not [p for p in w.files.rglob("*") if p.is_file()]


def test_another_course_cannot_read_a_submission(w: Workshop) -> None:
    submit_all(w)
    cys = w.reviews.submission(w.course, "cy", "reviews")
    assert cys is not None
    other = w.new_course("workshop-2")
    w.ready(other, "cy")
    with pytest.raises(NotFound):
        w.reviews.file(other, "cy", cys.id)
    with pytest.raises(NotFound):
        w.reviews.file(other, "cy", cys.id, staff=True)
    with pytest.raises(NotFound):  # a classmate not assigned to it
        w.reviews.file(w.course, "ada", cys.id)


def test_moderation_and_weighted_grade_queued_for_ags(w: Workshop) -> None:
    submit_all(w)
    w.clock.now = T0 + timedelta(days=8)
    w.reviews.allocate(w.course, "reviews")
    ada = w.reviews.submission(w.course, "ada", "reviews")
    assert ada is not None
    on_ada = [a for a in w.reviews.assignments(w.course, "reviews") if a.submission_id == ada.id]
    for a in on_ada:
        w.reviews.give_review(w.course, a.reviewer, a.id, full_review())  # 4 + 2 of 8 points each
    assert w.reviews.breakdown(w.course, "reviews", "ada").peer_percent == 75.0
    w.reviews.override(w.course, on_ada[0].id, points=8, by="teach", note="generous")
    assert w.reviews.breakdown(w.course, "reviews", "ada").peer_percent == 87.5
    w.reviews.flag(w.course, on_ada[1].id, by="teach", note="rude")
    assert w.reviews.breakdown(w.course, "reviews", "ada").peer_percent == 100.0
    graded = w.reviews.grade(w.course, "reviews", "ada", percent=60, by="teach")
    assert graded.final_percent == 80.0
    with w.store.transaction() as s:
        rows = s.execute(select(course_grades.c.sub, course_grades.c.item,
                                course_grades.c.score_given)).all()  # fmt: skip
    assert rows[-1] == ("ada", "reviews", 80.0)
    # the flagged review is left out of ada's feedback
    with pytest.raises(CourseInputInvalid):
        w.reviews.override(w.course, on_ada[0].id, points=99, by="teach", note="x")


def test_reassign_and_drop_out(w: Workshop) -> None:
    w.ready(w.course, "dee", "eve")
    submit_all(w)
    w.reviews.submit(w.course, "dee", "reviews", text="Dee's essay")
    w.reviews.submit(w.course, "eve", "reviews", text="Eve's essay")
    w.clock.now = T0 + timedelta(days=8)
    w.reviews.allocate(w.course, "reviews")
    bens = list(w.reviews.assignments(w.course, "reviews", reviewer="ben"))
    change = w.reviews.drop_reviewer(w.course, "reviews", "ben", reason="left the course")
    assert sorted(a.submission for a in change.dropped) == sorted(a.submission_id for a in bens)
    assert all(a.reviewer != "ben" for a in change.added)
    live = [a for a in w.reviews.assignments(w.course, "reviews") if a.status != "dropped"]
    for a in bens:
        assert sum(1 for b in live if b.submission_id == a.submission_id) == 2
    one = live[0]
    w.reviews.reassign(w.course, one.id, by="teach")
    after = [a for a in w.reviews.assignments(w.course, "reviews") if a.status != "dropped"]
    assert one.id not in {a.id for a in after}
    assert sum(1 for b in after if b.submission_id == one.submission_id) == 2


def test_missed_review_deadline_reassigns(w: Workshop) -> None:
    w.ready(w.course, "dee")
    submit_all(w)
    w.reviews.submit(w.course, "dee", "reviews", text="Dee's essay")
    w.clock.now = T0 + timedelta(days=8)
    w.reviews.allocate(w.course, "reviews")
    for sub in ("ada", "ben", "cy"):
        for task in w.reviews.assignments(w.course, "reviews", reviewer=sub):
            w.reviews.give_review(w.course, sub, task.id, full_review())
    w.clock.now = T0 + timedelta(days=15)  # the review deadline passed; dee gave none
    w.reviews.allocate(w.course, "reviews")
    dees = w.reviews.assignments(w.course, "reviews", reviewer="dee")
    assert dees
    assert all(a.status == "dropped" for a in dees)
    live = [a for a in w.reviews.assignments(w.course, "reviews") if a.status != "dropped"]
    for a in dees:
        assert sum(1 for b in live if b.submission_id == a.submission_id) == 2
