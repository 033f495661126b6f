"""blendkit errors on the host app's routes: JSON for clients that ask for it, the host's own
HTTP error handling otherwise; blendkit's own routes always answer blendkit's page (what the LMS
frame shows)."""

from __future__ import annotations

import pytest
from flask import Flask

from blendkit import Store
from blendkit.integrations.flask import Blendkit
from tests.integrations.conftest import AppFactory


def _app(make_app: AppFactory, store: Store) -> Flask:
    app = make_app(store)

    @app.get("/api/launch")
    def api_launch() -> dict[str, str]:
        launch = Blendkit.current_launch()
        assert launch is not None
        return {"sub": launch.user.sub}

    return app


@pytest.mark.parametrize(
    "accept",
    ["application/json", "application/json, text/plain;q=0.5", "text/html;q=0.1, application/json"],
)
def test_host_route_answers_json_to_a_json_client(
    make_app: AppFactory, sqlite_store: Store, accept: str
) -> None:
    answer = (
        _app(make_app, sqlite_store).test_client().get("/api/launch", headers={"Accept": accept})
    )
    assert answer.status_code == 401
    assert answer.mimetype == "application/json"
    assert answer.get_json()["error"] == "lti.launch_session_expired"
    assert answer.get_json()["message"]
    assert answer.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("accept", [None, "*/*", "text/html,application/xhtml+xml,*/*;q=0.8"])
def test_host_route_leaves_a_browser_to_the_host_error_handling(
    make_app: AppFactory, sqlite_store: Store, accept: str | None
) -> None:
    headers = {} if accept is None else {"Accept": accept}
    answer = _app(make_app, sqlite_store).test_client().get("/api/launch", headers=headers)
    assert answer.status_code == 401
    assert answer.mimetype == "text/html"
    body = answer.get_data(as_text=True)
    assert "Unauthorized" in body  # the host's (here Werkzeug's default) 401 page
    assert "The launch was refused" not in body


def test_blendkit_routes_answer_the_page_even_to_a_json_client(
    make_app: AppFactory, sqlite_store: Store
) -> None:
    client = _app(make_app, sqlite_store).test_client()
    answer = client.post("/lti/launch", data={"state": "x"}, headers={"Accept": "application/json"})
    assert answer.status_code == 400
    assert answer.mimetype == "text/html"
    assert "<code>lti.missing_id_token</code>" in answer.get_data(as_text=True)
