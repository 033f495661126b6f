"""One-click unsubscribe tokens: valid for the course and tenant they were issued for only,
refused when changed, forged, moved to another course or tenant, or expired."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blendkit import AccessDenied
from blendkit.notify import UnsubscribeTokens


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2027, 3, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


TENANTS = {
    1: "1\0https://lms-a.example\0client-a\0dep-1\0bio-101",
    2: "2\0https://lms-b.example\0client-b\0dep-9\0chem-200",
}


def test_a_token_names_its_course_learner_and_channel() -> None:
    tokens = UnsubscribeTokens("secret-key")
    token = tokens.issue(1, TENANTS[1], "ana", "email")
    request = tokens.verify(token, TENANTS.get)
    assert (request.course_id, request.sub, request.channel) == (1, "ana", "email")
    assert "secret-key" not in repr(tokens)


def test_a_token_moved_to_another_course_or_tenant_is_refused() -> None:
    tokens = UnsubscribeTokens("secret-key")
    token = tokens.issue(1, TENANTS[1], "ana")
    # The same course row now belonging to another deployment (a reused id): refused.
    with pytest.raises(AccessDenied) as refused:
        tokens.verify(token, {1: TENANTS[2]}.get)
    assert refused.value.code == "notify.unsubscribe_invalid"
    # A course that does not exist: refused the same way (nothing to learn from the answer).
    with pytest.raises(AccessDenied, match="not valid"):
        tokens.verify(token, {}.get)
    # Another tool's key cannot mint tokens this one accepts.
    forged = UnsubscribeTokens("another-key").issue(1, TENANTS[1], "ana")
    with pytest.raises(AccessDenied, match="not valid"):
        tokens.verify(forged, TENANTS.get)


def test_changing_the_payload_breaks_the_signature() -> None:
    import base64
    import json

    tokens = UnsubscribeTokens("secret-key")
    token = tokens.issue(1, TENANTS[1], "ana", "email")
    signature = token.split(".")[1]
    for course, sub in ((2, "ana"), (1, "ben")):
        changed = (
            base64.urlsafe_b64encode(
                json.dumps([course, sub, "email", 1803859200], separators=(",", ":")).encode()
            )
            .rstrip(b"=")
            .decode()
        )
        with pytest.raises(AccessDenied, match="not valid"):
            tokens.verify(f"{changed}.{signature}", TENANTS.get)


def test_an_old_token_expires_with_its_own_reason() -> None:
    clock = Clock()
    tokens = UnsubscribeTokens("secret-key", max_age=timedelta(days=30), clock=clock)
    token = tokens.issue(1, TENANTS[1], "ana")
    clock.now += timedelta(days=31)
    with pytest.raises(AccessDenied) as refused:
        tokens.verify(token, TENANTS.get)
    assert refused.value.code == "notify.unsubscribe_expired"
    assert "expired" in refused.value.message
    assert token not in refused.value.message


@settings(max_examples=200, deadline=None)
@given(position=st.integers(min_value=0), replacement=st.sampled_from("AbZ09-_.=x"))
def test_any_changed_character_is_refused(position: int, replacement: str) -> None:
    tokens = UnsubscribeTokens("secret-key")
    token = tokens.issue(1, TENANTS[1], "ana", "email")
    at = position % len(token)
    changed = token[:at] + replacement + token[at + 1 :]
    if changed == token:
        return
    try:
        request = tokens.verify(changed, TENANTS.get)
    except AccessDenied as exc:
        code = exc.code
    else:  # base64 padding bits: the same bytes decoded, so the same request
        assert (request.course_id, request.sub, request.channel) == (1, "ana", "email")
        return
    assert code == "notify.unsubscribe_invalid"


@given(garbage=st.text(max_size=80))
def test_garbage_is_refused_not_crashed_on(garbage: str) -> None:
    with pytest.raises(AccessDenied):
        UnsubscribeTokens("k").verify(garbage, TENANTS.get)
