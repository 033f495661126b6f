"""The Flask adapter runs a launch in one transaction: state, nonce, launch session and the app's
own writes commit together, so a launch whose handler fails leaves nothing and can be retried,
and an accepted launch still cannot be replayed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from blendkit import Settings, Store
from blendkit.integrations.flask import Blendkit, in_one_transaction
from blendkit.lti import Launch, StorePlatformRegistry
from blendkit.store._tables_core import lti_launches, lti_login_states, lti_nonces
from tests.fence import public_fence
from tests.lti.launch_kit import (
    canvas_claims,
    canvas_platform,
    flask_login,
    platform_jwks_client,
    sign,
)

BASE = "https://tool.example.org"


@dataclass
class App:
    client: FlaskClient
    store: Store
    handler_fails: list[bool]

    def count(self, table: object) -> int:
        with self.store.session() as s:
            return int(s.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]

    def login(self) -> tuple[str, str]:
        return flask_login(self.client, BASE)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    settings = Settings(
        database={"url": f"sqlite:///{tmp_path / 'tool.sqlite3'}"},
        tool={"base_url": BASE, "secret_key": "test-secret"},
    )
    store = Store(settings.database.url)
    jwks = platform_jwks_client()
    flask_app = Flask(__name__)
    bk = Blendkit(
        flask_app,
        settings=settings,
        store=store,
        http_client=jwks,
        fence=public_fence(),
        migrate=True,
    )
    StorePlatformRegistry(store).add(canvas_platform())
    fails = [True]
    marks: list[str] = []

    @bk.on_launch
    def launched(launch: Launch, launch_id: str) -> str:
        # The app's own write, through the store, before it fails.
        with store.session() as s:
            s.execute(
                lti_nonces.insert().values(
                    issuer="app-mark", nonce=launch_id, expires_at=datetime.now(UTC)
                )
            )
        if fails[0]:
            raise RuntimeError("the app's handler failed")
        marks.append(launch_id)
        return f"welcome {launch.user.sub}"

    @flask_app.get("/count")
    @in_one_transaction
    def count() -> str:
        with store.transaction() as a, store.transaction() as b:
            assert a is b, "transactions inside a transactional view share one connection"
            return str(a.execute(select(func.count()).select_from(lti_launches)).scalar_one())

    yield App(flask_app.test_client(), store, fails)
    jwks.close()
    store.dispose()


def test_a_failed_handler_leaves_nothing_and_the_same_launch_can_be_retried(app: App) -> None:
    state, nonce = app.login()
    token = sign(canvas_claims(nonce, time.time()))
    form = {"id_token": token, "state": state}

    assert app.client.post("/lti/launch", data=form).status_code == 500
    assert app.count(lti_launches) == 0, "no launch session from a failed launch"
    assert app.count(lti_nonces) == 0, "neither the nonce nor the handler's own write stayed"
    assert app.count(lti_login_states) == 1, "the login state was not consumed"

    app.handler_fails[0] = False
    accepted = app.client.post("/lti/launch", data=form)
    assert accepted.status_code == 200
    assert accepted.get_data(as_text=True).startswith("welcome ")
    assert app.count(lti_launches) == 1
    assert app.count(lti_nonces) == 2, "the launch's nonce and the handler's write, together"
    assert app.count(lti_login_states) == 0

    replay = app.client.post("/lti/launch", data=form)
    assert replay.status_code in (400, 401, 403)
    assert app.count(lti_launches) == 1, "an accepted launch is never accepted twice"


def test_a_refused_launch_writes_nothing(app: App) -> None:
    state, nonce = app.login()
    token = sign(canvas_claims(nonce, time.time(), aud="someone-else", azp="someone-else"))
    refused = app.client.post("/lti/launch", data={"id_token": token, "state": state})
    assert refused.status_code in (400, 401, 403)
    assert "lti.unknown_client" in refused.get_data(as_text=True)
    assert app.count(lti_launches) == 0
    assert app.count(lti_nonces) == 0


def test_a_transactional_view_reads_through_one_session(app: App) -> None:
    answer = app.client.get("/count")
    assert answer.status_code == 200
    assert answer.get_data(as_text=True) == "0"
