"""Peer-review rules of the gate state machine (``test_gate_invariant_stateful.py``).

The world's path gains a workshop: a submission item, a peer-review item opened by submitting,
and a feedback item gated on two reviews given. Two classmates submitted already, so the
machine's learner gets work to review once they submit. After every request the machine checks,
against the store:

- feedback was shown (200) only to a learner whose two reviews count on the path;
- a file was served only to its author or to a reviewer assigned to it, always as an
  attachment with ``nosniff``;
- a review page or form answered only for the learner's own assignments.
"""

from __future__ import annotations

from io import BytesIO
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import rule
from sqlalchemy import select

from blendkit.progression import (
    CompletionCondition,
    Item,
    Module,
    Path,
    PeerReviewsCondition,
)
from blendkit.review import PeerReviewSettings, starter_settings
from blendkit.store._tables_review import review_assignments, review_submissions

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ITEM = "ws-reviews"
REVIEW_RULES = {
    "learner.review_page": "review_page",
    "learner.review_submit": "review_submit",
    "learner.review_task": "review_task",
    "learner.review_give": "review_give",
    "learner.review_feedback": "review_feedback",
    "learner.review_file": "review_file",
}
ITEMS = st.sampled_from([ITEM, ITEM, "ws-submission", "reflection", "nope"])
SUBMISSIONS = {
    "text": {"kind": "text", "text": "my essay"},
    "link": {"kind": "link", "link": "https://example.org/work"},
    "bad-link": {"kind": "link", "link": "javascript:alert(1)"},
    "file": {"kind": "file"},
    "html": {"kind": "file"},
    "two": {"kind": "text", "text": "x", "link": "https://a.org"},  # the chosen kind counts
}


def with_workshop(path: Path) -> Path:
    """``path`` plus the workshop module (the peer-workshop template's shape)."""
    workshop = Module(
        id="workshop",
        items=(
            Item(id="ws-submission", title="Submit your work", kind="assignment"),
            Item(id=ITEM, title="Review 2 peers", kind="peer_review",
                 conditions=CompletionCondition(item="ws-submission"),
                 complete_when=PeerReviewsCondition(item=ITEM, count=2)),
            Item(id="ws-feedback", title="See your feedback", kind="reading",
                 conditions=PeerReviewsCondition(item=ITEM, count=2)),
        ),
    )  # fmt: skip
    return path.model_copy(update={"modules": (*path.modules, workshop)})


def seed_workshop(tool: Any, svc: Any, course: Any) -> None:
    """Set the peer review up (allocation after every submission) and have two classmates
    submit."""
    settings: PeerReviewSettings = starter_settings(course.path, ITEM)
    open_now = settings.model_copy(update={"submit_by": None, "review_by": None})
    svc.reviews.configure(course, ITEM, open_now)
    for sub in ("peer-1", "peer-2"):
        launch_id = tool.launch(sub, name=sub)
        tool.get("/course", launch_id)
        svc.reviews.submit(course, sub, ITEM, text=f"work of {sub}")


def review_rules() -> type:
    """The rules, as a mixin of the machine (which gives ``sub``, ``launch_id``, ``check``,
    and ``tool_``/``world`` through :func:`bind`)."""

    class ReviewRules:
        tool_: Any
        world: Any
        sub: str
        launch_id: str

        def check(self, response: Any) -> None:
            raise NotImplementedError

        def _ids(self, column: Any) -> list[int]:
            with self.tool_.store.transaction() as s:
                return [int(i) for i in s.execute(select(column)).scalars()]

        def _pick(self, column: Any, pick: int) -> int:
            ids = [*self._ids(column), 999_999]
            return ids[pick % len(ids)]

        def _mine(self, assignment_id: int) -> bool:
            with self.tool_.store.transaction() as s:
                row = s.execute(
                    select(review_assignments.c.reviewer, review_assignments.c.status).where(
                        review_assignments.c.id == assignment_id
                    )
                ).first()
            return row is not None and row.reviewer == self.sub and row.status != "dropped"

        @rule(item=ITEMS)
        def review_page(self, item: str) -> None:
            self.check(self.tool_.get(f"/review/{item}", self.launch_id))

        @rule(item=ITEMS, kind=st.sampled_from(sorted(SUBMISSIONS)))
        def review_submit(self, item: str, kind: str) -> None:
            data: dict[str, Any] = dict(SUBMISSIONS[kind])
            extra: dict[str, Any] = {}
            if kind in ("file", "html"):
                body = PDF if kind == "file" else b"<!doctype html><script>x()</script>"
                data["file"] = (BytesIO(body), "../../work.pdf")
                extra["content_type"] = "multipart/form-data"
            answer = self.tool_.post(f"/review/{item}/submit", self.launch_id, data, **extra)
            self.check(answer)
            if kind in ("bad-link", "html") and item == ITEM:
                assert answer.status_code == 400, f"{kind} submission was accepted"

        @rule(item=ITEMS, pick=st.integers(0, 20))
        def review_task(self, item: str, pick: int) -> None:
            task = self._pick(review_assignments.c.id, pick)
            answer = self.tool_.get(f"/review/{item}/task/{task}", self.launch_id)
            self.check(answer)
            if answer.status_code == 200:
                assert self._mine(task), "a review page of someone else's assignment was shown"

        @rule(item=ITEMS, pick=st.integers(0, 20), complete=st.booleans())
        def review_give(self, item: str, pick: int, complete: bool) -> None:
            task = self._pick(review_assignments.c.id, pick)
            data = {"level-clarity": "1", "level-evidence": "2", "comment-clarity": "c",
                    "comment-evidence": "e", "general": "g" if complete else ""}  # fmt: skip
            answer = self.tool_.post(f"/review/{item}/task/{task}", self.launch_id, data)
            self.check(answer)
            if answer.status_code < 400:
                assert self._mine(task), "a review of someone else's assignment was accepted"

        @rule(item=ITEMS)
        def review_feedback(self, item: str) -> None:
            answer = self.tool_.get(f"/review/{item}/feedback", self.launch_id)
            self.check(answer)
            given = self.world.courses.evidence(self.world.course, self.sub).peer_reviews
            if answer.status_code == 200:
                assert given.get(ITEM, 0) >= 2, "feedback was shown before two reviews"
            elif item == ITEM and given.get(ITEM, 0) < 2:
                assert answer.status_code in (403, 404)

        @rule(item=ITEMS, pick=st.integers(0, 20))
        def review_file(self, item: str, pick: int) -> None:
            submission = self._pick(review_submissions.c.id, pick)
            answer = self.tool_.get(f"/review/{item}/file/{submission}", self.launch_id)
            self.check(answer)
            if answer.status_code != 200:
                return
            assert answer.headers["Content-Disposition"].startswith("attachment;")
            assert answer.headers["X-Content-Type-Options"] == "nosniff"
            with self.tool_.store.transaction() as s:
                author = s.execute(
                    select(review_submissions.c.sub).where(review_submissions.c.id == submission)
                ).scalar_one()
                assigned = s.execute(
                    select(review_assignments.c.id).where(
                        review_assignments.c.submission_id == submission,
                        review_assignments.c.reviewer == self.sub,
                        review_assignments.c.status != "dropped",
                    )
                ).first()
            assert author == self.sub or assigned is not None, "a file was served to a stranger"

    return ReviewRules
