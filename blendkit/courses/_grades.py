"""Grade passback: queued scores go to the platform's gradebook through LTI AGS.

Scores are queued by :meth:`CourseService.record` in the evidence transaction, so a score is
never lost when the platform is down: :meth:`GradePassback.deliver_due` claims due rows (safe
with several processes), posts each best score to the item's line item (found by
``resourceId`` = item id, created when missing) and records failures with a growing delay.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select, update

from blendkit.courses._models import GradeRecord, aware
from blendkit.errors import BlendkitError, CourseUnassigned
from blendkit.lti import (
    AccessTokens,
    AGSScore,
    AssignmentGradeService,
    LineItem,
    PlatformRegistry,
    ServiceSession,
)
from blendkit.operations import record_outcome
from blendkit.store import Store
from blendkit.store._tables_courses import course_courses, course_grade_totals, course_grades

__all__ = ["GradePassback", "GradeReport"]

MAX_ATTEMPTS = 12


@dataclass
class GradeReport:
    """What one delivery pass did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


class GradePassback:
    """Delivers queued scores; failures are kept with their reason and retried later."""

    def __init__(
        self,
        store: Store,
        registry: PlatformRegistry,
        tokens: AccessTokens,
        *,
        backoff_seconds: float = 30.0,
        max_backoff_seconds: float = 3600.0,
        lease_seconds: float = 120.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.registry = registry
        self.tokens = tokens
        self.backoff = backoff_seconds
        self.max_backoff = max_backoff_seconds
        self.lease = lease_seconds
        self.clock = clock

    def grades(self, course_id: int, *, status: str | None = None) -> list[GradeRecord]:
        """Queued, sent and failed scores of a course, newest first."""
        query = select(course_grades).where(course_grades.c.course_id == course_id)
        if status:
            query = query.where(course_grades.c.status == status)
        with self.store.transaction() as s:
            rows = s.execute(query.order_by(course_grades.c.id.desc())).all()
        return [
            GradeRecord(
                id=r.id, sub=r.sub, item=r.item, label=r.label, score_given=r.score_given,
                score_maximum=r.score_maximum, scored_at=r.scored_at, status=r.status,
                attempts=r.attempts, next_attempt_at=r.next_attempt_at,
                last_error=r.last_error, sent_at=r.sent_at,
            )
            for r in rows
        ]  # fmt: skip

    def counts(self) -> dict[str, int]:
        """How many scores are pending, sent and failed, over every course (one statement:
        pending and failed through their partial indexes, sent from the running total)."""
        g = course_grades.c

        def count(status: str) -> Any:
            return select(func.count()).where(g.status == status).scalar_subquery()

        sent = select(course_grade_totals.c.value).where(course_grade_totals.c.name == "sent")
        with self.store.transaction() as s:
            row = s.execute(select(count("pending"), sent.scalar_subquery(), count("failed"))).one()
        return {"pending": int(row[0]), "sent": int(row[1] or 0), "failed": int(row[2])}

    def _claim(self, limit: int) -> list[int]:
        """Take up to ``limit`` due scores in one statement: moving ``next_attempt_at`` past the
        lease is the claim (PostgreSQL: SKIP LOCKED, so two deliverers never share a row;
        SQLite: one writer at a time). Returns the ids, lowest first."""
        now = self.clock()
        g = course_grades.c
        due: Any = (
            select(g.id)
            .where(g.status == "pending", g.next_attempt_at <= now)
            .order_by(g.next_attempt_at, g.id)
            .limit(limit)
        )
        if self.store.is_postgres:
            batch = due.with_for_update(skip_locked=True).cte("batch").prefix_with("MATERIALIZED")
            chosen: list[Any] = [g.id == batch.c.id]
        else:
            chosen = [g.id.in_(due.scalar_subquery()), g.status == "pending"]
        claim = (
            update(course_grades)
            .where(*chosen)
            .values(next_attempt_at=now + timedelta(seconds=self.lease))
            .returning(g.id)
        )
        with self.store.autocommit() as s:
            return sorted(int(i) for i in s.execute(claim).scalars())

    def deliver_due(self, limit: int = 50) -> GradeReport:
        """Send up to ``limit`` due scores; returns what happened."""
        report = GradeReport()
        for grade_id in self._claim(limit):
            with self.store.transaction() as s:
                row = s.execute(
                    select(course_grades, course_courses.c.issuer, course_courses.c.client_id,
                           course_courses.c.deployment_id, course_courses.c.ags)
                    .join(course_courses, course_courses.c.id == course_grades.c.course_id)
                    .where(course_grades.c.id == grade_id)
                ).one()  # fmt: skip
            try:
                self._send(row)
            except (BlendkitError, httpx.HTTPError) as exc:
                attempts = row.attempts + 1
                status = "failed" if attempts >= MAX_ATTEMPTS else "pending"
                wait = min(self.backoff * 2 ** (attempts - 1), self.max_backoff)
                message = str(exc)[:500]
                with self.store.transaction() as s:
                    s.execute(
                        update(course_grades)
                        .where(course_grades.c.id == grade_id)
                        .values(
                            attempts=attempts, status=status, last_error=message,
                            next_attempt_at=self.clock() + timedelta(seconds=wait),
                        )
                    )  # fmt: skip
                report.errors.append(message)
                record_outcome("ags", row.issuer, "failed" if status == "failed" else "retried")
                if status == "failed":
                    report.failed += 1
                else:
                    report.retried += 1
                continue
            with self.store.transaction() as s:
                s.execute(
                    update(course_grades)
                    .where(course_grades.c.id == grade_id)
                    .values(status="sent", attempts=row.attempts + 1, sent_at=self.clock(),
                            last_error=None)
                )  # fmt: skip
                s.execute(
                    self.store.insert_or_add(
                        course_grade_totals, ["name"], {"name": "sent", "value": 1}, ["value"]
                    )
                )
            report.sent += 1
            record_outcome("ags", row.issuer, "sent")
        return report

    def retry_failed(self, course_id: int | None = None) -> int:
        """Queue failed scores again (after the platform was fixed); returns how many."""
        query = update(course_grades).where(course_grades.c.status == "failed")
        if course_id is not None:
            query = query.where(course_grades.c.course_id == course_id)
        with self.store.transaction() as s:
            result = s.execute(
                query.values(status="pending", attempts=0, next_attempt_at=self.clock())
            )
        return int(result.rowcount or 0)

    def _send(self, row: Any) -> None:
        ags = json.loads(row.ags or "{}")
        client_id = row.client_id
        if not client_id or row.deployment_id is None:
            # A course from before deployment tenancy that no deployment owns yet: its AGS
            # endpoints may have been written by another institution's launch.
            raise CourseUnassigned(
                f"course {row.course_id} is not assigned to a deployment, so its gradebook is "
                f"unknown; assign it with `blendkit courses assign-deployment {row.course_id}` "
                "and the score is sent on a later run",
                code="courses.grade_no_platform",
                http_status=500,
            )
        platform = self.registry.get(row.issuer, client_id)
        service = AssignmentGradeService(
            ServiceSession(platform, self.tokens),
            lineitems_url=ags.get("lineitems"),
            lineitem_url=ags.get("lineitem"),
            scopes=ags.get("scope") or (),
        )
        item = row.item
        target: str | None = None
        if ags.get("lineitems"):
            found = next(iter(service.line_items(resource_id=item)), None)
            if found is None:
                found = service.create_line_item(
                    LineItem(label=row.label, score_maximum=100, resource_id=item)
                )
            target = found.id
        service.post_score(
            AGSScore(
                user_id=row.sub,
                activity_progress="Completed",
                grading_progress="FullyGraded",
                score_given=row.score_given,
                score_maximum=row.score_maximum,
                timestamp=aware(row.scored_at),
            ),
            target,
        )
