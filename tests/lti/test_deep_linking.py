"""Deep Linking responses: signed for the platform, checked against the request, no data: null."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blendkit.errors import LTIError
from blendkit.lti._claims import DeepLinkingSettings
from blendkit.lti._deep_linking import (
    DeepLinkLineItem,
    FileItem,
    HtmlItem,
    IframeOptions,
    LinkItem,
    ResourceLinkItem,
    TimeWindow,
    build_deep_linking_response,
    deep_linking_response,
)
from blendkit.lti._keys import KeySet
from blendkit.lti._launch import Launch
from blendkit.store import Store
from tests.encryption import ENCRYPTION

ISSUER = "https://moodle.example.edu"
CLIENT_ID = "abc123"
DATA_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/data"
ITEMS_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"


@pytest.fixture
def keys(sqlite_store: Store) -> KeySet:
    return KeySet(sqlite_store, encryption=ENCRYPTION)


def request_settings(**overrides: Any) -> DeepLinkingSettings:
    values: dict[str, Any] = {
        "deep_link_return_url": "https://moodle.example.edu/mod/lti/contentitem_return.php?id=7",
        "accept_types": ["ltiResourceLink", "link", "html", "file"],
        "accept_presentation_document_targets": ["iframe", "window", "embed"],
        "accept_multiple": True,
        "accept_lineitem": True,
    }
    values.update(overrides)
    return DeepLinkingSettings.model_validate(values)


def verify(keys: KeySet, token: str) -> dict[str, Any]:
    """Verify like a platform does: the tool's JWKS, by kid, RS256, audience = issuer."""
    kid = jwt.get_unverified_header(token)["kid"]
    (jwk,) = [k for k in keys.jwks()["keys"] if k["kid"] == kid]
    return jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=["RS256"], audience=ISSUER)


QUIZ = ResourceLinkItem(
    url="https://tool.example.edu/lti/launch?activity=quiz-1",
    title="Quiz 1",
    text="Week one quiz",
    line_item=DeepLinkLineItem(score_maximum=10, label="Quiz 1", resource_id="quiz-1", tag="quiz"),
    custom={"activity": "quiz-1"},
    iframe=IframeOptions(width=800, height=600),
    available=TimeWindow(start_date_time=datetime(2026, 12, 1, 9, tzinfo=UTC)),
)


def test_response_verifies_against_the_tool_jwks_without_a_data_claim(keys: KeySet) -> None:
    response = build_deep_linking_response(
        signer=keys,
        issuer=ISSUER,
        client_id=CLIENT_ID,
        deployment_id="7",
        settings=request_settings(),
        items=[QUIZ],
        msg="Added Quiz 1",
    )
    claims = verify(keys, response.jwt)
    assert claims["iss"] == CLIENT_ID
    assert claims["aud"] == ISSUER
    assert claims["nonce"]
    assert claims["exp"] > claims["iat"]
    assert claims["https://purl.imsglobal.org/spec/lti/claim/deployment_id"] == "7"
    assert (
        claims["https://purl.imsglobal.org/spec/lti/claim/message_type"] == "LtiDeepLinkingResponse"
    )
    assert claims["https://purl.imsglobal.org/spec/lti/claim/version"] == "1.3.0"
    assert claims["https://purl.imsglobal.org/spec/lti-dl/claim/msg"] == "Added Quiz 1"
    assert DATA_CLAIM not in claims  # the request carried no data: no "data": null either
    (item,) = claims[ITEMS_CLAIM]
    assert item["type"] == "ltiResourceLink"
    assert item["lineItem"] == {
        "scoreMaximum": 10.0,
        "label": "Quiz 1",
        "resourceId": "quiz-1",
        "tag": "quiz",
    }
    assert item["custom"] == {"activity": "quiz-1"}
    assert item["iframe"] == {"width": 800, "height": 600}
    assert item["available"] == {"startDateTime": "2026-12-01T09:00:00+00:00"}
    assert "window" not in item  # absent options are left out, never null


@pytest.mark.parametrize("data", ["csrf-token-123", ""])
def test_data_from_the_request_is_echoed_verbatim(keys: KeySet, data: str) -> None:
    response = build_deep_linking_response(
        signer=keys,
        issuer=ISSUER,
        client_id=CLIENT_ID,
        deployment_id="7",
        settings=request_settings(data=data),
        items=[],
    )
    claims = verify(keys, response.jwt)
    assert claims[DATA_CLAIM] == data
    assert claims[ITEMS_CLAIM] == []


