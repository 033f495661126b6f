"""Cookie-less launches (LTI Platform Storage) through every adapter, without a browser.

The test plays the platform's storage frame: it keeps what the tool's login page asks it to
``lti.put_data``, drops the tool's cookie (as a browser blocking third-party cookies would), and
answers the bridge page's ``lti.get_data`` by posting the bridge form with the stored value, as
the page's script does. That the pages' scripts really run in a browser is checked once, on the
example app in Chromium (``tests/e2e/test_platform_storage_browser.py``); here each adapter must
pass the pages, their Content-Security-Policy and the storage-backed state through unchanged.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conformance.deployment import ToolUnderTest
from tests.e2e.form_browser import forms
from tests.e2e.lti_platform import launch_origin

pytestmark = pytest.mark.e2e


class _DataAttributes(HTMLParser):
    """The ``data-*`` attributes of the element with ``id="lti"``."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id") == "lti":
            self.data = {k[5:]: v or "" for k, v in values.items() if k.startswith("data-")}


def _data(page: str) -> dict[str, str]:
    parser = _DataAttributes()
    parser.feed(page)
    assert parser.data, page
    return parser.data


def _script_allowed_by_csp(answer: httpx.Response) -> None:
    (script,) = re.findall(r"<script>(.*?)</script>", answer.text, flags=re.S)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in answer.headers["content-security-policy"]
    assert answer.headers["cache-control"] == "no-store"


def _storage_login(
    client: httpx.Client, tool: ToolUnderTest, user: str
) -> tuple[dict[str, str], str]:
    """The tool's storage login page: what it puts in platform storage and where it goes next."""
    start = client.get(tool.platform.launch_url(user=user, role="learner", storage=True))
    login_url = start.headers["location"]
    assert "lti_storage_target=_parent" in login_url
    page = client.get(login_url)
    assert page.status_code == 200, page.text
    _script_allowed_by_csp(page)
    data = _data(page.text)
    assert data["origin"] == launch_origin(tool.platform.auth_login_url)
    assert data["target"] == "_parent"
    assert data["next"].startswith(tool.platform.auth_login_url)
    stored: dict[str, str] = dict(json.loads(data["items"]))
    return stored, data["next"]


def _launch_through_bridge(
    client: httpx.Client, tool: ToolUnderTest, user: str, *, storage_answers: bool
) -> httpx.Response:
    """Storage login, then the launch without the tool's cookie: the bridge page, whose form is
    posted with the value the platform's storage answers (or a value it never held)."""
    stored, auth_url = _storage_login(client, tool, user)
    with httpx.Client(timeout=30) as cookieless:
        auth = cookieless.get(auth_url)
        (launch_form,) = forms(auth.text)
        bridge = cookieless.post(launch_form.action, data=launch_form.fields)
        assert bridge.status_code == 200, bridge.text
        _script_allowed_by_csp(bridge)
        (form,) = forms(bridge.text)
        assert urlsplit(form.action).path == "/lti/launch"
        assert {"id_token", "state", "lti_storage_value"} <= set(form.fields)
        value = stored[_data(bridge.text)["key"]] if storage_answers else "x" * 43
        return cookieless.post(form.action, data=dict(form.fields, lti_storage_value=value))


def test_launch_without_cookie_succeeds_through_platform_storage(
    tool: ToolUnderTest, client: httpx.Client
) -> None:
    answer = _launch_through_bridge(client, tool, "student-3", storage_answers=True)
    assert answer.status_code == 200, answer.text
    assert answer.json()["sub"] == "student-3"


def test_launch_without_cookie_or_storage_value_is_refused(
    tool: ToolUnderTest, client: httpx.Client
) -> None:
    answer = _launch_through_bridge(client, tool, "student-4", storage_answers=False)
    assert answer.status_code in {400, 401}, answer.text
    assert "lti.browser_mismatch" in answer.text
    assert "student-4" not in answer.text
