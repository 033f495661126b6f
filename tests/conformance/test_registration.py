"""LTI Dynamic Registration through every adapter, against the project's Moodle-like and
Canvas-like test platforms (``tests/lti/registration_platforms.py``: lti1p3platform has none)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from blendkit.lti import StorePlatformRegistry
from blendkit.lti._admin import Administrator
from blendkit.lti._invites import RegistrationInvites
from tests.conformance.deployment import ToolUnderTest
from tests.lti.registration_platforms import RegistrationPlatform, serve

pytestmark = pytest.mark.e2e


@pytest.fixture(params=["moodle", "canvas"])
def registering(request: pytest.FixtureRequest) -> Iterator[RegistrationPlatform]:
    yield from serve(RegistrationPlatform(kind=request.param))


def _invite(tool: ToolUnderTest) -> str:
    by = Administrator.command_line("conformance")
    return RegistrationInvites(tool.store).create(expires_in=timedelta(hours=1), by=by).token


def _register(
    client: httpx.Client, tool: ToolUnderTest, platform: RegistrationPlatform, invite: str | None
) -> httpx.Response:
    params = {"openid_configuration": platform.config_url, "registration_token": platform.token}
    if invite is not None:
        params["invite"] = invite
    return client.get(tool.path("/lti/register"), params=params)


def test_registration_with_an_invite_stores_the_platform(
    tool: ToolUnderTest, client: httpx.Client, registering: RegistrationPlatform
) -> None:
    page = _register(client, tool, registering, _invite(tool))
    assert page.status_code == 200, page.text
    assert page.headers["cache-control"] == "no-store"
    assert "org.imsglobal.lti.close" in page.text
    (post,) = [r for r in registering.requests if r[0] == "POST"]
    body = post[3]
    assert body["initiate_login_uri"] == tool.path("/lti/login")
    assert body["redirect_uris"] == [tool.path("/lti/launch")]
    assert body["jwks_uri"] == tool.path("/lti/jwks")
    stored = [p for p in StorePlatformRegistry(tool.store).list() if p.issuer == registering.issuer]
    assert len(stored) == 1
    assert stored[0].client_id in page.text
    assert stored[0].invited_by == "conformance"


def test_registration_without_an_invite_never_calls_the_platform(
    tool: ToolUnderTest, client: httpx.Client, registering: RegistrationPlatform
) -> None:
    page = _register(client, tool, registering, None)
    assert page.status_code in {401, 403}, page.text
    assert "lti.registration_invite_missing" in page.text
    assert registering.requests == []
    assert all(p.issuer != registering.issuer for p in StorePlatformRegistry(tool.store).list())