def test_other_item_types(keys: KeySet) -> None:
    items = [
        LinkItem(url="https://example.org/reading", title="Reading"),
        HtmlItem(html="<p>Hello</p>"),
        FileItem(url="https://tool.example.edu/files/1.pdf", media_type="application/pdf"),
    ]
    response = build_deep_linking_response(
        signer=keys,
        issuer=ISSUER,
        client_id=CLIENT_ID,
        deployment_id="7",
        settings=request_settings(accept_media_types="application/pdf,image/*"),
        items=items,
    )
    assert [i["type"] for i in verify(keys, response.jwt)[ITEMS_CLAIM]] == [
        "link",
        "html",
        "file",
    ]


@pytest.mark.parametrize(
    ("overrides", "items", "code"),
    [
        ({"accept_types": ["link"]}, [QUIZ], "lti.deep_linking_type_not_accepted"),
        ({"accept_multiple": False}, [QUIZ, QUIZ], "lti.deep_linking_multiple_not_accepted"),
        ({"accept_multiple": None}, [QUIZ, QUIZ], "lti.deep_linking_multiple_not_accepted"),
        ({"accept_lineitem": False}, [QUIZ], "lti.deep_linking_lineitem_not_accepted"),
        (
            {"accept_presentation_document_targets": ["window"]},
            [QUIZ],
            "lti.deep_linking_target_not_accepted",
        ),
        (
            {"accept_media_types": "image/*"},
            [FileItem(url="https://t.example/a.pdf", media_type="application/pdf")],
            "lti.deep_linking_media_type_not_accepted",
        ),
        (
            {"deep_link_return_url": "javascript:alert(1)"},
            [QUIZ],
            "lti.deep_linking_return_url",
        ),
    ],
)
def test_items_the_request_does_not_accept_are_refused(
    keys: KeySet, overrides: dict[str, Any], items: list[Any], code: str
) -> None:
    with pytest.raises(LTIError) as caught:
        build_deep_linking_response(
            signer=keys,
            issuer=ISSUER,
            client_id=CLIENT_ID,
            deployment_id="7",
            settings=request_settings(**overrides),
            items=items,
        )
    assert caught.value.code == code


def test_from_a_launch(keys: KeySet) -> None:
    launch = Launch.model_validate(
        {
            "message_type": "LtiDeepLinkingRequest",
            "version": "1.3.0",
            "issuer": ISSUER,
            "client_id": CLIENT_ID,
            "deployment_id": "dep-1",
            "user": {"sub": "teacher-1"},
            "target_link_uri": "https://tool.example.edu/lti/launch",
            "deep_linking_settings": request_settings().model_dump(),
        }
    )
    claims = verify(keys, deep_linking_response(launch, [QUIZ], signer=keys).jwt)
    assert claims["https://purl.imsglobal.org/spec/lti/claim/deployment_id"] == "dep-1"
    plain = launch.model_copy(update={"deep_linking_settings": None})
    with pytest.raises(LTIError) as caught:
        deep_linking_response(plain, [QUIZ], signer=keys)
    assert caught.value.code == "lti.not_deep_linking"


# --- the auto-submitting page ----------------------------------------------------------------


class _FormReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self.buttons = 0
        self.scripts: list[str] = []
        self.script_srcs: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action = values["action"]
        elif tag == "input":
            self.fields[values["name"]] = values["value"]
        elif tag == "button":
            self.buttons += 1
        elif tag == "script":
            self._in_script = True
            if "src" in values:
                self.script_srcs.append(values["src"])

    def handle_endtag(self, tag: str) -> None:
        self._in_script = self._in_script and tag != "script"

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(alphabet="abc\"<>&'= ", max_size=20), title=st.text(max_size=40))
def test_page_posts_the_jwt_to_the_return_url(keys: KeySet, query: str, title: str) -> None:
    url = "https://canvas.example.edu/courses/1/deep_linking_response?x=" + query
    response = build_deep_linking_response(
        signer=keys,
        issuer=ISSUER,
        client_id=CLIENT_ID,
        deployment_id="7",
        settings=request_settings(deep_link_return_url=url),
        items=[ResourceLinkItem(title=title)],
    )
    page = response.html_response()
    reader = _FormReader()
    reader.feed(page.body)
    assert reader.action == url
    assert reader.fields == {"JWT": response.jwt}
    assert reader.buttons == 1  # usable without JavaScript
    assert reader.script_srcs == []
    (script,) = reader.scripts
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    csp = page.header("Content-Security-Policy") or ""
    assert f"'sha256-{digest}'" in csp
    assert re.search(r"form-action https://canvas\.example\.edu(;|$)", csp)
    assert verify(keys, reader.fields["JWT"])[ITEMS_CLAIM][0].get("title", "") == title
