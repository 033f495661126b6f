"""The core of StatementFactory: its settings, the cached activities, registrations and
context sets, and the assembly of the final statement."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any
from urllib.parse import quote

from pydantic import ValidationError

from blendkit.errors import StatementInvalid
from blendkit.xapi._assembly import _actor_key, _assemble
from blendkit.xapi._models import (
    Activity,
    ActivityDefinition,
    Agent,
    ContextActivities,
    Statement,
    StatementContext,
    StatementResult,
    Verb,
)
from blendkit.xapi._vocab import ADL

_REGISTRATION_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:blendkit:xapi:registration")
_CACHE_SIZE = 10_000
_ID = attrgetter("id")


def _now() -> datetime:
    return datetime.now(UTC)


class _FactoryCore:
    """What every builder of :class:`StatementFactory` uses (the builders live in mixins)."""

    def __init__(
        self,
        tool_iri: str,
        *,
        platform: str = "blendkit",
        language: str | None = "en",
        clock: Callable[[], datetime] = _now,
    ) -> None:
        # Checked once here, so the hot builders can reuse them without re-validation.
        try:
            checked = StatementContext(platform=platform, language=language)
            Activity(id=f"{tool_iri.rstrip('/')}/xapi")
        except ValidationError as exc:
            raise StatementInvalid(
                f"StatementFactory: tool_iri must be an absolute IRI and language an RFC 5646 "
                f"tag ({exc.errors()[0]['loc'][0]}: {exc.errors()[0]['msg']})"
            ) from exc
        self.tool_iri = tool_iri.rstrip("/")
        self.platform = checked.platform or platform
        self.language = checked.language
        self.clock = clock
        # Activities and context sets recur in almost every statement: build (and serialise)
        # each once. Bounded: cleared when they grow past _CACHE_SIZE entries.
        self._activities: dict[tuple[str, str, str, str | None], Activity] = {}
        self._registrations: dict[str, uuid.UUID] = {}
        self._context_sets: dict[tuple[Any, ...], ContextActivities] = {}

    # --- shared pieces ----------------------------------------------------------------------

    def activity_iri(self, kind: str, local_id: str) -> str:
        """``<tool>/xapi/<kind>/<id>``; a full http(s) IRI passes through unchanged."""
        if local_id.startswith(("http://", "https://")):
            return local_id
        return f"{self.tool_iri}/xapi/{kind}/{quote(str(local_id), safe='')}"

    def activity(self, kind: str, local_id: str, type_iri: str, name: str | None) -> Activity:
        """An Activity with a type and an optional name in the factory's language (cached)."""
        key = (kind, local_id, type_iri, name)
        found = self._activities.get(key)
        if found is None:
            names = {self.language or "en": name} if name else None
            found = Activity(
                id=self.activity_iri(kind, local_id),
                definition=ActivityDefinition(type=type_iri, name=names),
            )
            if len(self._activities) > _CACHE_SIZE:
                self._activities.clear()
            self._activities[key] = found
        return found

    def registration(self, actor: Agent, course_id: str) -> uuid.UUID:
        """A stable registration id for one learner in one course (context.registration)."""
        return self._registration(_actor_key(actor), course_id)

    def _registration(self, actor_key: str, course_id: str) -> uuid.UUID:
        key = f"{actor_key}\x1f{course_id}"
        found = self._registrations.get(key)
        if found is None:
            found = uuid.uuid5(_REGISTRATION_NAMESPACE, key)
            if len(self._registrations) > _CACHE_SIZE:
                self._registrations.clear()
            self._registrations[key] = found
        return found

    def _course(self, course_id: str | None, name: str | None = None) -> list[Activity] | None:
        if course_id is None:
            return None
        return [self.activity("course", course_id, ADL.COURSE_TYPE, name)]

    def _context_activities(
        self,
        course_id: str | None,
        category: tuple[Activity, ...] = (),
        other: tuple[Activity, ...] = (),
    ) -> ContextActivities:
        key = (course_id, tuple(map(_ID, category)), tuple(map(_ID, other)))
        found = self._context_sets.get(key)
        if found is None:
            found = ContextActivities(
                parent=self._course(course_id),
                category=list(category) or None,
                other=list(other) or None,
            )
            if len(self._context_sets) > _CACHE_SIZE:
                self._context_sets.clear()
            self._context_sets[key] = found
        return found

    def _statement(
        self,
        sid: uuid.UUID,
        actor: Agent,
        verb: Verb,
        obj: Activity,
        *,
        at: datetime | None,
        result: StatementResult | None = None,
        context: StatementContext | None = None,
    ) -> Statement:
        when = at or self.clock()
        if when.tzinfo is None:
            raise StatementInvalid("timestamp: give an aware datetime (e.g. datetime.now(UTC))")
        # Every part is already a validated value and the builder guarantees the statement-level
        # rules (Activity object, registration UUID, aware timestamp), so assemble without a
        # second validation pass: this is the emit hot path.
        return _assemble(
            Statement,
            {
                "id": sid,
                "actor": actor,
                "verb": verb,
                "object": obj,
                "result": result,
                "context": context,
                "timestamp": when,
                "stored": None,
                "authority": None,
                "version": None,
                "attachments": None,
            },
            {"id", "actor", "verb", "object", "result", "context", "timestamp"},
        )
