"""Finding 2: dynamic registration as an SSRF tool (fetch internal URLs, read them, scan ports).

Whoever opens ``/lti/register`` names the ``openid_configuration`` URL, and the configuration it
serves names the registration endpoint. Before: the URL was fetched before the allow-list was
checked, loopback was allowed over http, up to 300 characters of the answer were echoed, and the
error text told a closed port from an open one. Now: loopback, private and metadata addresses
in every spelling are refused before any connection (a listening socket records none), the
allow-list is checked before any network call, no answer body is echoed, and open, closed and
silent ports give the same error.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest

from blendkit.errors import RegistrationError
from blendkit.http import Fence, RetryPolicy
from blendkit.lti._admin import Administrator
from blendkit.lti._invites import RegistrationInvites
from blendkit.lti._platforms import InMemoryPlatformRegistry
from blendkit.lti._registration import DynamicRegistration
from blendkit.lti._tool_config import ToolConfig
from blendkit.store import Store
from tests.fence import loopback_fence, public_fence
from tests.lti.registration_platforms import RegistrationPlatform
from tests.security.servers import RecordingServer, closed_port

TOOL = ToolConfig(base_url="https://tool.example.edu", title="blendkit")
BODY_MARK = "internal-only-body"


@dataclass(frozen=True)
class Invite:
    """A registration link as a tool administrator mints it: every registration needs one, so
    these tests show that the fence holds even for someone holding a valid invite."""

    invites: RegistrationInvites
    token: str


@pytest.fixture
def invite(sqlite_store: Store) -> Invite:
    invites = RegistrationInvites(sqlite_store)
    minted = invites.create(expires_in=timedelta(hours=1), by=Administrator.command_line("test"))
    return Invite(invites, minted.token)


@pytest.fixture
def internal() -> Iterator[RecordingServer]:
    server = RecordingServer()
    yield server
    server.stop()


def _spellings(port: int) -> list[str]:
    """URLs that all reach 127.0.0.1:port (or another address no tool may fetch)."""
    path = "/.well-known/openid-configuration"
    loopback = [
        f"http://127.0.0.1:{port}{path}",
        f"http://localhost:{port}{path}",
        f"http://LOCALHOST.:{port}{path}",
        f"http://127.0.0.1.:{port}{path}",
        f"http://[::ffff:127.0.0.1]:{port}{path}",
        f"http://0.0.0.0:{port}{path}",
        f"https://127.0.0.1:{port}{path}",
        f"https://localhost:{port}{path}",
        f"https://2130706433:{port}{path}",
        f"https://0x7f000001:{port}{path}",
        f"https://0x7f.1:{port}{path}",
        f"https://0177.0.0.1:{port}{path}",
        f"https://127.1:{port}{path}",
        f"https://[::ffff:7f00:1]:{port}{path}",
        f"https://[::127.0.0.1]:{port}{path}",
        f"https://[64:ff9b::127.0.0.1]:{port}{path}",
        f"https://[::]:{port}{path}",
        f"https://0.0.0.0:{port}{path}",
        f"https://platform.example.edu@127.0.0.1:{port}{path}",
        f"https://127.0.0.1:{port}{path}#@platform.example.edu",
    ]
    others = [
        "https://169.254.169.254/latest/meta-data/",
        "http://169.254.169.254/latest/meta-data/",
        "https://[fd00:ec2::254]/latest/meta-data/",
        "https://100.100.100.200/latest/meta-data/",
        "https://10.0.0.1/.well-known/openid-configuration",
        "https://192.168.1.1/.well-known/openid-configuration",
        "https://172.16.0.1/.well-known/openid-configuration",
        "https://100.64.0.1/.well-known/openid-configuration",
        "https://[fe80::1]/.well-known/openid-configuration",
        "https://[fc00::1]/.well-known/openid-configuration",
        "https://224.0.0.1/.well-known/openid-configuration",
        "https://255.255.255.255/.well-known/openid-configuration",
    ]
    return loopback + others


def test_internal_addresses_in_every_spelling_are_refused_before_any_connection(
    internal: RecordingServer, invite: Invite
) -> None:
    registration = DynamicRegistration(
        TOOL, InMemoryPlatformRegistry(), invites=invite.invites
    )  # production fence
    for url in _spellings(internal.port):
        with pytest.raises(RegistrationError) as refused:
            registration.register(url, "reg-token", invite=invite.token)
        assert BODY_MARK not in refused.value.message, url
    assert internal.connections == 0


def test_a_host_name_that_resolves_to_loopback_is_refused_before_any_connection(
    internal: RecordingServer, invite: Invite
) -> None:
    rebinding = Fence(resolver=lambda host, port: ["93.184.215.14", "127.0.0.1"])
    registration = DynamicRegistration(
        TOOL, InMemoryPlatformRegistry(), invites=invite.invites, fence=rebinding
    )
    with pytest.raises(RegistrationError) as refused:
        registration.register(
            f"https://platform.example.edu:{internal.port}/config", "t", invite=invite.token
        )
    assert refused.value.code == "http.outbound_refused"
    assert internal.connections == 0


def test_the_allow_list_is_checked_before_any_network_call(
    internal: RecordingServer, invite: Invite
) -> None:
    registration = DynamicRegistration(
        TOOL,
        InMemoryPlatformRegistry(),
        invites=invite.invites,
        fence=loopback_fence(),
        allowed_issuer_hosts=("moodle.example.edu",),
    )
    with pytest.raises(RegistrationError) as refused:
        registration.register(f"http://127.0.0.1:{internal.port}/config", "t", invite=invite.token)
    assert refused.value.code == "lti.registration_issuer_not_allowed"
    assert internal.connections == 0


def test_a_configuration_cannot_send_the_registration_to_an_internal_endpoint(
    invite: Invite,
) -> None:
    platform = RegistrationPlatform(kind="moodle", base_url="https://lms.example.edu")
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        config = platform.configuration()
        config["registration_endpoint"] = "https://169.254.169.254/latest/api/token"
        return httpx.Response(200, json=config)

    registration = DynamicRegistration(
        TOOL,
        InMemoryPlatformRegistry(),
        invites=invite.invites,
        http=httpx.Client(transport=httpx.MockTransport(handler)),
        fence=public_fence(),
    )
    with pytest.raises(RegistrationError) as refused:
        registration.register(platform.config_url, "reg-token", invite=invite.token)
    assert refused.value.code == "http.outbound_refused"
    assert [r.method for r in seen] == ["GET"]  # the POST never left


def _answer(status: str, content_type: str, body: bytes) -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}"
    return head.encode() + b"\r\nConnection: close\r\n\r\n" + body


@pytest.mark.parametrize(
    "answer",
    [
        _answer("200 OK", "text/plain", b"root:x:0:0 internal-only-body 123456789"),
        _answer("404 Not Found", "text/html", b"<p>internal-only-body admin panel</p>"),
        _answer("200 OK", "application/json", b'["internal-only-body", "a list"]'),
        _answer("401 Unauthorized", "application/json", b'{"error": "internal-only-body"}'),
    ],
)
def test_the_answer_body_is_never_echoed(answer: bytes, invite: Invite) -> None:
    server = RecordingServer(answer)
    try:
        registration = DynamicRegistration(
            TOOL, InMemoryPlatformRegistry(), invites=invite.invites, fence=loopback_fence()
        )
        with pytest.raises(RegistrationError) as failed:
            registration.register(f"{server.url}/config", "t", invite=invite.token)
    finally:
        server.stop()
    assert server.connections == 1  # allowed on purpose here: the answer was read, not shown
    assert BODY_MARK not in failed.value.message
    assert "root:" not in failed.value.message


def test_open_closed_and_silent_ports_give_the_same_error(invite: Invite) -> None:
    messages: dict[str, tuple[str, str]] = {}
    fence = loopback_fence(deadline_seconds=1.0)
    answering = RecordingServer(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
    garbage = RecordingServer(b"SSH-2.0-OpenSSH_9.6\r\n")
    silent = socket.create_server(("127.0.0.1", 0))  # connections wait in the backlog, unanswered
    silent_port = int(silent.getsockname()[1])
    ports = {
        "answering": answering.port,
        "not http": garbage.port,
        "closed": closed_port(),
        "silent": silent_port,
    }
    try:
        for kind, port in ports.items():
            registration = DynamicRegistration(
                TOOL,
                InMemoryPlatformRegistry(),
                invites=invite.invites,
                http=httpx.Client(timeout=1.0),
                fence=fence,
                retry=RetryPolicy(max_retries=0),
            )
            with pytest.raises(RegistrationError) as failed:
                registration.register(f"http://127.0.0.1:{port}/config", "t", invite=invite.token)
            text = re.sub(r"127\.0\.0\.1:\d+", "HOST", failed.value.message)
            messages[kind] = (failed.value.code, text)
    finally:
        answering.stop()
        garbage.stop()
        silent.close()
    assert len(set(messages.values())) == 1, messages
