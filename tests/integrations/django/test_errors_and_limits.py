"""Errors in Django's idiom (page or JSON), database outages, body caps and CSRF."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from django.test import Client

from blendkit import Store
from blendkit.integrations.django import DjangoRuntime
from tests.integrations.django.conftest import Install

CLOSED_PORT_URL = "postgresql+psycopg://postgres:hunter2@127.0.0.1:1/nowhere"


@pytest.mark.parametrize(
    ("path", "accept", "json_answer"),
    [
        ("/api/refuses", "application/json", True),
        ("/api/refuses", "*/*", True),
        ("/api/refuses", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8", False),
        ("/api/marked", "text/html", True),
        ("/marked-page", "application/json", False),
    ],
)
def test_host_view_errors_answer_in_the_clients_idiom(
    runtime: DjangoRuntime, client: Client, path: str, accept: str, json_answer: bool
) -> None:
    answer = client.get(path, headers={"Accept": accept})
    assert answer.status_code == 401
    if json_answer:
        assert answer.headers["Content-Type"] == "application/json"
        assert answer.json() == {"error": "lti.launch_session_expired", "message": "no launch here"}
    else:
        assert answer.headers["Content-Type"].startswith("text/html")
        assert "lti.launch_session_expired" in answer.content.decode()


def test_a_json_body_gets_a_json_error(runtime: DjangoRuntime, client: Client) -> None:
    answer = client.post(
        "/api/refuses", data="{}", content_type="application/json", headers={"Accept": "text/html"}
    )
    assert answer.json()["error"] == "lti.launch_session_expired"


def test_blendkit_routes_answer_with_the_page_even_to_json_clients(
    runtime: DjangoRuntime, client: Client
) -> None:
    answer = client.post("/lti/launch", {"state": "x"}, headers={"Accept": "application/json"})
    assert answer.status_code == 400
    assert answer.headers["Content-Type"].startswith("text/html")


def test_other_exceptions_stay_djangos(runtime: DjangoRuntime) -> None:
    with pytest.raises(ValueError, match="not a blendkit error"):
        Client().get("/crashes")


def test_a_refusal_is_logged_once_by_code(
    runtime: DjangoRuntime, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    caplog.clear()
    client.get("/api/refuses")
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert lines == ["request refused: lti.launch_session_expired no launch here"]


def _unreadable_sqlite(tmp_path: Path) -> Store:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the database's directory should be")
    return Store(f"sqlite:///{blocker / 'tool.sqlite3'}")


@pytest.fixture(params=["postgres-refused", "sqlite-unreadable"])
def unavailable(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "postgres-refused":
        return Store(CLOSED_PORT_URL)
    return _unreadable_sqlite(tmp_path)


@pytest.mark.parametrize(
    ("path", "accept", "json_answer"),
    [
        ("/page", "text/html", False),
        ("/page", "application/json", True),
        ("/lti/jwks", "*/*", False),
        ("/course?launch=abc", "text/html", False),
    ],
)
def test_unreachable_database_is_503_with_one_short_log_line(
    install: Install,
    client: Client,
    unavailable: Store,
    path: str,
    accept: str,
    json_answer: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    install(unavailable, migrate=False)
    caplog.set_level(logging.DEBUG)
    caplog.clear()
    answer = client.get(path, headers={"Accept": accept})
    assert answer.status_code == 503
    assert int(answer.headers["Retry-After"]) > 0
    if json_answer:
        assert answer.json()["error"] == "store.unavailable"
    else:
        assert "store.unavailable" in answer.content.decode()
    records = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert len(records) == 1, [r.getMessage() for r in records]
    assert records[0].levelno == logging.WARNING
    assert records[0].exc_info is None
    assert path.split("?", maxsplit=1)[0] in records[0].getMessage()
    assert "Traceback" not in caplog.text
    assert "SELECT" not in caplog.text.upper()
    assert "hunter2" not in caplog.text


def test_a_body_declared_above_the_lti_cap_is_413_before_it_is_read(
    install: Install, client: Client
) -> None:
    install(tool={"max_webhook_bytes": 2048, "max_request_bytes": 8192})
    answer = client.post(
        "/lti/launch", {"id_token": "x" * 4000, "state": "s"}, headers={"Accept": "*/*"}
    )
    assert answer.status_code == 413
    assert answer.headers["Content-Type"].startswith("text/html")  # a platform route: the page
    assert "request.too_large" in answer.content.decode()
    # A host page has the larger cap: the same body passes.
    assert client.post("/form", {"text": "x" * 4000}).content == b"posted 4000"


def test_a_body_declared_above_the_page_cap_is_413(install: Install) -> None:
    install(tool={"max_webhook_bytes": 2048, "max_request_bytes": 8192})
    client = Client()
    answer = client.post("/form", {"text": "x" * 9000}, headers={"Accept": "application/json"})
    assert answer.status_code == 413
    assert answer.json()["error"] == "request.too_large"
    assert client.post("/form", {"text": "x" * 100}).content == b"posted 100"


def test_csrf_stays_on_for_host_views_and_off_for_platform_posts(runtime: DjangoRuntime) -> None:
    client = Client(enforce_csrf_checks=True)
    assert client.post("/form", {"text": "hi"}).status_code == 403
    # The platform's form posts carry no Django token: state + nonce protect them instead.
    assert client.post("/lti/launch", {"state": "x"}).status_code == 400
    assert client.post("/lti/login", {"iss": "https://unknown.example"}).status_code != 403


def test_platform_routes_may_be_framed_and_host_pages_keep_djangos_default(
    runtime: DjangoRuntime, client: Client
) -> None:
    for answer in (
        client.post("/lti/launch", {"state": "x"}),
        client.get("/lti/login", {"iss": "https://unknown.example"}),
        client.get("/lti/register"),
    ):
        assert "X-Frame-Options" not in answer.headers
    assert client.post("/form", {"text": "hi"}).headers["X-Frame-Options"] == "DENY"
