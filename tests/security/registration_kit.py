"""What the registration and administration tests share: a bare tool app serving /lti/register,
the example tool with two tenants, launches saved the way the adapter saves them, and invites
minted through the real ``blendkit platform invite`` command."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from blendkit import Settings, Store
from blendkit.cli import cli
from blendkit.integrations.flask import Blendkit
from blendkit.lti import Launch, LaunchContext, MessageType, Platform, ResourceLink, UserIdentity

TOOL_BASE = "https://tool.example.edu"
MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
INSTITUTION = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#"
SYSTEM = "http://purl.imsglobal.org/vocab/lis/v2/system/person#"
INSTRUCTOR = MEMBERSHIP + "Instructor"
LEARNER = MEMBERSHIP + "Learner"
CONTEXT_ADMIN = MEMBERSHIP + "Administrator"
INSTITUTION_ADMIN = INSTITUTION + "Administrator"
SYSTEM_ADMIN = SYSTEM + "SysAdmin"

ISSUER_A = "https://moodle.school-a.edu"
ISSUER_B = "https://canvas.school-b.edu"


def platform(issuer: str, client_id: str, deployment: str = "1") -> Platform:
    return Platform(
        issuer=issuer,
        client_id=client_id,
        deployment_ids=(deployment,),
        auth_login_url=issuer + "/auth",
        auth_token_url=issuer + "/token",
        jwks_url=issuer + "/jwks",
        name=f"{issuer} {client_id}",
    )


def registration_client(**lti: Any) -> FlaskClient:
    """A bare Flask app with the blendkit adapter, on the test's default database."""
    # The registration test platforms listen on 127.0.0.1 over http: allowed by name.
    settings = Settings(
        tool={"base_url": TOOL_BASE}, lti=lti, http={"allowed_hosts": ["127.0.0.1"]}
    )
    app = Flask("registration")
    Blendkit(app, settings=settings, migrate=True)
    return app.test_client()


def mint_invite(*args: str) -> tuple[str, str]:
    """``blendkit platform invite …``: the printed URL and the token it carries."""
    result = CliRunner().invoke(cli, ["platform", "invite", *args])
    assert result.exit_code == 0, result.output
    found = re.search(r"(https?://\S+/lti/register\?invite=([A-Za-z0-9_\-]+))", result.output)
    assert found, result.output
    return found.group(1), found.group(2)


def error_code(response: Any) -> str:
    found = re.search(r"\b(lti\.[a-z_]+|app\.[a-z_]+|admin\.[a-z_]+)", response.get_data(True))
    return found.group(1) if found else ""


@contextmanager
def listening_socket() -> Iterator[tuple[socket.socket, int]]:
    """A TCP socket that listens but never answers: a connection attempt would queue on it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    try:
        yield sock, sock.getsockname()[1]
    finally:
        sock.close()


def connections_made(sock: socket.socket) -> int:
    """How many connections reached ``sock`` (queued in its backlog)."""
    sock.setblocking(False)
    count = 0
    while True:
        try:
            conn, _ = sock.accept()
        except BlockingIOError:
            return count
        conn.close()
        count += 1


@dataclass
class Tenants:
    """The example tool with two registrations (platforms A and B) and a tool admin in A."""

    app: Flask
    client: FlaskClient
    store: Store

    def launch(
        self,
        sub: str,
        roles: tuple[str, ...],
        *,
        issuer: str = ISSUER_A,
        client_id: str = "client-a",
        deployment_id: str = "1",
        context: str = "bio-101",
    ) -> str:
        claims: dict[str, Any] = {
            "message_type": MessageType.RESOURCE_LINK,
            "version": "1.3.0",
            "issuer": issuer,
            "client_id": client_id,
            "deployment_id": deployment_id,
            "user": UserIdentity(sub=sub, name=sub.title(), email=f"{sub}@example.edu"),
            "roles": roles,
            "context": LaunchContext(id=context, title="Biology 101"),
            "resource_link": ResourceLink(id="rl-1", title="Week 1"),
            "target_link_uri": "http://tool.test/lti/launch",
        }
        with self.app.app_context():
            return Blendkit.state().launches.save(Launch(**claims))

    def get(self, path: str, launch_id: str) -> Any:
        return self.client.get(path, query_string={"launch": launch_id})

    def post(self, path: str, launch_id: str, data: dict[str, str] | None = None) -> Any:
        page = self.get("/course", launch_id).get_data(as_text=True)
        found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
        assert found, page
        body = {"launch": launch_id, "csrf": found.group(1), **(data or {})}
        return self.client.post(path, data=body)

    def registrations(self) -> set[tuple[str, str]]:
        with self.app.app_context():
            return {(p.issuer, p.client_id) for p in Blendkit.state().tool.registry.list()}


def two_tenants(database_url: str, admins: list[dict[str, str]]) -> Tenants:
    from blendkit_examples.flask_app import create_app

    tool: dict[str, Any] = {"base_url": "http://tool.test", "secret_key": "test-secret"}
    if admins:
        tool["admins"] = admins
    settings = Settings(database={"url": database_url}, tool=tool)
    store = Store(settings.database.url)
    app = create_app(settings, store=store, migrate=True, TESTING=True)
    with app.app_context():
        registry = Blendkit.state().tool.registry
        registry.add(platform(ISSUER_A, "client-a"))
        registry.add(platform(ISSUER_B, "client-b"))
    return Tenants(app=app, client=app.test_client(), store=store)
