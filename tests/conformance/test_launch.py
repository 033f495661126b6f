"""Login initiation (GET and POST), launch, kept launches and replay, for every adapter."""

from __future__ import annotations

from typing import Literal

import httpx
import pytest

from tests.conformance.deployment import ToolUnderTest, kept, launch
from tests.e2e.lti_platform import ROLE_URIS

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_login_then_launch_answers_the_apps_json(
    tool: ToolUnderTest, client: httpx.Client, method: Literal["GET", "POST"]
) -> None:
    body = launch(client, tool, user="student-1", role="learner", method=method).json()
    assert body["sub"] == "student-1"
    assert body["context_id"] == tool.platform.context.id
    assert body["roles"] == ROLE_URIS["learner"]
    assert body["message_type"] == "LtiResourceLinkRequest"
    assert body["launch_id"]


def test_the_login_answer_binds_the_browser_and_is_never_cached(
    tool: ToolUnderTest, client: httpx.Client
) -> None:
    start = client.get(tool.platform.launch_url(user="student-2", role="learner"))
    answer = client.get(start.headers["location"])
    assert answer.status_code == 302
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers.get("set-cookie"), "the login sets the browser-binding cookie"
    assert "httponly" in answer.headers["set-cookie"].lower()


def test_a_kept_launch_is_found_by_its_id(tool: ToolUnderTest, client: httpx.Client) -> None:
    first = launch(client, tool, user="teacher-1", role="instructor").json()
    again = kept(client, tool, first["launch_id"], f"/conformance/launch/{first['launch_id']}")
    assert again.status_code == 200, again.text
    assert again.json() == first


def test_an_unknown_launch_id_is_refused(tool: ToolUnderTest, client: httpx.Client) -> None:
    answer = kept(client, tool, "no-such-launch", "/conformance/launch/no-such-launch")
    assert answer.status_code == 401
    assert "lti.launch_session_expired" in answer.text


def test_a_replayed_id_token_is_refused_with_its_code(
    tool: ToolUnderTest, client: httpx.Client
) -> None:
    first = launch(client, tool, user="student-3", role="learner")
    assert first.answer.status_code == 200
    replay = client.post(first.form.action, data=first.form.fields)
    assert replay.status_code == 400, replay.text
    assert "lti.state_mismatch" in replay.text
    assert "student-3" not in replay.text


def test_a_launch_without_id_token_names_the_reason(
    tool: ToolUnderTest, client: httpx.Client
) -> None:
    answer = client.post(tool.path("/lti/launch"), data={"state": "x"})
    assert answer.status_code == 400
    assert "lti.missing_id_token" in answer.text


def test_a_launch_by_get_is_refused(tool: ToolUnderTest, client: httpx.Client) -> None:
    answer = client.get(tool.path("/lti/launch"))
    assert answer.status_code == 405
    assert "lti.bad_launch_request" in answer.text


def test_jwks_and_canvas_configuration_are_published(
    tool: ToolUnderTest, client: httpx.Client
) -> None:
    keys = client.get(tool.path("/lti/jwks"))
    assert keys.status_code == 200
    assert "max-age" in keys.headers["cache-control"]
    assert keys.json()["keys"]
    assert all(k["kty"] == "RSA" and "d" not in k for k in keys.json()["keys"])
    canvas = client.get(tool.path("/lti/canvas.json"))
    assert canvas.status_code == 200
    assert canvas.json()["oidc_initiation_url"] == tool.path("/lti/login")
