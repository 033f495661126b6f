"""The whole roster: a course's membership read through NRPS into its enrolments.

Launches only tell the tool about people who launched. :class:`RosterSync` reads the course's
membership (Names and Role Provisioning Services 2.0, paged by ``Link: rel="next"``) and keeps
every member as an enrolment: people who have not launched yet get one marked not launched
(``launched_at`` is None, ``source`` is ``roster``), people the platform dropped (absent from a
full read, or ``Inactive``/``Deleted``) become inactive, never deleted, so their evidence stays.

When the platform offers a ``rel="differences"`` link, it is kept per course and the next sync
reads only the changes since; a full read runs when there is none, when it expired, and at least
every ``full_every``. An instructor's launch only *requests* a sync (one small write: the launch
never waits for the platform); the ``blendkit roster sync --loop`` process takes requested
courses and those whose last sync is older than ``every``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, and_, func, or_, select, update

from blendkit.courses._models import Course, aware
from blendkit.errors import BlendkitError, CoursesError, CourseUnassigned, NotFound, ServiceError
from blendkit.lti import AccessTokens, PlatformRegistry, ServiceSession, summarize_roles
from blendkit.lti._nrps import Member, NamesRoleService
from blendkit.store import Store
from blendkit.store._tables_courses import course_courses, course_enrolments
from blendkit.store._tables_roster import course_rosters

__all__ = ["RosterReport", "RosterState", "RosterSync", "member_role"]

_BATCH = 500  # ids per UPDATE … IN (…): well under every database's parameter limit
# A differences link the platform no longer honours: read the whole roster next time.
_EXPIRED_LINK = {"lti.service_not_found", "lti.service_rejected"}


def member_role(member: Member) -> str:
    """The tool's role for an NRPS member: ``instructor`` for teachers, assistants and course
    administrators (as for a launch), else ``learner``."""
    roles = summarize_roles(member.roles)
    return "instructor" if roles.is_instructor or roles.is_teaching_assistant else "learner"


def _member_name(member: Member) -> str | None:
    if member.name:
        return member.name
    parts = [p for p in (member.given_name, member.family_name) if p]
    return " ".join(parts) or None


class RosterReport(BaseModel):
    """What one sync of one course did."""

    model_config = ConfigDict(frozen=True)

    course_id: int
    mode: Literal["full", "differences"]
    read: int = 0
    added: int = 0
    updated: int = 0
    deactivated: int = 0
    pages: int = 0
    offers_differences: bool = False
    error: str | None = None


class RosterState(BaseModel):
    """A course's sync state, for the instructor's roster page and ``roster status``."""

    model_config = ConfigDict(frozen=True)

    course_id: int
    memberships_url: str
    offers_differences: bool
    requested_at: datetime | None
    synced_at: datetime | None
    full_synced_at: datetime | None
    members: int
    failures: int
    last_error: str | None


class RosterSync:
    """Reads courses' rosters through NRPS (see the module doc); safe to run in one process."""

    def __init__(
        self,
        store: Store,
        registry: PlatformRegistry,
        tokens: AccessTokens | None,
        *,
        every: timedelta = timedelta(hours=6),
        full_every: timedelta = timedelta(days=1),
        quiet: timedelta = timedelta(minutes=15),
        backoff_seconds: float = 60.0,
        max_backoff_seconds: float = 3600.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.registry = registry
        self.tokens = tokens
        self.every = every
        self.full_every = full_every
        self.quiet = quiet
        self.backoff = backoff_seconds
        self.max_backoff = max_backoff_seconds
        self.clock = clock

    # --- the queue -------------------------------------------------------------------------

    def request(self, course: Course, memberships_url: str, *, force: bool = False) -> bool:
        """Ask for a sync of ``course`` soon (an instructor launched): no call to the platform,
        at most one small write. Nothing is written when a sync is already queued or the last
        one is younger than ``quiet`` (unless ``force``: the instructor asked); a new
        memberships URL forgets the old differences link. Returns whether a sync was queued."""
        now = self.clock()
        values = {"course_id": course.id, "memberships_url": memberships_url, "requested_at": now}
        r = course_rosters.c
        with self.store.transaction() as conn:
            row = conn.execute(
                select(r.memberships_url, r.requested_at, r.synced_at).where(
                    r.course_id == course.id
                )
            ).first()
            if row is not None and row.memberships_url == memberships_url and not force:
                recent = row.synced_at is not None and aware(row.synced_at) > now - self.quiet
                if row.requested_at is not None or recent:
                    return False
            old = None if row is None else row.memberships_url
            if old is None:
                conn.execute(
                    self.store.insert_or_replace(
                        course_rosters, ["course_id"], values, ["memberships_url", "requested_at"]
                    )
                )
                return True
            changes: dict[str, Any] = {"requested_at": now}
            if old != memberships_url:
                changes.update(memberships_url=memberships_url, differences_url=None)
            conn.execute(
                update(course_rosters)
                .where(course_rosters.c.course_id == course.id)
                .values(**changes)
            )
        return True

    def due(self, limit: int = 50) -> list[int]:
        """Courses to sync now: requested ones first, then those not synced for ``every``;
        a course whose last sync failed waits for its backoff."""
        now = self.clock()
        r = course_rosters.c
        query = (
            select(r.course_id)
            .where(
                or_(r.next_attempt_at.is_(None), r.next_attempt_at <= now),
                or_(
                    r.requested_at.isnot(None),
                    r.synced_at.is_(None),
                    r.synced_at <= now - self.every,
                ),
            )
            .order_by(r.requested_at.is_(None), r.requested_at, r.synced_at, r.course_id)
            .limit(limit)
        )
        with self.store.transaction() as s:
            return [int(i) for i in s.execute(query).scalars()]

    def state(self, course: Course) -> RosterState | None:
        """The course's sync state (None: no launch brought a memberships URL yet)."""
        with self.store.transaction() as s:
            row = s.execute(
                select(course_rosters).where(course_rosters.c.course_id == course.id)
            ).first()
        if row is None:
            return None
        return RosterState(
            course_id=row.course_id,
            memberships_url=row.memberships_url,
            offers_differences=row.differences_url is not None,
            requested_at=_maybe(row.requested_at),
            synced_at=_maybe(row.synced_at),
            full_synced_at=_maybe(row.full_synced_at),
            members=row.members,
            failures=row.failures,
            last_error=row.last_error,
        )

    # --- syncing ---------------------------------------------------------------------------

    def sync_due(
        self, limit: int = 50, *, should_stop: Callable[[], bool] = lambda: False
    ) -> list[RosterReport]:
        """Sync every due course (see :meth:`due`); ``should_stop`` is asked between courses."""
        reports = []
        for course_id in self.due(limit):
            if should_stop():
                break
            reports.append(self.sync(course_id))
        return reports

    def sync(self, course_id: int, *, full: bool = False) -> RosterReport:
        """Read the course's roster (the changes since the last read when the platform offered
        a differences link, unless ``full``) and bring its enrolments in line. A failure is
        stored with its reason and retried after a growing delay; nothing is half-applied: the
        pages are all read before anything is written."""
        with self.store.transaction() as s:
            row = s.execute(
                select(course_rosters, course_courses.c.issuer, course_courses.c.client_id,
                       course_courses.c.deployment_id)
                .join(course_courses, course_courses.c.id == course_rosters.c.course_id)
                .where(course_rosters.c.course_id == course_id)
            ).first()  # fmt: skip
        if row is None:
            raise NotFound(
                f"course {course_id} has no roster to sync: an instructor's launch with the "
                "NRPS claim brings its memberships URL"
            )
        now = self.clock()
        stale = row.full_synced_at is None or aware(row.full_synced_at) <= now - self.full_every
        use_differences = bool(row.differences_url) and not full and not stale
        mode: Literal["full", "differences"] = "differences" if use_differences else "full"
        try:
            service = self._service(row)
            roster = (
                service.differences(row.differences_url) if use_differences else service.members()
            )
            members = list(roster)
        except (BlendkitError, httpx.HTTPError) as exc:
            forget = isinstance(exc, ServiceError) and use_differences and exc.code in _EXPIRED_LINK
            return self._failed(row, mode, exc, forget_differences=forget)
        with self.store.transaction() as s:
            report = self._apply(s, course_id, members, mode=mode, now=now)
            total = s.execute(
                select(func.count())
                .select_from(course_enrolments)
                .where(course_enrolments.c.course_id == course_id, course_enrolments.c.active)
            ).scalar_one()
            s.execute(
                update(course_rosters)
                .where(course_rosters.c.course_id == course_id)
                .values(
                    differences_url=roster.differences_url
                    or (row.differences_url if use_differences else None),
                    requested_at=None, synced_at=now, members=int(total), failures=0,
                    next_attempt_at=None, last_error=None,
                    **({"full_synced_at": now} if mode == "full" else {}),
                )
            )  # fmt: skip
        return report.model_copy(
            update={"pages": roster.pages_read, "offers_differences": bool(roster.differences_url)}
        )

    def _service(self, row: Any) -> NamesRoleService:
        if not row.client_id or row.deployment_id is None:
            raise CourseUnassigned(
                f"course {row.course_id} is not assigned to a deployment, so whose roster it "
                f"is cannot be told; assign it with `blendkit courses assign-deployment "
                f"{row.course_id}`",
                code="courses.roster_no_platform",
                http_status=500,
            )
        if self.tokens is None:
            raise CoursesError(
                "this RosterSync only queues syncs (it was built without access tokens); run "
                "`blendkit roster sync`, which reads the rosters with the tool's keys",
                code="courses.roster_no_tokens",
            )
        platform = self.registry.get(row.issuer, row.client_id)
        return NamesRoleService(ServiceSession(platform, self.tokens), row.memberships_url)

    def _failed(
        self, row: Any, mode: Literal["full", "differences"], exc: Exception, *,
        forget_differences: bool,
    ) -> RosterReport:  # fmt: skip
        failures = row.failures + 1
        wait = min(self.backoff * 2 ** (failures - 1), self.max_backoff)
        message = str(exc)[:500]
        values: dict[str, Any] = {
            "failures": failures,
            "last_error": message,
            "next_attempt_at": self.clock() + timedelta(seconds=wait),
        }
        if forget_differences:
            values["differences_url"] = None
        with self.store.transaction() as s:
            s.execute(
                update(course_rosters)
                .where(course_rosters.c.course_id == row.course_id)
                .values(**values)
            )
        return RosterReport(course_id=row.course_id, mode=mode, error=message)

    def _apply(
        self,
        s: Connection,
        course_id: int,
        members: list[Member],
        *,
        mode: Literal["full", "differences"],
        now: datetime,
    ) -> RosterReport:
        e = course_enrolments.c
        known = {
            r.sub: r for r in s.execute(select(course_enrolments).where(e.course_id == course_id))
        }
        insert_new = self.store.insert_ignoring_conflicts(course_enrolments, "course_id", "sub")
        added = updated = deactivated = 0
        seen: set[str] = set()
        unchanged: list[int] = []
        for member in members:
            seen.add(member.user_id)
            name = _member_name(member)
            old = known.get(member.user_id)
            roles = json.dumps([member_role(member)]) if member.roles else None
            if old is None:
                if not member.active:
                    continue  # never here, and gone: nothing to keep
                s.execute(
                    insert_new.values(
                        course_id=course_id, sub=member.user_id, name=name or "",
                        email=member.email, time_zone="UTC", time_zone_source="course",
                        enrolled_at=now, groups="[]", roles=roles or '["learner"]',
                        source="roster", launched_at=None, active=True,
                        roster_status=member.status, roster_seen_at=now,
                    )
                )  # fmt: skip
                added += 1
                continue
            changes: dict[str, Any] = {
                "active": member.active,
                "roster_status": member.status,
                "roster_seen_at": now,
            }
            if name:
                changes["name"] = name
            if member.email:
                changes["email"] = member.email
            if roles:
                changes["roles"] = roles
            differs = any(getattr(old, k) != v for k, v in changes.items() if k != "roster_seen_at")
            if not differs:
                unchanged.append(old.id)  # only seen again: stamped in batches below
                continue
            if old.active and not member.active:
                deactivated += 1
            else:
                updated += 1
            s.execute(update(course_enrolments).where(e.id == old.id).values(**changes))
        for start in range(0, len(unchanged), _BATCH):
            s.execute(
                update(course_enrolments)
                .where(e.id.in_(unchanged[start : start + _BATCH]))
                .values(roster_seen_at=now)
            )
        if mode == "full":
            gone = [sub for sub, r in known.items() if sub not in seen and r.active]
            for start in range(0, len(gone), _BATCH):
                s.execute(
                    update(course_enrolments)
                    .where(and_(e.course_id == course_id, e.sub.in_(gone[start : start + _BATCH])))
                    .values(active=False, roster_status="absent", roster_seen_at=now)
                )
            deactivated += len(gone)
        return RosterReport(
            course_id=course_id,
            mode=mode,
            read=len(members),
            added=added,
            updated=updated,
            deactivated=deactivated,
        )


def _maybe(value: datetime | None) -> datetime | None:
    return aware(value) if value is not None else None
