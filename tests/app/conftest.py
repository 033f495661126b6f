"""The example tool on a real SQLite store, with launches saved as the adapter saves them."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from blendkit import Settings, Store
from blendkit.integrations.flask import Blendkit
from blendkit.lti import Launch, LaunchContext, MessageType, ResourceLink, UserIdentity
from blendkit.sessions import FakeMeetingProvider

ISSUER = "https://lms.example.edu"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
ADMIN = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"


@dataclass
class Tool:
    app: Flask
    client: FlaskClient
    provider: FakeMeetingProvider
    store: Store
    launch: Callable[..., str]

    def get(self, path: str, launch_id: str, **params: str):  # type: ignore[no-untyped-def]
        return self.client.get(path, query_string={"launch": launch_id, **params})

    def post(self, path: str, launch_id: str, data: dict | None = None, **kw):  # type: ignore[no-untyped-def]
        body = {"launch": launch_id, "csrf": self.csrf(launch_id), **(data or {})}
        return self.client.post(path, data=body, **kw)

    def csrf(self, launch_id: str) -> str:
        page = self.get("/course", launch_id).get_data(as_text=True)
        found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
        assert found, "every page with forms carries the launch-bound CSRF token"
        return found.group(1)


def launcher(app: Flask) -> Callable[..., str]:
    """Saves launches in ``app``'s launch store as the LTI adapter does; returns their ids."""

    def launch(
        sub: str = "ana",
        *,
        roles: tuple[str, ...] = (LEARNER,),
        name: str = "Ana",
        zone: str | None = "Europe/Berlin",
        deep_linking: dict | None = None,
        context: str = "bio-101",
    ) -> str:
        claims = {
            "message_type": MessageType.DEEP_LINKING if deep_linking else MessageType.RESOURCE_LINK,
            "version": "1.3.0",
            "issuer": ISSUER,
            "client_id": "client-1",
            "deployment_id": "dep-1",
            "user": UserIdentity(sub=sub, name=name, email=f"{sub}@example.edu"),
            "roles": roles,
            "context": LaunchContext(id=context, title="Biology 101: Cells"),
            "resource_link": ResourceLink(id="rl-1", title="Week 1"),
            "target_link_uri": "http://tool.test/lti/launch",
            "custom": {"timezone": zone} if zone else {},
        }
        if deep_linking:
            claims["deep_linking_settings"] = deep_linking
        with app.app_context():
            launch_id = Blendkit.state().launches.save(Launch(**claims))
        return launch_id

    return launch


@pytest.fixture
def tool(tmp_path: Path) -> Iterator[Tool]:
    from blendkit_examples.flask_app import create_app

    settings = Settings(
        database={"url": f"sqlite:///{tmp_path / 'tool.sqlite3'}"},
        tool={
            "base_url": "http://tool.test",
            "secret_key": "test-secret",
            # The admin pages' tests act as "boss", the tool's administrator.
            "admins": [{"issuer": ISSUER, "sub": "boss"}],
        },
    )
    store = Store(settings.database.url)
    provider = FakeMeetingProvider(max_webhook_age=timedelta(days=30))
    app = create_app(settings, store=store, provider=provider, migrate=True, TESTING=True)

    launch = launcher(app)
    client = app.test_client()
    yield Tool(app=app, client=client, provider=provider, store=store, launch=launch)
    store.dispose()
