"""Finding 1: registration is an act of an administrator, and administration has an owner.

Before: ``/lti/register`` registered any platform that opened it (on by default, no allow-list
before the fetch), and any launch with an Administrator role from any registered platform could
list, add (under another platform's issuer) and remove every registration at ``/admin``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from blendkit.cli import cli
from tests.lti.registration_platforms import RegistrationPlatform, serve
from tests.security.registration_kit import (
    CONTEXT_ADMIN,
    INSTITUTION_ADMIN,
    INSTRUCTOR,
    ISSUER_A,
    ISSUER_B,
    SYSTEM_ADMIN,
    TOOL_BASE,
    Tenants,
    connections_made,
    error_code,
    listening_socket,
    mint_invite,
    registration_client,
    two_tenants,
)


@pytest.fixture(autouse=True)
def _tool_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI reads the same settings as the tool: its links carry the tool's base URL."""
    monkeypatch.setenv("BLENDKIT_TOOL_BASE_URL", TOOL_BASE)


@pytest.fixture
def moodle() -> Iterator[RegistrationPlatform]:
    yield from serve(RegistrationPlatform(kind="moodle"))


@pytest.fixture
def canvas() -> Iterator[RegistrationPlatform]:
    yield from serve(RegistrationPlatform(kind="canvas"))


def _register(client, platform: RegistrationPlatform, invite: str | None = None):  # type: ignore[no-untyped-def]
    query = {"openid_configuration": platform.config_url, "registration_token": platform.token}
    if invite is not None:
        query["invite"] = invite
    return client.get("/lti/register", query_string=query)


