"""An independent LTI platform and the example tool, each on its own loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from blendkit import Settings, Store
from blendkit.lti import Platform, StorePlatformRegistry
from blendkit_examples.flask_app import create_app
from tests.e2e.form_browser import FormBrowser
from tests.e2e.lti_platform import LTIPlatform
from tests.e2e.servers import ThreadedServer


@dataclass
class Deployment:
    platform: LTIPlatform
    tool_url: str
    app: Flask
    store: Store


def registered_tool(
    tmp_path: Path, platform: LTIPlatform, tool_url: str, **tool: Any
) -> tuple[Settings, Store]:
    """Settings of a tool at ``tool_url`` (plus ``[tool]`` keys ``tool``) and its migrated SQLite
    store, ``platform`` registered."""
    settings = Settings(
        database={"url": f"sqlite:///{tmp_path / 'tool.sqlite3'}"},
        tool={"base_url": tool_url, "secret_key": "e2e-secret", **tool},
        # The platform runs on loopback over http: allowed explicitly, in production mode.
        http={"allowed_hosts": ["127.0.0.1", "localhost"]},
    )
    store = Store(settings.database.url)
    store.migrate()
    StorePlatformRegistry(store).add(
        Platform(
            issuer=platform.issuer,
            client_id=platform.client_id,
            deployment_ids=(platform.deployment_id,),
            auth_login_url=platform.auth_login_url,
            auth_token_url=platform.token_url,
            jwks_url=platform.jwks_url,
            name="lti1p3platform e2e",
        )
    )
    return settings, store


@contextmanager
def running_deployment(tmp_path: Path, *, platform_host: str = "127.0.0.1") -> Iterator[Deployment]:
    """The example tool on 127.0.0.1 and a platform (optionally on another site: localhost)."""
    tool_server = ThreadedServer()
    platform = LTIPlatform(host=platform_host)
    platform.configure_tool(tool_server.url)
    settings, store = registered_tool(tmp_path, platform, tool_server.url)
    app = create_app(settings, store=store, migrate=True, TESTING=True)
    tool_server.start(app)
    platform.start()
    try:
        yield Deployment(platform=platform, tool_url=tool_server.url, app=app, store=store)
    finally:
        platform.stop()
        tool_server.stop()
        store.dispose()


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    with running_deployment(tmp_path) as running:
        yield running


@pytest.fixture
def browser() -> Iterator[FormBrowser]:
    b = FormBrowser()
    yield b
    b.close()
