"""Suspicion 12a: service URLs taken from launch claims are checked before a token goes anywhere.

AGS line items and scores, the NRPS memberships URL and the deep-linking return URL come from
the (signed) launch, so a platform, or whoever controls its configuration, picks them. Before:
they were used as given, so a token was requested and then sent as ``Authorization: Bearer`` to
an internal http:// host. Now they pass the outbound fence (https, public addresses) and the
registration's ``service_hosts`` pin before any token is requested. The proof: a real listening
socket on 127.0.0.1 named by the claims records no connection, and the platform's token endpoint
(another real socket) records no token request.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from blendkit.errors import LTIError, ServiceError
from blendkit.http import Fence, OutboundPolicy
from blendkit.lti._advantage import Advantage
from blendkit.lti._ags import AGSScore, LineItem
from blendkit.lti._deep_linking import ResourceLinkItem
from blendkit.lti._keys import KeySet
from blendkit.lti._launch import Launch
from blendkit.lti._platforms import InMemoryPlatformRegistry, Platform
from blendkit.store import Store
from tests.encryption import ENCRYPTION
from tests.security.servers import RecordingServer

ISSUER = "https://lms.example.edu"
CLIENT_ID = "tool-1"
SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"


def _token_answer() -> bytes:
    body = json.dumps(
        {"access_token": "bearer-secret-42", "token_type": "Bearer", "expires_in": 3600}
    ).encode()
    head = (
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


@pytest.fixture
def internal() -> Iterator[RecordingServer]:
    server = RecordingServer(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
    yield server
    server.stop()


@pytest.fixture
def token_endpoint() -> Iterator[RecordingServer]:
    server = RecordingServer(_token_answer())
    yield server
    server.stop()


def _resolver(host: str, port: int) -> list[str]:
    """``lms.example.edu`` and ``school.example.edu`` are public; everything else is loopback."""
    del port
    return ["93.184.215.14"] if host.endswith(".example.edu") else ["127.0.0.1"]


def advantage(sqlite_store: Store, token: RecordingServer, **platform: Any) -> Advantage:
    """A registration whose token endpoint is a real socket reached as ``localhost`` (the only
    name allowed to be loopback), so any token request shows up in ``token.requests``."""
    registry = InMemoryPlatformRegistry(
        [
            Platform(
                issuer=ISSUER,
                client_id=CLIENT_ID,
                deployment_ids=("1",),
                auth_login_url=ISSUER + "/auth",
                auth_token_url=f"http://localhost:{token.port}/token",
                jwks_url=ISSUER + "/jwks",
                **platform,
            )
        ]
    )
    fence = Fence(OutboundPolicy.allowing(["localhost"]), resolver=_resolver)
    return Advantage(
        registry,
        KeySet(sqlite_store, encryption=ENCRYPTION),
        http=httpx.Client(timeout=2.0),
        fence=fence,
    )


def launch(**claims: Any) -> Launch:
    return Launch.model_validate(
        {
            "message_type": "LtiResourceLinkRequest",
            "version": "1.3.0",
            "issuer": ISSUER,
            "client_id": CLIENT_ID,
            "deployment_id": "1",
            "user": {"sub": "s1"},
            "target_link_uri": "https://tool.example.edu/lti/launch",
            **claims,
        }
    )


SCORE_VALUE = AGSScore(
    user_id="s1",
    score_given=1,
    score_maximum=1,
    activity_progress="Completed",
    grading_progress="FullyGraded",
)


def _internal_urls(port: int) -> list[str]:
    return [
        f"http://127.0.0.1:{port}/lineitems",
        f"https://127.0.0.1:{port}/lineitems",
        f"https://[::ffff:127.0.0.1]:{port}/lineitems",
        f"https://2130706433:{port}/lineitems",
        f"https://0x7f.1:{port}/lineitems",
        f"https://internal.corp:{port}/lineitems",  # a name that resolves to loopback
        f"https://lms.example.edu@127.0.0.1:{port}/lineitems",
        "https://169.254.169.254/latest/meta-data/iam/",
    ]


Call = Callable[[Advantage, str], object]
CALLS: dict[str, Call] = {
    "post a score to a line item": lambda a, url: a.ags(
        launch(ags={"scope": [SCORE], "lineitem": url})
    ).post_score(SCORE_VALUE),
    "create a line item": lambda a, url: a.ags(
        launch(ags={"scope": [LINEITEM], "lineitems": url})
    ).create_line_item(LineItem(label="Quiz", score_maximum=1)),
    "list line items": lambda a, url: list(
        a.ags(launch(ags={"scope": [LINEITEM], "lineitems": url})).line_items()
    ),
    "read the roster": lambda a, url: list(
        a.nrps(launch(nrps={"context_memberships_url": url})).members()
    ),
}


@pytest.mark.parametrize("call", sorted(CALLS))
def test_internal_service_urls_never_get_a_token_or_a_token_request(
    call: str, sqlite_store: Store, internal: RecordingServer, token_endpoint: RecordingServer
) -> None:
    service = advantage(sqlite_store, token_endpoint)
    for url in _internal_urls(internal.port):
        with pytest.raises(ServiceError) as refused:
            CALLS[call](service, url)
        assert refused.value.code == "http.outbound_refused", url
    assert internal.connections == 0
    assert token_endpoint.requests == []


def test_an_internal_deep_linking_return_url_gets_no_signed_answer(
    sqlite_store: Store, internal: RecordingServer, token_endpoint: RecordingServer
) -> None:
    service = advantage(sqlite_store, token_endpoint)
    for url in _internal_urls(internal.port):
        settings = {
            "deep_link_return_url": url,
            "accept_types": ["ltiResourceLink"],
            "accept_presentation_document_targets": ["iframe"],
        }
        current = launch(message_type="LtiDeepLinkingRequest", deep_linking_settings=settings)
        with pytest.raises(LTIError) as refused:
            service.deep_linking_response(current, [ResourceLinkItem(title="Quiz")])
        assert refused.value.code == "http.outbound_refused", url


def test_a_pinned_registration_refuses_public_hosts_it_does_not_name(
    sqlite_store: Store, token_endpoint: RecordingServer
) -> None:
    service = advantage(sqlite_store, token_endpoint, service_hosts=("lms.example.edu",))
    with pytest.raises(ServiceError) as refused:
        CALLS["post a score to a line item"](service, "https://school.example.edu/lineitems/1")
    assert refused.value.code == "lti.service_host_not_allowed"
    settings = {
        "deep_link_return_url": "https://school.example.edu/return",
        "accept_types": ["ltiResourceLink"],
        "accept_presentation_document_targets": ["iframe"],
    }
    current = launch(message_type="LtiDeepLinkingRequest", deep_linking_settings=settings)
    with pytest.raises(LTIError) as refused_dl:
        service.deep_linking_response(current, [ResourceLinkItem(title="Quiz")])
    assert refused_dl.value.code == "lti.service_host_not_allowed"
    assert token_endpoint.requests == []


def test_the_default_accepts_any_public_https_host_like_canvas_school_domains(
    sqlite_store: Store, token_endpoint: RecordingServer
) -> None:
    """Canvas serves AGS from each school's domain, not the issuer's: no pin by default."""
    seen: list[httpx.Request] = []

    def platform(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/token"):
            return httpx.Response(200, content=_token_answer().split(b"\r\n\r\n", 1)[1])
        return httpx.Response(204)

    registry = InMemoryPlatformRegistry(
        [
            Platform(
                issuer="https://canvas.instructure.com",
                client_id=CLIENT_ID,
                deployment_ids=("1",),
                auth_login_url="https://sso.canvaslms.com/api/lti/authorize_redirect",
                auth_token_url="https://sso.canvaslms.com/login/oauth2/token",
                jwks_url="https://sso.canvaslms.com/api/lti/security/jwks",
            )
        ]
    )
    service = Advantage(
        registry,
        KeySet(sqlite_store, encryption=ENCRYPTION),
        http=httpx.Client(transport=httpx.MockTransport(platform)),
        fence=Fence(resolver=lambda host, port: ["93.184.215.14"]),
    )
    current = launch(
        issuer="https://canvas.instructure.com",
        ags={"scope": [SCORE], "lineitem": "https://school.instructure.com/api/lti/li/1"},
    )
    service.ags(current).post_score(SCORE_VALUE)
    assert [r.url.host for r in seen] == ["sso.canvaslms.com", "school.instructure.com"]
    assert seen[1].headers["Authorization"] == "Bearer bearer-secret-42"