def _platforms() -> list[dict[str, object]]:
    listed = CliRunner().invoke(cli, ["platform", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    return json.loads(listed.output)  # type: ignore[no-any-return]


# --- registration needs an invite ------------------------------------------------------------


def test_registration_is_off_by_default(moodle: RegistrationPlatform) -> None:
    answer = _register(registration_client(), moodle)
    assert answer.status_code == 403
    assert error_code(answer) == "lti.registration_disabled"
    assert moodle.requests == [], "no network call is made"
    assert _platforms() == []


def test_registration_without_an_invite_is_refused_before_any_network_call(
    moodle: RegistrationPlatform,
) -> None:
    answer = _register(registration_client(registration_enabled=True), moodle)
    assert answer.status_code == 403
    assert error_code(answer) == "lti.registration_invite_missing"
    assert moodle.requests == []
    assert _platforms() == []


def test_an_invite_registers_one_platform_once_and_records_who_invited_it(
    moodle: RegistrationPlatform, canvas: RegistrationPlatform
) -> None:
    url, token = mint_invite("--expires", "1h", "--by", "ops-alice", "--note", "Moodle prod")
    assert url == f"{TOOL_BASE}/lti/register?invite={token}"
    client = registration_client(registration_enabled=True)
    first = _register(client, moodle, token)
    assert first.status_code == 200, first.get_data(as_text=True)
    assert token not in first.get_data(as_text=True)
    (stored,) = _platforms()
    assert stored["issuer"] == moodle.issuer
    assert stored["invited_by"] == "ops-alice"
    assert isinstance(stored["invite_id"], int)
    registered = datetime.fromisoformat(str(stored["registered_at"]))
    assert abs(registered - datetime.now(UTC)) < timedelta(minutes=5)
    again = _register(client, canvas, token)
    assert again.status_code == 403
    assert error_code(again) == "lti.registration_invite_used"
    assert canvas.requests == [], "a used invite makes no network call"
    assert len(_platforms()) == 1
    listed = CliRunner().invoke(cli, ["platform", "invites"])
    assert "no active invite" in listed.output


def test_unknown_expired_and_revoked_invites_make_no_network_call(
    moodle: RegistrationPlatform, tmp_path: Path
) -> None:
    from blendkit import Store, load_settings
    from blendkit.lti import Administrator, RegistrationInvites

    client = registration_client(registration_enabled=True)
    unknown = _register(client, moodle, "not-an-invite")
    assert (unknown.status_code, error_code(unknown)) == (403, "lti.registration_invite_unknown")

    store = Store.from_settings(load_settings())
    store.migrate()
    two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
    old = RegistrationInvites(store, clock=lambda: two_hours_ago).create(
        expires_in=timedelta(hours=1), by=Administrator.command_line("ops")
    )
    expired = _register(client, moodle, old.token)
    assert (expired.status_code, error_code(expired)) == (403, "lti.registration_invite_expired")

    _, token = mint_invite("--expires", "30m")
    listed = CliRunner().invoke(cli, ["platform", "invites", "--json"])
    (active,) = json.loads(listed.output)
    assert token not in listed.output, "listing never shows a token"
    revoked = CliRunner().invoke(cli, ["platform", "revoke-invite", str(active["id"])])
    assert revoked.exit_code == 0, revoked.output
    refused = _register(client, moodle, token)
    assert (refused.status_code, error_code(refused)) == (403, "lti.registration_invite_revoked")
    assert moodle.requests == []
    assert _platforms() == []
    store.dispose()


def test_allow_list_and_invite_host_are_checked_before_any_connection() -> None:
    with listening_socket() as (sock, port):
        config = f"http://127.0.0.1:{port}/.well-known/openid-configuration"
        query = {"openid_configuration": config, "registration_token": "t"}
        _, token = mint_invite("--expires", "1h")
        client = registration_client(
            registration_enabled=True, registration_allowed_hosts=["lms.example.edu"]
        )
        refused = client.get("/lti/register", query_string={**query, "invite": token})
        assert refused.status_code == 403
        assert error_code(refused) == "lti.registration_issuer_not_allowed"

        _, pinned = mint_invite("--expires", "1h", "--host", "moodle.example.edu")
        open_client = registration_client(registration_enabled=True)
        other_host = open_client.get("/lti/register", query_string={**query, "invite": pinned})
        assert other_host.status_code == 403
        assert error_code(other_host) == "lti.registration_invite_host_mismatch"
        assert connections_made(sock) == 0
    listed = json.loads(CliRunner().invoke(cli, ["platform", "invites", "--json"]).output)
    assert len(listed) == 2, "a refused attempt does not use the invite up"


def test_a_failed_registration_leaves_the_invite_usable(moodle: RegistrationPlatform) -> None:
    _, token = mint_invite("--expires", "1h")
    client = registration_client(registration_enabled=True)
    wrong = client.get(
        "/lti/register",
        query_string={
            "openid_configuration": moodle.config_url,
            "registration_token": "stale",
            "invite": token,
        },
    )
    assert error_code(wrong) == "lti.registration_refused"
    assert _platforms() == []
    assert _register(client, moodle, token).status_code == 200
    assert len(_platforms()) == 1


def test_the_invite_token_never_reaches_a_log_line(
    moodle: RegistrationPlatform, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _, token = mint_invite("--expires", "1h")
    client = registration_client(registration_enabled=True)
    assert _register(client, moodle, token).status_code == 200
    assert _register(client, moodle, token).status_code == 403
    assert _register(client, moodle, token + "x").status_code == 403
    assert caplog.records, "the refusals are logged"
    for record in caplog.records:
        assert token not in record.getMessage()


# --- administration has an owner -------------------------------------------------------------


@pytest.fixture
def tenants(tmp_path: Path) -> Iterator[Tenants]:
    found = two_tenants(f"sqlite:///{tmp_path / 'tenants.sqlite3'}", admins=[])
    yield found
    found.store.dispose()


B_UNDER_ATTACK = {
    "name": "mine",
    "issuer": ISSUER_B,
    "client_id": "attacker",
    "deployment_id": "1",
    "auth_login_url": "https://attacker.example/auth",
    "auth_token_url": "https://attacker.example/token",
    "jwks_url": "https://attacker.example/jwks",
}


@pytest.mark.parametrize("role", [INSTITUTION_ADMIN, SYSTEM_ADMIN])
def test_an_lms_administrator_sees_and_touches_only_their_own_registration(
    tenants: Tenants, role: str
) -> None:
    admin_a = tenants.launch("head-a", (role,))
    page = tenants.get("/admin", admin_a)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert ISSUER_A in text
    assert ISSUER_B not in text
    assert "client-b" not in text
    assert "Add registration" not in text
    added = tenants.post("/admin/platforms", admin_a, B_UNDER_ATTACK)
    assert added.status_code == 403
    own_issuer = {**B_UNDER_ATTACK, "issuer": ISSUER_A}
    assert tenants.post("/admin/platforms", admin_a, own_issuer).status_code == 403
    removed = tenants.post(
        "/admin/platforms/remove", admin_a, {"issuer": ISSUER_B, "client_id": "client-b"}
    )
    assert removed.status_code == 403
    assert tenants.post("/admin/outbox/retry", admin_a).status_code == 403
    minted = tenants.post("/admin/invites", admin_a, {"expires": "1h"})
    assert (minted.status_code, error_code(minted)) == (403, "admin.tool_admins_only")
    assert "invite=" not in minted.get_data(as_text=True)
    assert tenants.registrations() == {(ISSUER_A, "client-a"), (ISSUER_B, "client-b")}


def test_a_context_administrator_is_no_administrator_of_the_tool(tenants: Tenants) -> None:
    course_admin = tenants.launch("course-admin", (CONTEXT_ADMIN,))
    assert tenants.get("/admin", course_admin).status_code == 403
    assert tenants.post("/admin/platforms", course_admin, B_UNDER_ATTACK).status_code == 403
    assert tenants.registrations() == {(ISSUER_A, "client-a"), (ISSUER_B, "client-b")}


def test_tool_administrators_named_in_settings_manage_every_registration(
    tmp_path: Path,
) -> None:
    tenants = two_tenants(
        f"sqlite:///{tmp_path / 'admins.sqlite3'}",
        admins=[{"issuer": ISSUER_A, "sub": "root"}, {"issuer": ISSUER_B, "sub": "root-b"}],
    )
    try:
        root = tenants.launch("root", (INSTRUCTOR,))
        page = tenants.get("/admin", root).get_data(as_text=True)
        assert ISSUER_A in page
        assert ISSUER_B in page
        assert "Add registration" in page
        new = {**B_UNDER_ATTACK, "client_id": "client-b2"}
        assert tenants.post("/admin/platforms", root, new).status_code == 302
        removed = tenants.post(
            "/admin/platforms/remove", root, {"issuer": ISSUER_B, "client_id": "client-b"}
        )
        assert removed.status_code == 302
        assert tenants.post("/admin/outbox/retry", root).status_code == 302
        minted = tenants.post("/admin/invites", root, {"expires": "30m", "note": "Canvas"})
        assert minted.status_code == 200
        assert "/lti/register?invite=" in minted.get_data(as_text=True)
        listed = tenants.get("/admin", root).get_data(as_text=True)
        assert "root at " + ISSUER_A in listed
        assert "invite=" not in listed, "the overview never shows a token"
        assert tenants.registrations() == {(ISSUER_A, "client-a"), (ISSUER_B, "client-b2")}
        # A sub is unique only within its platform: B's "root-b" launching from A is nobody.
        impostor = tenants.launch("root-b", (INSTRUCTOR,))
        assert tenants.get("/admin", impostor).status_code == 403
        # …and a sub named for A does not make someone with that sub on B an administrator.
        b_root = tenants.launch("root", (INSTRUCTOR,), issuer=ISSUER_B, client_id="client-b2")
        assert tenants.get("/admin", b_root).status_code == 403
    finally:
        tenants.store.dispose()
