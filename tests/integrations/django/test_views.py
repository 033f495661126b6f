"""blendkit's routes in a Django project, through Django's test client."""

from __future__ import annotations

import json

from django.test import Client

from blendkit.integrations.django import DjangoRuntime
from tests.integrations.django.conftest import Install


def test_jwks_is_published_and_cacheable(runtime: DjangoRuntime, client: Client) -> None:
    answer = client.get("/lti/jwks")
    assert answer.status_code == 200
    keys = answer.json()["keys"]
    assert keys
    assert all(k["kty"] == "RSA" and "d" not in k for k in keys)
    assert answer.headers["Cache-Control"] == "public, max-age=300"


def test_canvas_json_names_the_tool_urls_under_base_url(install: Install, client: Client) -> None:
    install(tool={"base_url": "https://lms.example.edu/blendkit"})
    body = client.get("/lti/canvas.json").json()
    assert body["oidc_initiation_url"] == "https://lms.example.edu/blendkit/lti/login"
    assert body["target_link_uri"] == "https://lms.example.edu/blendkit/lti/launch"


def test_login_without_a_known_issuer_is_refused_by_get_and_post(
    runtime: DjangoRuntime, client: Client
) -> None:
    for answer in (
        client.get("/lti/login", {"iss": "https://unknown.example", "login_hint": "u"}),
        client.post("/lti/login", {"iss": "https://unknown.example", "login_hint": "u"}),
    ):
        assert 400 <= answer.status_code < 500
        assert answer.headers["Content-Type"].startswith("text/html")
        assert "lti." in answer.content.decode()
        assert answer.headers["Cache-Control"] == "no-store"


def test_launch_without_a_login_is_refused_with_a_named_reason(
    runtime: DjangoRuntime, client: Client
) -> None:
    answer = client.post("/lti/launch", {"state": "x"})
    assert answer.status_code == 400
    assert "lti.missing_id_token" in answer.content.decode()


def test_launch_by_get_is_refused(runtime: DjangoRuntime, client: Client) -> None:
    answer = client.get("/lti/launch")
    assert answer.status_code == 405
    assert "lti.bad_launch_request" in answer.content.decode()


def test_registration_is_off_by_default(runtime: DjangoRuntime, client: Client) -> None:
    answer = client.get("/lti/register", {"invite": "secret-invite"})
    assert answer.status_code == 403
    assert "lti.registration_disabled" in answer.content.decode()


def test_health_and_readiness(install: Install, client: Client) -> None:
    install(migrate=False)
    assert client.get("/healthz").json() == {"status": "ok"}
    pending = client.get("/readyz")
    assert pending.status_code == 503
    assert int(pending.headers["Retry-After"]) > 0
    install(migrate=True)
    ready = client.get("/readyz")
    assert (ready.status_code, json.loads(ready.content)) == (200, {"status": "ready"})
