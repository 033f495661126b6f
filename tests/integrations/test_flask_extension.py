"""The Flask extension follows Flask's extension guide: every piece of per-app state lives in
``app.extensions["blendkit"]``, so one :class:`Blendkit` serves several apps without sharing
their launch handlers; the HTTP client it creates is closed with the app; production apps are
migrated by command, not by ``init_app``."""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient

from blendkit import Settings, Store
from blendkit.integrations.flask import Blendkit
from blendkit.lti import Launch, StorePlatformRegistry
from tests.fence import public_fence
from tests.lti.launch_kit import (
    canvas_claims,
    canvas_platform,
    flask_login,
    platform_jwks_client,
    sign,
)

BASE = "https://tool.example.org"


def _settings(database: str, environment: str = "production") -> Settings:
    return Settings(
        database={"url": database},
        tool={"base_url": BASE, "secret_key": "test-secret", "environment": environment},
    )


@pytest.fixture
def jwks() -> Iterator[httpx.Client]:
    client = platform_jwks_client()
    yield client
    client.close()


@pytest.fixture
def tool_store(tmp_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'tool.sqlite3'}")
    store.migrate()
    StorePlatformRegistry(store).add(canvas_platform())
    yield store
    store.dispose()


def _launch(client: FlaskClient) -> str:
    """One login and launch from the platform; the launch page's text."""
    state, nonce = flask_login(client, BASE)
    token = sign(canvas_claims(nonce, time.time()))
    answer = client.post("/lti/launch", data={"id_token": token, "state": state})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_data(as_text=True)


# -- several apps, one extension ------------------------------------------------------------


def test_one_extension_serves_two_apps_each_with_its_own_launch_handler(
    tool_store: Store, jwks: httpx.Client
) -> None:
    bk = Blendkit(settings=_settings("sqlite://"), store=tool_store, http_client=jwks)
    first, second = Flask("first"), Flask("second")
    bk.init_app(first, fence=public_fence())
    bk.init_app(second, fence=public_fence())

    @bk.on_launch(app=first)
    def to_first(launch: Launch, launch_id: str) -> str:
        return f"first app: {launch.user.sub}"

    @bk.on_launch(app=second)
    def to_second(launch: Launch, launch_id: str) -> str:
        return f"second app: {launch.user.sub}"

    assert _launch(first.test_client()).startswith("first app: ")
    assert _launch(second.test_client()).startswith("second app: ")
    assert Blendkit.state(first) is not Blendkit.state(second)


def test_a_handler_registered_on_the_extension_serves_apps_without_their_own(
    tool_store: Store, jwks: httpx.Client
) -> None:
    bk = Blendkit(settings=_settings("sqlite://"), store=tool_store, http_client=jwks)

    @bk.on_launch
    def shared(launch: Launch, launch_id: str) -> str:
        return "shared handler"

    plain, own = Flask("plain"), Flask("own")
    bk.init_app(plain, fence=public_fence())
    bk.init_app(own, fence=public_fence())

    @bk.on_launch(app=own)
    def owned(launch: Launch, launch_id: str) -> str:
        return "own handler"

    assert _launch(plain.test_client()) == "shared handler"
    assert _launch(own.test_client()) == "own handler"


def test_a_handler_for_one_app_refuses_an_app_the_extension_never_initialised(
    tool_store: Store, jwks: httpx.Client
) -> None:
    bk = Blendkit(settings=_settings("sqlite://"), store=tool_store, http_client=jwks)
    with pytest.raises(RuntimeError, match="init_app"):
        bk.on_launch(app=Flask("stranger"))


# -- closing --------------------------------------------------------------------------------


def test_close_closes_the_client_the_extension_created_but_not_one_passed_in(
    tool_store: Store, jwks: httpx.Client
) -> None:
    made, lent = Flask("made"), Flask("lent")
    Blendkit(made, settings=_settings("sqlite://"), store=tool_store)
    Blendkit(lent, settings=_settings("sqlite://"), store=tool_store, http_client=jwks)
    created = Blendkit.state(made).http_client
    Blendkit.close(made)
    Blendkit.close(lent)
    assert created.is_closed
    assert not jwks.is_closed, "a client passed in belongs to the caller"
    assert "blendkit" not in made.extensions
    Blendkit.close(made)  # closing twice is harmless


def test_close_releases_the_connections_of_a_store_the_extension_opened(tmp_path: Path) -> None:
    app = Flask("own_store")
    url = f"sqlite:///{tmp_path / 'own.sqlite3'}"
    Blendkit(app, settings=_settings(url), migrate=True)
    store = Blendkit.state(app).store
    assert app.test_client().get("/readyz").status_code == 200
    assert store.engine.pool.checkedin() > 0, "the pool kept the connection readyz used"
    Blendkit.close(app)
    assert store.engine.pool.checkedin() == 0


def test_an_app_that_goes_away_closes_its_client(tool_store: Store) -> None:
    app = Flask("short_lived")
    Blendkit(app, settings=_settings("sqlite://"), store=tool_store)
    created = Blendkit.state(app).http_client
    del app
    gc.collect()
    assert created.is_closed


# -- migrations by command in production ----------------------------------------------------


def test_production_init_does_not_migrate_and_readyz_names_the_command(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    app = Flask("production")
    with caplog.at_level(logging.WARNING, logger="blendkit"):
        Blendkit(app, settings=_settings(store.url.render_as_string()), store=store)
    assert store.pending_migrations(), "init_app migrated a production database"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, warnings
    assert "blendkit db upgrade" in warnings[0]
    answer = app.test_client().get("/readyz")
    assert answer.status_code == 503
    body = answer.get_json()
    assert body["reason"] == "migrations_pending"
    assert "blendkit db upgrade" in body["action"]
    store.migrate()  # what `blendkit db upgrade` does
    assert app.test_client().get("/readyz").status_code == 200
    Blendkit.close(app)
    store.dispose()


@pytest.mark.parametrize(("environment", "migrate"), [("development", None), ("production", True)])
def test_init_migrates_outside_production_or_when_asked(
    tmp_path: Path, environment: str, migrate: bool | None
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'tool.sqlite3'}")
    app = Flask(environment)
    settings = _settings(store.url.render_as_string(), environment)
    Blendkit(app, settings=settings, store=store, migrate=migrate)
    assert store.pending_migrations() == []
    assert app.test_client().get("/readyz").status_code == 200
    Blendkit.close(app)
    store.dispose()
