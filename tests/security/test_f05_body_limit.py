"""Finding 5: a huge POST to a webhook route was read whole before the 401.

Every request body of an app using the Flask adapter is capped before it is read: a declared
Content-Length above the cap is refused with 413 without reading a byte, and a chunked body is
cut off after at most the cap. Memory is shown by the bytes taken from ``wsgi.input``.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st

from blendkit import RequestTooLarge, Settings, Store
from blendkit.limits import CappedStream, RequestLimits, read_at_most
from blendkit.sessions import FakeMeetingProvider

WEBHOOK_CAP = 8_192
PAGE_CAP = 65_536
HUGE = 64 * 1024 * 1024


class CountingInput:
    """A ``wsgi.input`` that makes up ``total`` bytes on demand and counts what was taken."""

    def __init__(self, total: int, byte: bytes = b"{") -> None:
        self.total = total
        self.byte = byte
        self.taken = 0

    def read(self, size: int | None = -1) -> bytes:
        left = self.total - self.taken
        count = left if size is None or size < 0 else min(size, left)
        self.taken += count
        return self.byte * count

    def readline(self, size: int | None = -1) -> bytes:
        return self.read(size if size is not None and size >= 0 else 65_536)


def _chunked(body: CountingInput) -> dict[str, object]:
    """The environ a WSGI server builds for a chunked request (no Content-Length)."""
    return {
        "wsgi.input": body,
        "wsgi.input_terminated": True,
        "HTTP_TRANSFER_ENCODING": "chunked",
    }


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    from blendkit_examples.flask_app import create_app

    settings = Settings(
        database={"url": f"sqlite:///{tmp_path / 'tool.sqlite3'}"},
        tool={
            "base_url": "http://tool.test",
            "secret_key": "test-secret",
            "max_webhook_bytes": WEBHOOK_CAP,
            "max_request_bytes": PAGE_CAP,
        },
        # On, so /lti/register reads its body (switched off it refuses before reading any).
        lti={"registration_enabled": True},
        zoom={
            "account_id": "acct",
            "client_id": "zoom-client",
            "client_secret": "zoom-client-secret",
            "webhook_secret": "zoom-secret",
        },
        teams={
            "tenant_id": "tenant",
            "client_id": "teams-client",
            "client_secret": "teams-client-secret",
            "organizer": "organizer@example.edu",
            "client_state": "teams-client-state",
        },
    )
    store = Store(settings.database.url)
    provider = FakeMeetingProvider(max_webhook_age=timedelta(days=30))
    yield create_app(settings, store=store, provider=provider, migrate=True, TESTING=True)
    store.dispose()


ROUTES = ["/webhooks/fake", "/webhooks/zoom", "/webhooks/teams", "/lti/launch", "/lti/register"]


@pytest.mark.parametrize("route", ROUTES)
def test_declared_huge_body_is_refused_before_a_byte_is_read(app: Flask, route: str) -> None:
    body = CountingInput(HUGE)
    answer = app.test_client().post(
        route,
        content_type="application/json",
        environ_overrides={"wsgi.input": body, "CONTENT_LENGTH": str(HUGE)},
    )
    assert answer.status_code == 413
    assert "request.too_large" in answer.get_data(as_text=True)
    assert body.taken == 0


@pytest.mark.parametrize("route", ROUTES)
def test_chunked_huge_body_is_cut_at_the_cap(app: Flask, route: str) -> None:
    body = CountingInput(HUGE, byte=b"a")
    answer = app.test_client().post(
        route, content_type="application/x-www-form-urlencoded", environ_overrides=_chunked(body)
    )
    assert answer.status_code == 413
    assert "request.too_large" in answer.get_data(as_text=True)
    assert body.taken <= WEBHOOK_CAP + 1


def test_chunked_form_post_to_a_page_is_cut_at_the_page_cap(app: Flask) -> None:
    body = CountingInput(HUGE, byte=b"a")
    answer = app.test_client().post(
        "/teach/path/document",
        content_type="application/x-www-form-urlencoded",
        environ_overrides=_chunked(body),
    )
    assert answer.status_code == 413
    assert body.taken <= PAGE_CAP + 1


def test_a_webhook_under_the_cap_still_reaches_its_provider(app: Flask) -> None:
    body = b'{"event": "meeting.ended", "payload": {}}'
    answer = app.test_client().post("/webhooks/fake", data=body, content_type="application/json")
    assert answer.status_code == 401  # unsigned: refused by the provider, not by size
    assert "sessions.webhook_unsigned" in answer.get_data(as_text=True)


def test_a_page_body_between_the_two_caps_is_read(app: Flask) -> None:
    answer = app.test_client().post(
        "/teach/path/document",
        data={"launch": "some-launch", "document": "x" * (WEBHOOK_CAP * 2)},
    )
    # The form was parsed (its launch field read), then refused for its missing CSRF token.
    assert answer.status_code == 403
    assert "app.csrf_failed" in answer.get_data(as_text=True)


# --- the library's rule, shared by every adapter ---------------------------------------------


@given(cap=st.integers(1, 5_000), size=st.integers(0, 10_000), chunk=st.integers(1, 700))
def test_capped_stream_never_takes_more_than_cap_plus_one(cap: int, size: int, chunk: int) -> None:
    source = CountingInput(size)
    stream = CappedStream(source, cap)
    got = b""
    try:
        while part := stream.read(chunk):
            got += part
    except RequestTooLarge:
        assert size > cap
    else:
        assert size <= cap
        assert len(got) == size
    assert source.taken <= cap + 1


@given(cap=st.integers(1, 5_000), size=st.integers(0, 10_000))
def test_read_at_most_returns_the_body_or_refuses(cap: int, size: int) -> None:
    data = b"z" * size
    raw = io.BytesIO(data)
    if size <= cap:
        assert read_at_most(raw, cap) == data
    else:
        with pytest.raises(RequestTooLarge):
            read_at_most(raw, cap)
        assert raw.tell() <= cap + 1
    with pytest.raises(RequestTooLarge):
        read_at_most(io.BytesIO(b""), cap, declared=cap + 1)


def test_webhook_and_lti_paths_get_the_smaller_cap() -> None:
    limits = RequestLimits(max_request_bytes=1000, max_webhook_bytes=10)
    assert limits.cap_for("/webhooks/zoom") == 10
    assert limits.cap_for("/lti/launch") == 10
    assert limits.cap_for("/course") == 1000
    with pytest.raises(RequestTooLarge) as refused:
        limits.check_declared("/webhooks/zoom", 11)
    assert refused.value.http_status == 413
    assert limits.check_declared("/course", 11) == 1000
