"""blendkit's HTML error page answers blendkit's own routes and the views that opt in; the host
app's routes keep their idiom: JSON for JSON requests, the host's own handlers otherwise. A
database outage is a 503 with ``Retry-After`` on every route."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from blendkit import Store
from blendkit.errors import LaunchRejected
from blendkit.integrations.flask import Blendkit
from tests.integrations.conftest import AppFactory
from tests.lti.launch_kit import validated_launch

JSON = {"Accept": "application/json"}
CLOSED_PORT_URL = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"


def _routes(app: Flask) -> Flask:
    @app.get("/api/progress")
    def api_progress() -> dict[str, Any]:
        launch = Blendkit.current_launch()
        return {"user": launch.user.sub if launch else None}

    @app.get("/plain")
    def plain() -> str:
        Blendkit.current_launch()
        return "never"

    @app.get("/course")
    @Blendkit.launch_required
    def course() -> str:
        launch = Blendkit.current_launch()
        assert launch is not None
        return f"course of {launch.user.sub}"

    @app.post("/api/refuse")
    def refuse() -> str:
        raise LaunchRejected("no such thing", code="lti.test_refusal", http_status=409)

    return app


@pytest.fixture
def app(make_app: AppFactory, store: Store) -> Flask:
    return _routes(make_app(store))


def test_a_json_request_to_a_host_route_gets_a_json_error(app: Flask) -> None:
    answer = app.test_client().get("/api/progress", headers=JSON)
    assert answer.status_code == 401
    assert answer.content_type.startswith("application/json")
    error = answer.get_json()
    assert error["error"] == "lti.launch_session_expired"
    assert "LMS" in error["message"]
    assert answer.headers["Cache-Control"] == "no-store"


def test_a_json_body_to_a_host_route_gets_a_json_error(app: Flask) -> None:
    answer = app.test_client().post("/api/refuse", json={"any": "thing"})
    assert answer.status_code == 409
    assert answer.get_json() == {"error": "lti.test_refusal", "message": "no such thing"}


def test_a_host_page_is_left_to_the_host_error_handlers(app: Flask) -> None:
    @app.errorhandler(401)
    def host_unauthorised(error: Exception) -> tuple[str, int]:
        return "the host's own 401 page", 401

    answer = app.test_client().get("/plain", headers={"Accept": "text/html"})
    assert answer.status_code == 401
    assert answer.get_data(as_text=True) == "the host's own 401 page"


def test_a_host_page_without_handlers_gets_the_framework_page_with_the_reason(app: Flask) -> None:
    answer = app.test_client().get("/plain", headers={"Accept": "text/html"})
    assert answer.status_code == 401
    text = answer.get_data(as_text=True)
    assert "lti.launch_session_expired" in text
    assert "The launch was refused" not in text, "not blendkit's page on a host route"


def test_a_view_that_opts_in_gets_blendkits_page(app: Flask) -> None:
    answer = app.test_client().get("/course", headers={"Accept": "text/html"})
    assert answer.status_code == 401
    assert answer.content_type.startswith("text/html")
    text = answer.get_data(as_text=True)
    assert "The launch was refused" in text
    assert "lti.launch_session_expired" in text


def test_a_view_that_opts_in_serves_a_kept_launch(app: Flask) -> None:
    launch_id = Blendkit.state(app).launches.save(validated_launch("ana"))
    answer = app.test_client().get("/course", query_string={"launch": launch_id})
    assert answer.status_code == 200
    assert answer.get_data(as_text=True) == "course of ana"


def test_blendkits_routes_keep_their_page_even_for_json_clients(app: Flask) -> None:
    answer = app.test_client().get("/lti/launch", headers=JSON)
    assert answer.status_code == 405
    assert answer.content_type.startswith("text/html")
    assert "lti.bad_launch_request" in answer.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/api/progress", "/plain", "/course"])
def test_an_outage_is_503_on_every_route(make_app: AppFactory, path: str) -> None:
    app = _routes(make_app(Store(CLOSED_PORT_URL), migrate=False))
    answer = app.test_client().get(path, query_string={"launch": "x" * 43}, headers=JSON)
    assert answer.status_code == 503
    assert int(answer.headers["Retry-After"]) > 0
