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
from sqlalchemy import and_, func, select, update

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
from blendkit.store._tables_courses import course_courses, course_grades

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
        """How many scores are pending, sent and failed, over every course."""
        with self.store.transaction() as s:
            rows = s.execute(
                select(course_grades.c.status, func.count()).group_by(course_grades.c.status)
            ).all()
        found = {str(status): int(count) for status, count in rows}
        return {key: found.get(key, 0) for key in ("pending", "sent", "failed")}

    def _claim(self, limit: int) -> list[int]:
        now = self.clock()
        with self.store.transaction() as s:
            due = (
                s.execute(
                    select(course_grades.c.id)
                    .where(
                        course_grades.c.status == "pending", course_grades.c.next_attempt_at <= now
                    )
                    .order_by(course_grades.c.id)
                    .limit(limit)
                )
                .scalars()
                .all()
            )
        claimed = []
        for grade_id in due:
            with self.store.transaction() as s:
                # Moving next_attempt_at forward is the claim: only one process wins the row.
                result = s.execute(
                    update(course_grades)
                    .where(
                        and_(
                            course_grades.c.id == grade_id,
                            course_grades.c.status == "pending",
                            course_grades.c.next_attempt_at <= now,
                        )
                    )
                    .values(next_attempt_at=now + timedelta(seconds=self.lease))
                )
                if result.rowcount == 1:
                    claimed.append(grade_id)
        return claimed

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
