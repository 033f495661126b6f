"""The per-process registration cache: fewer reads, local changes at once, others after the TTL."""

from __future__ import annotations

import pytest

from blendkit.errors import NotFound
from blendkit.lti import CachedPlatformRegistry, InMemoryPlatformRegistry, Platform
from tests.lti.launch_kit import CLIENT_ID, ISSUER, canvas_platform


class CountingRegistry(InMemoryPlatformRegistry):
    def __init__(self, platforms: list[Platform]) -> None:
        super().__init__(platforms)
        self.reads = 0

    def for_issuer(self, issuer: str) -> list[Platform]:
        self.reads += 1
        return super().for_issuer(issuer)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _cached() -> tuple[CountingRegistry, CachedPlatformRegistry, Clock]:
    inner = CountingRegistry([canvas_platform()])
    clock = Clock()
    return inner, CachedPlatformRegistry(inner, ttl_seconds=5, clock=clock), clock


def test_repeated_lookups_within_the_ttl_read_the_store_once() -> None:
    inner, cached, clock = _cached()
    for _ in range(10):
        assert cached.get(ISSUER, CLIENT_ID).client_id == CLIENT_ID
        assert [p.client_id for p in cached.for_issuer(ISSUER)] == [CLIENT_ID]
    assert inner.reads == 1
    clock.now += 5.1
    cached.get(ISSUER, CLIENT_ID)
    assert inner.reads == 2


def test_changes_elsewhere_are_seen_after_the_ttl() -> None:
    inner, cached, clock = _cached()
    cached.get(ISSUER, CLIENT_ID)
    inner.remove(ISSUER, CLIENT_ID)  # e.g. `blendkit platform remove` in another process
    assert cached.get(ISSUER, CLIENT_ID).client_id == CLIENT_ID
    clock.now += 6
    with pytest.raises(NotFound):
        cached.get(ISSUER, CLIENT_ID)


def test_changes_through_the_cache_take_effect_at_once() -> None:
    _, cached, _ = _cached()
    cached.get(ISSUER, CLIENT_ID)
    assert cached.add_deployment(ISSUER, CLIENT_ID, "dep-2").deployment_ids[-1] == "dep-2"
    assert "dep-2" in cached.get(ISSUER, CLIENT_ID).deployment_ids
    cached.add(canvas_platform(client_id="second"))
    assert {p.client_id for p in cached.for_issuer(ISSUER)} == {CLIENT_ID, "second"}
    cached.remove(ISSUER, CLIENT_ID)
    with pytest.raises(NotFound):
        cached.get(ISSUER, CLIENT_ID)


def test_unknown_client_is_not_found_and_cached_lists_are_copies() -> None:
    _, cached, _ = _cached()
    with pytest.raises(NotFound):
        cached.get(ISSUER, "nobody")
    cached.for_issuer(ISSUER).clear()
    assert cached.for_issuer(ISSUER)
