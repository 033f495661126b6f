"""The MeetingProvider contract, how providers are found, and processing webhooks once.

A provider is any object with the methods of :class:`MeetingProvider`. A distribution registers a
*factory* (usually the provider class itself) in the entry-point group
``blendkit.meeting_providers``; blendkit calls it as ``factory(settings, client=client)``, where
``client`` is an ``httpx.Client`` the caller may inject (tests pass one with a MockTransport).
"""

from __future__ import annotations

import threading
import warnings
from collections import OrderedDict
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from blendkit.errors import PluginError
from blendkit.plugins import MEETING_PROVIDERS_GROUP, PluginLoadWarning, load_plugins
from blendkit.sessions._answers import provider_answers
from blendkit.sessions._events import WebhookRequest, WebhookResult
from blendkit.sessions._models import (
    JoinLink,
    Learner,
    ParticipantRecord,
    ProviderMeeting,
    Recording,
    SessionSpec,
)

if TYPE_CHECKING:
    from datetime import datetime

    import httpx

    from blendkit.config import Settings

__all__ = [
    "EventLedger",
    "MeetingProvider",
    "MeetingProviderFactory",
    "MemoryEventLedger",
    "available_meeting_providers",
    "handle_webhook_once",
    "load_meeting_provider",
]


@runtime_checkable
class MeetingProvider(Protocol):
    """What blendkit needs from a video-meeting service (Zoom, Teams, the in-memory fake …).

    Methods raise :class:`~blendkit.errors.ProviderError` (or its subclasses
    ``ProviderAuthError``, ``ProviderRateLimited``) when the service fails, and
    :class:`~blendkit.errors.NotFound` when ``meeting_id`` does not exist there.
    """

    @property
    def name(self) -> str:
        """The entry-point name (``zoom``, ``teams``, ``fake``)."""
        ...

    def create_session(self, spec: SessionSpec) -> ProviderMeeting:
        """Create a one-off or recurring meeting (occurrences listed when the provider has them)."""
        ...

    def update_session(self, meeting_id: str, spec: SessionSpec) -> ProviderMeeting:
        """Change title, start, length, agenda or recurrence of an existing meeting."""
        ...

    def cancel_session(self, meeting_id: str, occurrence_id: str | None = None) -> None:
        """Cancel the whole meeting, or only one occurrence of a recurring one."""
        ...

    def move_occurrence(
        self, meeting_id: str, occurrence_id: str, start_utc: datetime, duration_minutes: int
    ) -> str:
        """Give one occurrence of a recurring meeting a new start and length; the rest stay.

        ``occurrence_id`` is the provider's occurrence id, or the occurrence's original start in
        ISO 8601 (``Occurrence.start_utc.isoformat()``; what iCalendar calls its RECURRENCE-ID).
        Returns the id that addresses the moved occurrence from now on (for a later move,
        cancellation or attendance read); it may differ from ``occurrence_id``.
        """
        ...

    def join_link(self, meeting_id: str, learner: Learner) -> JoinLink:
        """A personal join link for ``learner`` (registering them when the provider supports it)."""
        ...

    def fetch_attendance(
        self, meeting_id: str, occurrence_id: str | None = None
    ) -> list[ParticipantRecord]:
        """Every join/leave interval of a past meeting (or one past occurrence), all pages read."""
        ...

    def list_recordings(self, meeting_id: str) -> list[Recording]:
        """Every recording file of the meeting (video, audio, transcript, chat …)."""
        ...

    def handle_webhook(self, request: WebhookRequest) -> WebhookResult:
        """Verify and parse a webhook; raise WebhookRejected when forged, stale or malformed.

        Handshakes (Zoom url_validation, Graph validationToken) return the answer and no events.
        Events carry an ``event_id`` that stays the same when the provider redelivers them.
        """
        ...


class MeetingProviderFactory(Protocol):
    """What an entry point of ``blendkit.meeting_providers`` must load: a provider class works."""

    def __call__(
        self, settings: Settings, *, client: httpx.Client | None = None
    ) -> MeetingProvider: ...


def available_meeting_providers() -> dict[str, MeetingProviderFactory]:
    """Installed provider factories by name; broken or non-callable plugins warn and are skipped."""
    found: dict[str, MeetingProviderFactory] = {}
    for name, obj in load_plugins(MEETING_PROVIDERS_GROUP).items():
        if not callable(obj):
            warnings.warn(
                f"blendkit meeting provider {name!r} is not callable and is skipped: its entry "
                "point must name a class or function taking (settings, *, client=None)",
                PluginLoadWarning,
                stacklevel=2,
            )
            continue
        found[name] = obj  # checked by isinstance when the factory is called
    return found


def load_meeting_provider(
    settings: Settings, name: str | None = None, *, client: httpx.Client | None = None
) -> MeetingProvider:
    """Build the provider ``name`` (default ``settings.meeting_provider``) with ``client``.

    Raises :class:`PluginError` when it is not installed or does not fulfil the protocol.
    """
    wanted = name or settings.meeting_provider
    factories = available_meeting_providers()
    if wanted not in factories:
        available = ", ".join(sorted(factories)) or "none"
        raise PluginError(
            f"no meeting provider named {wanted!r} is installed (available: {available}); "
            "install its distribution (e.g. pip install blendkit-zoom), check "
            "BLENDKIT_DISABLE_PLUGINS, or set meeting_provider in the settings"
        )
    try:
        provider = factories[wanted](settings, client=client)
    except PluginError:
        raise
    except Exception as exc:
        raise PluginError(
            f"meeting provider {wanted!r} could not be created: {type(exc).__name__}: {exc}. "
            "Check its settings section"
        ) from exc
    if not isinstance(provider, MeetingProvider):
        raise PluginError(
            f"meeting provider {wanted!r} returned {type(provider).__name__}, which lacks methods "
            "of blendkit.sessions.MeetingProvider; upgrade the plugin"
        )
    return provider


@runtime_checkable
class EventLedger(Protocol):
    """Remembers processed webhook event ids so that redeliveries are processed once."""

    def first_time(self, provider: str, event_id: str) -> bool:
        """Record ``event_id``; True the first time it is seen, False for a duplicate."""
        ...


class MemoryEventLedger:
    """A thread-safe, bounded in-memory :class:`EventLedger` (the store offers a durable one)."""

    def __init__(self, capacity: int = 100_000) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._capacity = capacity
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, provider: str, event_id: str) -> bool:
        key = (provider, event_id)
        with self._lock:
            if key in self._seen:
                self._seen.move_to_end(key)
                return False
            self._seen[key] = None
            if len(self._seen) > self._capacity:
                self._seen.popitem(last=False)
            return True


def handle_webhook_once(
    provider: MeetingProvider, request: WebhookRequest, ledger: EventLedger
) -> WebhookResult:
    """Verify and parse ``request`` with ``provider``, dropping events ``ledger`` already saw.

    The response is unchanged, so a redelivery is still acknowledged and the provider stops
    retrying. Raises :class:`~blendkit.errors.WebhookRejected` like ``handle_webhook``.
    """
    with provider_answers(provider):
        result = provider.handle_webhook(request)
    fresh = tuple(e for e in result.events if ledger.first_time(provider.name, e.event_id))
    if len(fresh) == len(result.events):
        return result
    return result.model_copy(update={"events": fresh})
