"""Dynamic registration against Moodle-like and Canvas-like platforms over real HTTP."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blendkit.errors import RegistrationError
from blendkit.lti._admin import Administrator
from blendkit.lti._http import HttpRequest
from blendkit.lti._invites import RegistrationInvites
from blendkit.lti._platforms import InMemoryPlatformRegistry, StorePlatformRegistry
from blendkit.lti._registration import DynamicRegistration, issuer_matches
from blendkit.lti._tool_config import ToolConfig
from blendkit.store import Store
from tests.fence import loopback_fence
from tests.lti.registration_platforms import NRPS, TOOL_CONF, RegistrationPlatform, serve

TOOL = ToolConfig(base_url="https://tool.example.edu", title="blendkit demo")


@pytest.fixture
def moodle() -> Iterator[RegistrationPlatform]:
    yield from serve(RegistrationPlatform(kind="moodle"))


@pytest.fixture
def canvas() -> Iterator[RegistrationPlatform]:
    yield from serve(RegistrationPlatform(kind="canvas"))


@pytest.fixture
def invites(sqlite_store: Store) -> RegistrationInvites:
    return RegistrationInvites(sqlite_store)


def mint(invites: RegistrationInvites) -> str:
    """A fresh invite, as `blendkit platform invite` mints it: every registration needs one."""
    by = Administrator.command_line("test")
    return invites.create(expires_in=timedelta(hours=1), by=by).token


def register_request(
    platform: RegistrationPlatform, token: str | None = None, *, invite: str
) -> HttpRequest:
    query = {"openid_configuration": platform.config_url, "invite": invite}
    if token is not None or platform.token:
        query["registration_token"] = token if token is not None else platform.token
    return HttpRequest(method="GET", url=TOOL.registration_url, query=query)


def test_moodle_registration_stores_client_and_deployment(
    moodle: RegistrationPlatform, sqlite_store: Store, invites: RegistrationInvites
) -> None:
    registry = StorePlatformRegistry(sqlite_store)
    with httpx.Client() as http:
        page = DynamicRegistration(
            TOOL, invites=invites, registry=registry, http=http, fence=loopback_fence()
        ).handle(register_request(moodle, invite=mint(invites)))
    (stored,) = registry.list()
    assert stored.issuer == moodle.issuer
    assert stored.client_id == "client-1"
    assert stored.deployment_ids == ("2",)
    assert not stored.accept_new_deployments
    assert stored.auth_login_url == moodle.issuer + "/mod/lti/auth.php"
    assert stored.auth_token_url == moodle.issuer + "/mod/lti/token.php"
    assert stored.jwks_url == moodle.issuer + "/mod/lti/certs.php"
    assert stored.name == "moodle"
    assert stored.invited_by == "test"
    assert stored.invite_id is not None
    post = next(r for r in moodle.requests if r[0] == "POST")
    assert post[2]["Authorization"] == "Bearer reg-token-123"
    body = post[3]
    assert body["initiate_login_uri"] == "https://tool.example.edu/lti/login"
    assert body["redirect_uris"] == ["https://tool.example.edu/lti/launch"]
    assert body["jwks_uri"] == "https://tool.example.edu/lti/jwks"
    assert sorted(body["grant_types"]) == ["client_credentials", "implicit"]
    assert body["response_types"] == ["id_token"]
    assert set(body["scope"].split()) == set(TOOL.scopes)
    conf = body[TOOL_CONF]
    assert conf["domain"] == "tool.example.edu"
    assert conf["target_link_uri"] == "https://tool.example.edu/lti/launch"
    assert [m["type"] for m in conf["messages"]] == [
        "LtiResourceLinkRequest",
        "LtiDeepLinkingRequest",
    ]
    assert all("placements" not in m for m in conf["messages"])  # Moodle names none per type
    assert not any(k.startswith("https://canvas.instructure.com") for k in conf)
    assert page.status == 200
    assert "client-1" in page.body


def test_close_page_posts_the_close_message_under_a_pinned_script(
    moodle: RegistrationPlatform, invites: RegistrationInvites
) -> None:
    with httpx.Client() as http:
        page = DynamicRegistration(
            TOOL,
            invites=invites,
            registry=InMemoryPlatformRegistry(),
            http=http,
            fence=loopback_fence(),
        ).handle(register_request(moodle, invite=mint(invites)))
    (script,) = re.findall(r"<script>(.*?)</script>", page.body, re.S)
    assert "org.imsglobal.lti.close" in script
    assert "window.opener||window.parent" in script
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in (page.header("Content-Security-Policy") or "")
    assert "<script src" not in page.body


def test_canvas_registration_uses_the_token_everywhere_and_canvas_extensions(
    canvas: RegistrationPlatform, invites: RegistrationInvites
) -> None:
    registry = InMemoryPlatformRegistry()
    with httpx.Client() as http:
        result = DynamicRegistration(
            TOOL, invites=invites, registry=registry, http=http, fence=loopback_fence()
        ).register(canvas.config_url, canvas.token, invite=mint(invites))
    get = next(r for r in canvas.requests if r[0] == "GET")
    assert get[2]["Authorization"] == "Bearer reg-token-123"  # Canvas requires it on the GET
    stored = registry.get(canvas.issuer, result.platform.client_id)
    assert stored.deployment_ids == ()  # Canvas assigns deployments later…
    assert stored.accept_new_deployments  # …so the first signed launch of each records it
    assert stored.name == "canvas: Test University"
    assert stored.auth_token_url == canvas.base_url + "/login/oauth2/token"
    body = next(r for r in canvas.requests if r[0] == "POST")[3]
    conf = body[TOOL_CONF]
    assert conf["https://canvas.instructure.com/lti/privacy_level"] == "public"
    assert conf["https://canvas.instructure.com/lti/tool_id"] == "blendkit"
    placements = {m["type"]: m.get("placements") for m in conf["messages"]}
    assert placements == {
        "LtiResourceLinkRequest": ["course_navigation"],
        "LtiDeepLinkingRequest": ["assignment_selection"],
    }
    assert NRPS in body["scope"].split()
    assert result.product_family_code == "canvas"


def test_canvas_without_the_token_is_refused(
    canvas: RegistrationPlatform, invites: RegistrationInvites
) -> None:
    with httpx.Client() as http, pytest.raises(RegistrationError) as caught:
        DynamicRegistration(
            TOOL,
            invites=invites,
            registry=InMemoryPlatformRegistry(),
            http=http,
            fence=loopback_fence(),
        ).register(canvas.config_url, None, invite=mint(invites))
    # The configuration could not be read (HTTP 401): one wording for every unusable answer.
    assert caught.value.code == "lti.registration_platform_unavailable"
    assert "registration token may have expired" in caught.value.message


def test_a_used_registration_token_is_reported(
    moodle: RegistrationPlatform, invites: RegistrationInvites
) -> None:
    registry = InMemoryPlatformRegistry()
    with httpx.Client() as http, pytest.raises(RegistrationError) as caught:
        DynamicRegistration(
            TOOL, invites=invites, registry=registry, http=http, fence=loopback_fence()
        ).register(moodle.config_url, "stale", invite=mint(invites))
    assert caught.value.code == "lti.registration_refused"
    assert "start the registration again" in caught.value.message
    assert registry.list() == []


def test_issuer_that_is_not_a_prefix_of_the_configuration_url_is_refused(
    invites: RegistrationInvites,
) -> None:
    for override in ("https://evil.example", "{base}/moo"):
        gen = serve(RegistrationPlatform(kind="moodle"))
        platform = next(gen)
        platform.issuer_override = override.format(base=platform.base_url)
        registry = InMemoryPlatformRegistry()
        try:
            with httpx.Client() as http, pytest.raises(RegistrationError) as caught:
                DynamicRegistration(
                    TOOL, invites=invites, registry=registry, http=http, fence=loopback_fence()
                ).register(platform.config_url, platform.token, invite=mint(invites))
        finally:
            gen.close()
        assert caught.value.code == "lti.registration_issuer_mismatch"
        assert not [r for r in platform.requests if r[0] == "POST"]
        assert registry.list() == []


@pytest.mark.parametrize(
    "missing",
    [
        "registration_endpoint",
        "jwks_uri",
        "authorization_endpoint",
        "token_endpoint",
        "https://purl.imsglobal.org/spec/lti-platform-configuration",
    ],
)
def test_incomplete_configuration_names_what_is_missing(
    missing: str, invites: RegistrationInvites
) -> None:
    gen = serve(RegistrationPlatform(kind="moodle", drop=(missing,)))
    platform = next(gen)
    try:
        with httpx.Client() as http, pytest.raises(RegistrationError) as caught:
            DynamicRegistration(
                TOOL,
                invites=invites,
                registry=InMemoryPlatformRegistry(),
                http=http,
                fence=loopback_fence(),
            ).register(platform.config_url, platform.token, invite=mint(invites))
    finally:
        gen.close()
    assert caught.value.code == "lti.registration_configuration_invalid"
    assert missing in caught.value.message


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("token_endpoint_auth_methods_supported", ["client_secret_basic"]),
        ("id_token_signing_alg_values_supported", ["HS256"]),
    ],
)
def test_platforms_without_lti_security_are_refused(
    member: str, value: list[str], invites: RegistrationInvites
) -> None:
    gen = serve(RegistrationPlatform(kind="moodle", replace={member: value}))
    platform = next(gen)
    try:
        with httpx.Client() as http, pytest.raises(RegistrationError) as caught:
            DynamicRegistration(
                TOOL,
                invites=invites,
                registry=InMemoryPlatformRegistry(),
                http=http,
                fence=loopback_fence(),
            ).register(platform.config_url, platform.token, invite=mint(invites))
    finally:
        gen.close()
    assert caught.value.code == "lti.registration_configuration_invalid"
    assert not [r for r in platform.requests if r[0] == "POST"]


def test_only_allowed_platform_hosts_may_register(
    moodle: RegistrationPlatform, invites: RegistrationInvites
) -> None:
    with httpx.Client() as http, pytest.raises(RegistrationError) as caught:
        DynamicRegistration(
            TOOL,
            invites=invites,
            registry=InMemoryPlatformRegistry(),
            http=http,
            fence=loopback_fence(),
            allowed_issuer_hosts=["*.example.edu"],
        ).register(moodle.config_url, moodle.token, invite=mint(invites))
    assert caught.value.code == "lti.registration_issuer_not_allowed"
    with httpx.Client() as http:
        result = DynamicRegistration(
            TOOL,
            invites=invites,
            registry=InMemoryPlatformRegistry(),
            http=http,
            fence=loopback_fence(),
            allowed_issuer_hosts=["127.0.0.*"],
        ).register(moodle.config_url, moodle.token, invite=mint(invites))
    assert result.platform.client_id == "client-1"


def test_registration_page_without_parameters_explains_itself(invites: RegistrationInvites) -> None:
    with pytest.raises(RegistrationError) as caught:
        DynamicRegistration(TOOL, invites=invites, registry=InMemoryPlatformRegistry()).handle(
            HttpRequest(method="GET", url=TOOL.registration_url)
        )
    assert caught.value.code == "lti.registration_missing_configuration"


def test_plain_http_configuration_urls_are_refused_off_loopback(
    invites: RegistrationInvites,
) -> None:
    with pytest.raises(RegistrationError):
        DynamicRegistration(TOOL, invites=invites, registry=InMemoryPlatformRegistry()).register(
            "http://lms.example.edu/.well-known/openid-configuration", invite=mint(invites)
        )


# --- faults -----------------------------------------------------------------------------------


def test_busy_configuration_endpoint_is_retried_but_a_lost_post_is_not(
    invites: RegistrationInvites,
) -> None:
    platform = RegistrationPlatform(kind="moodle", base_url="https://lms.example.edu")
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if request.method == "GET":
            if calls.count("GET") == 1:
                return httpx.Response(503, headers={"Retry-After": "2"})
            return httpx.Response(200, json=platform.configuration())
        raise httpx.ReadTimeout("slow")

    sleeps: list[float] = []
    registration = DynamicRegistration(
        TOOL,
        invites=invites,
        registry=InMemoryPlatformRegistry(),
        http=httpx.Client(transport=httpx.MockTransport(handler)),
        fence=loopback_fence(),
        sleep=sleeps.append,
    )
    with pytest.raises(RegistrationError) as caught:
        registration.register(platform.config_url, platform.token, invite=mint(invites))
    assert caught.value.code == "lti.registration_refused"  # the POST got no usable answer
    assert calls == ["GET", "GET", "POST"]
    assert sleeps == [2.0]


def test_answer_without_client_id_is_reported(invites: RegistrationInvites) -> None:
    platform = RegistrationPlatform(kind="moodle", base_url="https://lms.example.edu")

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json=platform.configuration())
        return httpx.Response(201, json={"client_name": "x"})

    with pytest.raises(RegistrationError) as caught:
        DynamicRegistration(
            TOOL,
            invites=invites,
            registry=InMemoryPlatformRegistry(),
            http=httpx.Client(transport=httpx.MockTransport(handler)),
            fence=loopback_fence(),
        ).register(platform.config_url, platform.token, invite=mint(invites))
    assert caught.value.code == "lti.registration_response_invalid"


@settings(max_examples=200)
@given(
    st.sampled_from(["https://lms.example.edu", "https://lms.example.edu/moodle"]),
    st.text(alphabet="abc/?.#-", max_size=12),
)
def test_issuer_prefix_rule(issuer: str, tail: str) -> None:
    url = issuer + tail
    assert issuer_matches(issuer, url) == (tail == "" or tail[0] in "/?#")
    assert issuer_matches(issuer + "/", url) == (tail == "" or tail[0] in "/?#")
    assert not issuer_matches("https://lms.example.edu.evil.com", url)


@pytest.mark.parametrize("kind", ["moodle", "canvas"])
@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, {"timezone": "$Person.address.timezone"}),
        (
            {"custom_parameters": {"section": "$Context.id"}},
            {"timezone": "$Person.address.timezone", "section": "$Context.id"},
        ),
        ({"ask_time_zone": False}, None),
    ],
)
def test_registration_asks_for_the_learners_time_zone(
    request: pytest.FixtureRequest,
    invites: RegistrationInvites,
    kind: str,
    options: dict,
    expected: dict | None,
) -> None:
    platform: RegistrationPlatform = request.getfixturevalue(kind)
    with httpx.Client() as http:
        DynamicRegistration(
            TOOL.model_copy(update=options),
            invites=invites,
            registry=InMemoryPlatformRegistry(),
            http=http,
            fence=loopback_fence(),
        ).register(platform.config_url, platform.token, invite=mint(invites))
    conf = next(r for r in platform.requests if r[0] == "POST")[3][TOOL_CONF]
    assert conf.get("custom_parameters") == expected
