"""The peer-review pages of the example tool: submit, review, feedback after two reviews, and
the refusals (files served inline, paths chosen by the uploader, other courses, own work)."""

from __future__ import annotations

import re

from tests.app.conftest import Tool
from tests.app.review_kit import (
    PDF,
    learner,
    peer_course,
    review,
    submit,
    tasks,
)


def test_three_learners_review_each_other_and_feedback_opens_after_two(tool: Tool) -> None:
    teacher = peer_course(tool)
    ada, ben, cy = (learner(tool, sub) for sub in ("ada", "ben", "cy"))
    assert submit(tool, ada, text="Ada's essay on cells").status_code == 302
    assert submit(tool, ben, link="https://example.org/ben").status_code == 302
    assert submit(tool, cy, file=("cy.pdf", PDF)).status_code == 302
    assert all(len(tasks(tool, who)) == 2 for who in (ada, ben, cy))
    assert tool.get("/review/reviews/feedback", ada).status_code == 403
    feedback_item = tool.get("/item/feedback", ada).get_data(as_text=True)
    assert "Give at least 2 peer reviews" in feedback_item
    for who in (ben, cy):
        for task in tasks(tool, who):
            assert review(tool, who, task, f"general from {who[:4]}").status_code == 302
    first, second = tasks(tool, ada)
    assert review(tool, ada, first, "ok").status_code == 302
    locked = tool.get("/review/reviews/feedback", ada)
    assert locked.status_code == 403
    assert "you gave 1" in locked.get_data(as_text=True)
    assert review(tool, ada, second, "ok").status_code == 302
    page = tool.get("/review/reviews/feedback", ada)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert text.count("Clear structure") == 2
    assert "Reviewer 2" in text
    assert "Ben" not in text
    assert "Cy" not in text
    moderation = tool.get("/teach/reviews/reviews", teacher).get_data(as_text=True)
    assert moderation.count("done") >= 6


def test_incomplete_review_and_bad_submission_answer_with_the_reason(tool: Tool) -> None:
    peer_course(tool)
    ada, ben, cy = (learner(tool, sub) for sub in ("ada", "ben", "cy"))
    refused = submit(tool, ada, link="javascript:alert(1)")
    assert refused.status_code == 400
    body = refused.get_data(as_text=True)
    assert 'role="alert"' in body
    assert "http:// or https://" in body
    assert 'aria-invalid="true"' in body
    for who in (ada, ben, cy):
        assert submit(tool, who, text=f"work of {who[:4]}").status_code == 302
    task = tasks(tool, ada)[0]
    incomplete = tool.post(f"/review/reviews/task/{task}", ada, {"level-clarity": "1"})
    assert incomplete.status_code == 400
    assert "write a general comment" in incomplete.get_data(as_text=True)


def test_html_upload_is_refused_and_files_download_as_attachments(tool: Tool) -> None:
    peer_course(tool)
    ada, ben, cy = (learner(tool, sub) for sub in ("ada", "ben", "cy"))
    page = b"<!doctype html><html><script>alert(document.cookie)</script></html>"
    for name in ("essay.pdf", "essay.html", "essay.txt"):
        answer = submit(tool, ada, file=(name, page))
        assert answer.status_code == 400, name
        assert "recognised from the file" in answer.get_data(as_text=True)
    assert submit(tool, ada, file=("../../../etc/passwd.pdf", PDF)).status_code == 302
    own = tool.get("/review/reviews", ada).get_data(as_text=True)
    link = re.search(r"/review/reviews/file/(\d+)", own)
    assert link
    assert "Download passwd.pdf" in own
    download = tool.get(link.group(0), ada)
    assert download.status_code == 200
    assert download.data == PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"].startswith('attachment; filename="passwd.pdf"')
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download.headers["Content-Security-Policy"]
    assert tool.get(link.group(0), ben).status_code == 404  # not assigned to ben yet
    submit(tool, ben, text="b")
    submit(tool, cy, text="c")
    reviewers = [who for who in (ben, cy) if any(
        link.group(1) in tool.get(f"/review/reviews/task/{t}", who).get_data(as_text=True)
        for t in tasks(tool, who)
    )]  # fmt: skip
    assert reviewers
    assert tool.get(link.group(0), reviewers[0]).status_code == 200


def test_other_course_and_unassigned_work_are_refused(tool: Tool) -> None:
    peer_course(tool)
    ada, ben, cy, dee = (learner(tool, sub) for sub in ("ada", "ben", "cy", "dee"))
    submit(tool, ada, file=("a.pdf", PDF))
    for who in (ben, cy, dee):
        submit(tool, who, text="work")
    link = re.search(
        r"/review/reviews/file/(\d+)", tool.get("/review/reviews", ada).get_data(as_text=True)
    )
    assert link
    teacher_b = peer_course(tool, context="chem-202")
    stranger = learner(tool, "eve", context="chem-202")
    assert tool.get(link.group(0), stranger).status_code == 404
    assert tool.get(link.group(0), teacher_b).status_code == 404  # staff of another course
    own_tasks = set(tasks(tool, ada))
    others = [t for who in (ben, cy, dee) for t in tasks(tool, who)]
    someone_elses = next(t for t in others if t not in own_tasks)
    assert review(tool, ada, someone_elses, "sneaky").status_code == 404
    assert tool.get(f"/review/reviews/task/{someone_elses}", ada).status_code == 404
    assert tool.get(f"/review/reviews/task/{someone_elses}", stranger).status_code == 404
    assert tool.post("/item/reviews/done", ada).status_code == 400  # no button completes it


def test_instructor_moderation_page_flags_and_grades(tool: Tool) -> None:
    teacher = peer_course(tool)
    ada, ben, cy = (learner(tool, sub) for sub in ("ada", "ben", "cy"))
    for who in (ada, ben, cy):
        submit(tool, who, text="work")
    for task in tasks(tool, ben):
        review(tool, ben, task, "fine")
    page = tool.get("/teach/reviews/reviews", teacher).get_data(as_text=True)
    ids = re.findall(r"/teach/reviews/reviews/assignments/(\d+)", page)
    assert len(ids) == 6
    flagged = tool.post(f"/teach/reviews/reviews/assignments/{ids[0]}", teacher,
                        {"action": "flag", "note": "off-topic"})  # fmt: skip
    assert flagged.status_code == 302
    graded = tool.post("/teach/reviews/reviews/grades/ada", teacher, {"percent": "70"})
    assert graded.status_code == 302
    after = tool.get("/teach/reviews/reviews", teacher).get_data(as_text=True)
    assert "flagged" in after
    assert "instructor grade 70%" in after
    assert tool.get("/teach/reviews/reviews", ada).status_code == 403
