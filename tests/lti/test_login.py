"""OIDC login initiation: the redirect to the platform, the browser binding, refusals."""

from __future__ import annotations

import hashlib
import html
import re
from urllib.parse import urlsplit

import pytest

from blendkit.errors import LaunchRejected
from blendkit.lti import HttpRequest
from tests.lti.launch_kit import (
    AUTH_URL,
    CLIENT_ID,
    DROP,
    ISSUER,
    OTHER_CLIENT_ID,
    TARGET,
    Kit,
    canvas_platform,
)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_login_redirects_to_platform_with_oidc_parameters(method: str) -> None:
    kit = Kit()
    login = kit.login(method=method)
    assert login.response.status == 302
    location = login.response.header("location")
    assert location is not None
    assert location.startswith(AUTH_URL + "?")
    assert login.query == {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": CLIENT_ID,
        "redirect_uri": "https://tool.example.org/lti/launch",
        "login_hint": "hint-1",
        "lti_message_hint": "msg-hint",
        "state": login.state,
        "nonce": login.nonce,
    }
    assert login.response.header("Cache-Control") == "no-store"
    assert len(login.state) >= 40
    assert len(login.nonce) >= 40
    assert login.state != login.nonce


def test_login_stores_state_with_hash_of_cookie_only() -> None:
    kit = Kit()
    login = kit.login()
    record = kit.states.peek(login.state)
    assert record is not None
    assert record.nonce == login.nonce
    assert record.issuer == ISSUER
    assert record.client_id == CLIENT_ID
    assert record.target_link_uri == TARGET
    assert record.browser_hash == hashlib.sha256(login.cookie.encode()).hexdigest()
    assert login.cookie not in record.model_dump_json()
    assert record.expires_at == kit.clock.now + 600


def test_https_tool_sets_secure_samesite_none_host_cookie() -> None:
    cookie = Kit().login().response.cookies[0]
    assert cookie.secure
    assert cookie.httponly
    assert cookie.samesite == "None"
    assert cookie.name.startswith("__Host-")
    assert cookie.path == "/"
    header = cookie.header_value()
    assert "Secure" in header
    assert "SameSite=None" in header


def test_plain_http_loopback_tool_uses_lax_cookie() -> None:
    base = "http://127.0.0.1:5000"
    kit = Kit(base_url=base)
    cookie = kit.login(target_link_uri=base + "/lti/launch").response.cookies[0]
    assert not cookie.secure
    assert cookie.samesite == "Lax"
    assert not cookie.name.startswith("__Host-")


def test_second_login_in_same_browser_reuses_the_binding_secret() -> None:
    kit = Kit()
    first = kit.login()
    request = HttpRequest(
        method="GET",
        query={"iss": ISSUER, "login_hint": "h", "target_link_uri": TARGET},
        cookies={kit.tool.cookie_name: first.cookie},
    )
    second = kit.tool.login(request)
    assert second.cookies[0].value == first.cookie


def test_client_id_may_be_omitted_when_issuer_has_one_registration() -> None:
    kit = Kit()
    login = kit.login(client_id=DROP)
    assert login.query["client_id"] == CLIENT_ID


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"iss": DROP}, "lti.bad_login_request"),
        ({"login_hint": DROP}, "lti.bad_login_request"),
        ({"target_link_uri": DROP}, "lti.bad_login_request"),
        ({"login_hint": "x" * 3000}, "lti.bad_login_request"),
        ({"iss": "https://unknown.example"}, "lti.unknown_issuer"),
        ({"client_id": "nope"}, "lti.unknown_client"),
        ({"lti_deployment_id": "nope"}, "lti.unknown_deployment"),
        ({"target_link_uri": "https://evil.example/x"}, "lti.bad_target_link"),
        ({"target_link_uri": "http://tool.example.org/x"}, "lti.bad_target_link"),
    ],
)
def test_bad_login_requests_are_refused(params: dict[str, str], code: str) -> None:
    kit = Kit()
    with pytest.raises(LaunchRejected) as info:
        kit.login(**params)
    assert info.value.code == code


def test_missing_client_id_with_two_registrations_is_ambiguous() -> None:
    kit = Kit(platforms=[canvas_platform(), canvas_platform(OTHER_CLIENT_ID)])
    with pytest.raises(LaunchRejected) as info:
        kit.login(client_id=DROP)
    assert info.value.code == "lti.ambiguous_client"
    # With the client id each tenant gets its own registration.
    assert kit.login(client_id=OTHER_CLIENT_ID).query["client_id"] == OTHER_CLIENT_ID


def test_auth_url_with_query_keeps_it() -> None:
    platform = canvas_platform(auth_login_url=AUTH_URL + "?tenant=7")
    kit = Kit(platforms=[platform])
    location = kit.login().response.header("Location")
    assert location is not None
    assert location.startswith(AUTH_URL + "?tenant=7&scope=openid")


def test_platform_storage_login_answers_page_that_puts_state_then_navigates() -> None:
    kit = Kit()
    login = kit.login(lti_storage_target="post_message_forwarding")
    response = login.response
    assert response.status == 200
    assert response.header("Location") is None
    body = response.body
    assert 'data-target="post_message_forwarding"' in body
    assert 'data-origin="https://canvas.example.edu"' in body
    assert "lti.put_data" in body
    items = html.unescape(re.search(r'data-items="([^"]+)"', body)[1])  # type: ignore[index]
    assert f"blendkit_state_{login.state}" in items
    assert login.cookie in items  # the browser secret goes to platform storage, not the store
    assert "eval(" not in body
    assert "<script src" not in body
    record = kit.states.peek(login.state)
    assert record is not None
    assert record.storage_target == "post_message_forwarding"
    # The inline script is pinned by its hash in the CSP.
    csp = response.header("Content-Security-Policy")
    assert csp is not None
    script = re.search(r"<script>(.*)</script>", body, re.S)[1]  # type: ignore[index]
    import base64

    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in csp
    assert response.cookies  # cookies stay as the fallback


def test_storage_target_is_escaped_in_the_page() -> None:
    kit = Kit()
    login = kit.login(lti_storage_target='"><script>alert(1)</script>')
    assert "<script>alert(1)" not in login.response.body
    assert urlsplit(AUTH_URL).netloc in login.response.body
