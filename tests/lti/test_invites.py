"""Registration invites on SQLite and PostgreSQL: hashed, one-time, expiring, revocable."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from blendkit.errors import AccessDenied, NotFound, RegistrationError
from blendkit.lti import Administrator, RegistrationInvites, parse_lifetime
from blendkit.store import Store
from blendkit.store._tables_core import lti_registration_invites

ALICE = Administrator.command_line("alice")


def _codes(invites: RegistrationInvites, token: str) -> str:
    with pytest.raises(RegistrationError) as caught:
        invites.check(token)
    return caught.value.code


def test_only_a_hash_of_the_token_is_stored(store: Store) -> None:
    minted = RegistrationInvites(store).create(
        expires_in=timedelta(hours=1), by=ALICE, note="Moodle", host="Moodle.Example.edu"
    )
    assert len(minted.token) >= 40
    assert minted.token not in repr(minted)
    assert minted.url("https://tool.example.edu/lti/register") == (
        f"https://tool.example.edu/lti/register?invite={minted.token}"
    )
    with store.transaction() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(lti_registration_invites))]
    assert len(rows) == 1
    assert minted.token not in str(rows)
    assert minted.invite.host == "moodle.example.edu"
    assert minted.invite.host_allowed("moodle.example.edu")
    assert not minted.invite.host_allowed("evil.example.edu")


def test_an_invite_is_used_once_and_only_while_valid(store: Store) -> None:
    now = datetime.now(UTC)
    clock = [now]
    invites = RegistrationInvites(store, clock=lambda: clock[0])
    minted = invites.create(expires_in=timedelta(minutes=30), by=ALICE)
    assert invites.check(minted.token).id == minted.invite.id
    assert [i.id for i in invites.active()] == [minted.invite.id]
    used = invites.consume(minted.token, issuer="https://lms.example.edu", client_id="c1")
    assert used.used_issuer == "https://lms.example.edu"
    assert used.used_client_id == "c1"
    assert _codes(invites, minted.token) == "lti.registration_invite_used"
    with pytest.raises(RegistrationError) as caught:
        invites.consume(minted.token, issuer="https://other.example.edu", client_id="c2")
    assert caught.value.code == "lti.registration_invite_used"
    assert invites.active() == []

    later = invites.create(expires_in=timedelta(minutes=30), by=ALICE)
    clock[0] = now + timedelta(minutes=31)
    assert _codes(invites, later.token) == "lti.registration_invite_expired"
    with pytest.raises(RegistrationError) as caught:
        invites.consume(later.token, issuer="https://lms.example.edu", client_id="c3")
    assert caught.value.code == "lti.registration_invite_expired"
    assert _codes(invites, "nope") == "lti.registration_invite_unknown"
    with pytest.raises(RegistrationError) as missing:
        invites.check(None)
    assert missing.value.code == "lti.registration_invite_missing"


def test_revoking(store: Store) -> None:
    invites = RegistrationInvites(store)
    minted = invites.create(expires_in=timedelta(hours=1), by=ALICE)
    invites.revoke(minted.invite.id, by=ALICE)
    assert _codes(invites, minted.token) == "lti.registration_invite_revoked"
    assert invites.active() == []
    with pytest.raises(NotFound):
        invites.revoke(9999, by=ALICE)
    used = invites.create(expires_in=timedelta(hours=1), by=ALICE)
    invites.consume(used.token, issuer="https://lms.example.edu", client_id="c")
    with pytest.raises(RegistrationError) as caught:
        invites.revoke(used.invite.id, by=ALICE)
    assert caught.value.code == "lti.registration_invite_used"


def test_concurrent_uses_of_one_invite_register_once(store: Store) -> None:
    invites = RegistrationInvites(store)
    minted = invites.create(expires_in=timedelta(hours=1), by=ALICE)
    start = threading.Barrier(6)
    outcomes: list[str] = []
    lock = threading.Lock()

    def use(n: int) -> None:
        start.wait()
        try:
            invites.consume(minted.token, issuer="https://lms.example.edu", client_id=f"c{n}")
            outcome = "used"
        except RegistrationError as exc:
            outcome = exc.code
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=use, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["lti.registration_invite_used"] * 5 + ["used"]


def test_invites_need_a_bounded_lifetime_a_name_and_a_plain_host(store: Store) -> None:
    invites = RegistrationInvites(store)
    for lifetime in (timedelta(seconds=10), timedelta(days=8)):
        with pytest.raises(RegistrationError) as caught:
            invites.create(expires_in=lifetime, by=ALICE)
        assert caught.value.code == "lti.registration_invite_lifetime"
    with pytest.raises(RegistrationError):
        invites.create(expires_in=timedelta(hours=1), by=Administrator.command_line(" "))
    for host in ("https://lms.example.edu", "lms.example.edu:443", "lms.example.edu/x"):
        with pytest.raises(RegistrationError):
            invites.create(expires_in=timedelta(hours=1), by=ALICE, host=host)


@given(st.integers(min_value=0, max_value=10_000), st.sampled_from("smhd"))
def test_lifetimes_parse_or_are_refused_within_one_minute_to_seven_days(
    number: int, unit: str
) -> None:
    seconds = number * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit]
    if 60 <= seconds <= 7 * 86400:
        assert parse_lifetime(f"{number}{unit}") == timedelta(seconds=seconds)
    else:
        with pytest.raises(RegistrationError):
            parse_lifetime(f"{number}{unit}")


@given(st.text(max_size=8))
def test_lifetime_text_never_crashes(text: str) -> None:
    codes: list[str] = []
    try:
        parse_lifetime(text)
    except RegistrationError as exc:
        codes.append(exc.code)
    assert codes in ([], ["lti.registration_invite_lifetime"])


def test_only_tool_administrators_mint_and_revoke_invites(store: Store) -> None:
    invites = RegistrationInvites(store)
    head_of_school = Administrator(
        name="head at https://lms.example.edu",
        tool_wide=False,
        issuer="https://lms.example.edu",
        client_id="c",
        deployment_id="d",
    )
    with pytest.raises(AccessDenied) as caught:
        invites.create(expires_in=timedelta(hours=1), by=head_of_school)
    assert caught.value.code == "admin.tool_admins_only"
    minted = invites.create(expires_in=timedelta(hours=1), by=ALICE)
    assert minted.invite.created_by == "alice"
    with pytest.raises(AccessDenied):
        invites.revoke(minted.invite.id, by=head_of_school)
    assert [i.id for i in invites.active()] == [minted.invite.id]
