"""Each feed event's ``SEQUENCE`` and ``LAST-MODIFIED``, kept in the store.

Blendkit's tables say what a session is now, not when it last changed; a calendar client needs
both a rising ``SEQUENCE`` and a ``LAST-MODIFIED`` to replace its copy of an event. So every
render compares a digest of each event's content with the one stored for it in that feed: the
same digest keeps the stored version, a new one raises the sequence and stamps the time. Two
concurrent renders agree (an insert that meets an existing row does nothing; an update only
applies over the digest it read).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from blendkit.courses._models import aware
from blendkit.store._tables_calendar import calendar_event_versions

if TYPE_CHECKING:
    from collections.abc import Mapping

    from blendkit.store import Store

__all__ = ["EventVersion", "content_digest", "reconcile_versions"]


@dataclass(frozen=True, slots=True)
class EventVersion:
    sequence: int
    modified_at: datetime


def content_digest(content: str) -> str:
    """The digest an event's significant content is compared by."""
    return hashlib.sha256(content.encode()).hexdigest()


def reconcile_versions(
    store: Store,
    course_id: int,
    scope: str,
    digests: Mapping[str, str],
    now: datetime,
) -> dict[str, EventVersion]:
    """The version of each event (by uid) after comparing ``digests`` with the stored ones."""
    table = calendar_event_versions.c
    found: dict[str, EventVersion] = {}
    with store.transaction() as s:
        rows = {
            r.uid: r
            for r in s.execute(
                select(table.uid, table.digest, table.sequence, table.modified_at).where(
                    table.course_id == course_id, table.scope == scope
                )
            )
        }
        fresh = [uid for uid in digests if uid not in rows]
        if fresh:
            insert_new = store.insert_ignoring_conflicts(
                calendar_event_versions, "course_id", "scope", "uid"
            )
            s.execute(
                insert_new,
                [
                    {"course_id": course_id, "scope": scope, "uid": uid,
                     "digest": digests[uid], "sequence": 0, "modified_at": now}
                    for uid in fresh
                ],
            )  # fmt: skip
            found.update({uid: EventVersion(0, now) for uid in fresh})
        for uid, row in rows.items():
            wanted = digests.get(uid)
            if wanted is None:
                continue
            if row.digest == wanted:
                found[uid] = EventVersion(row.sequence, aware(row.modified_at))
                continue
            s.execute(
                update(calendar_event_versions)
                .where(
                    table.course_id == course_id,
                    table.scope == scope,
                    table.uid == uid,
                    table.digest == row.digest,
                )
                .values(digest=wanted, sequence=row.sequence + 1, modified_at=now)
            )
            found[uid] = EventVersion(row.sequence + 1, now)
    return found
