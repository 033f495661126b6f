"""A platform in a box for launch tests: its RSA key, Canvas-like claims, login + signed launch.

The platform side is written independently of blendkit's validator: tokens are signed with PyJWT
(or assembled by hand for broken ones) so the tests check blendkit against the JOSE standard,
not against itself.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from blendkit.config import LTISettings
from blendkit.errors import LaunchRejected
from blendkit.lti import (
    HttpRequest,
    HttpResponse,
    InMemoryLoginStateStore,
    InMemoryNonceStore,
    InMemoryPlatformRegistry,
    JWKSCache,
    Launch,
    MessageType,
    Platform,
    ResourceLink,
    Tool,
    UserIdentity,
)
from blendkit.lti._keys import public_jwk

PLATFORM_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ROTATED_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ATTACKER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)

ISSUER = "https://canvas.example.edu"
CLIENT_ID = "10000000000042"
OTHER_CLIENT_ID = "10000000000099"
DEPLOYMENT_ID = "42:9f2a7c"
JWKS_URL = "https://canvas.example.edu/api/lti/security/jwks"
AUTH_URL = "https://canvas.example.edu/api/lti/authorize_redirect"
TOKEN_URL = "https://canvas.example.edu/login/oauth2/token"
TOOL_BASE = "https://tool.example.org"
TARGET = TOOL_BASE + "/course/page"

MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
INSTITUTION = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#"
SYSTEM = "http://purl.imsglobal.org/vocab/lis/v2/system/person#"
LTI = "https://purl.imsglobal.org/spec/lti/claim/"


def jwks_document(*keys: tuple[rsa.RSAPrivateKey, str]) -> dict[str, Any]:
    return {"keys": [public_jwk(key.public_key(), kid) for key, kid in keys]}


class Clock:
    """A settable clock that starts at the real time (stores purge by real time)."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now


class CountingFetcher:
    """Serves JWKS documents from a dict and records every fetch (a fetcher, not an HTTP mock)."""

    def __init__(self, documents: dict[str, Any]) -> None:
        self.documents = documents
        self.calls: list[str] = []

    def fetch(self, url: str) -> Mapping[str, Any]:
        self.calls.append(url)
        document = self.documents.get(url)
        if isinstance(document, Exception):
            raise document
        if document is None:
            raise LaunchRejected(f"{url} unreachable", code="lti.jwks_unavailable")
        return document  # type: ignore[no-any-return]


def platform_jwks_client() -> httpx.Client:
    """A client that answers the platform's JWKS (``PLATFORM_KEY`` as ``p1``) and 404 otherwise."""
    document = jwks_document((PLATFORM_KEY, "p1"))
    return httpx.Client(
        transport=httpx.MockTransport(
            lambda request: (
                httpx.Response(200, json=document)
                if str(request.url) == JWKS_URL
                else httpx.Response(404)
            )
        )
    )


def validated_launch(sub: str = "ana", *, role: str = "Learner") -> Launch:
    """A launch as the validator returns it (a learner of one resource link, no course)."""
    return Launch(
        message_type=MessageType.RESOURCE_LINK,
        version="1.3.0",
        issuer="https://lms.example.edu",
        client_id="client-1",
        deployment_id="dep-1",
        user=UserIdentity(sub=sub, name=sub.title()),
        roles=(MEMBERSHIP + role,),
        resource_link=ResourceLink(id="rl-1"),
        target_link_uri="http://tool.test/lti/launch",
    )


def flask_login(client: Any, tool_base: str = TOOL_BASE) -> tuple[str, str]:
    """Start a login on a Flask test client of the tool; the ``state`` and ``nonce`` it sent."""
    answer = client.get(
        "/lti/login",
        query_string={
            "iss": ISSUER,
            "login_hint": "hint",
            "client_id": CLIENT_ID,
            "target_link_uri": f"{tool_base}/lti/launch",
        },
    )
    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    return query["state"][0], query["nonce"][0]


def canvas_platform(client_id: str = CLIENT_ID, **changes: Any) -> Platform:
    fields: dict[str, Any] = {
        "issuer": ISSUER,
        "client_id": client_id,
        "deployment_ids": (DEPLOYMENT_ID,),
        "auth_login_url": AUTH_URL,
        "auth_token_url": TOKEN_URL,
        "jwks_url": JWKS_URL,
        "name": "Canvas test",
    }
    fields.update(changes)
    return Platform(**fields)


def canvas_claims(login_nonce: str, now: float, **overrides: Any) -> dict[str, Any]:
    """A realistic Canvas resource-link launch for a teacher (about 2 KB once signed)."""
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "azp": CLIENT_ID,
        "sub": "535fa085f22b4655f48cd5a36a9215f64c062838",
        "iat": int(now),
        "exp": int(now) + 3600,
        "nonce": login_nonce,
        "name": "Ada Lovelace",
        "given_name": "Ada",
        "family_name": "Lovelace",
        "email": "ada@example.edu",
        "picture": "https://canvas.example.edu/images/messages/avatar-50.png",
        "locale": "en",
        LTI + "message_type": "LtiResourceLinkRequest",
        LTI + "version": "1.3.0",
        LTI + "deployment_id": DEPLOYMENT_ID,
        LTI + "target_link_uri": TARGET,
        LTI + "resource_link": {
            "id": "6a8aaca162bfc4393804afd4cd53cd94413c48bb",
            "title": "Week 3: live seminar",
            "description": None,
        },
        LTI + "roles": [
            INSTITUTION + "Instructor",
            INSTITUTION + "Student",
            MEMBERSHIP + "Instructor",
            SYSTEM + "User",
        ],
        LTI + "context": {
            "id": "4dde05e8ca1973bcca9bffc13e1548820eee93a3",
            "label": "BIO101",
            "title": "Biology 101",
            "type": ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"],
        },
        LTI + "tool_platform": {
            "guid": "VCSBAl5DYhgwAw5ABDJqQaQWT5U1dvsDmeV5W9Ap:canvas-lms",
            "name": "Example University",
            "version": "cloud",
            "product_family_code": "canvas",
        },
        LTI + "launch_presentation": {
            "document_target": "iframe",
            "return_url": "https://canvas.example.edu/courses/12/external_content/success",
            "locale": "en",
            "height": 400,
            "width": 800,
        },
        LTI + "custom": {"canvas_course_id": 12, "section": "A"},
        LTI + "lis": {"person_sourcedid": "SIS-4711", "course_section_sourcedid": "BIO101-A"},
        "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": {
            "scope": [
                "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                "https://purl.imsglobal.org/spec/lti-ags/scope/score",
            ],
            "lineitems": "https://canvas.example.edu/api/lti/courses/12/line_items",
        },
        "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": {
            "context_memberships_url": "https://canvas.example.edu/api/lti/courses/12/names_and_roles",
            "service_versions": ["2.0"],
        },
        "https://www.instructure.com/placement": "course_navigation",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not DROP}


DROP: Any = object()


def sign(
    claims: Mapping[str, Any],
    *,
    key: rsa.RSAPrivateKey = PLATFORM_KEY,
    kid: str | None = "p1",
    headers: dict[str, Any] | None = None,
) -> str:
    header: dict[str, Any] = dict(headers or {})
    if kid is not None:
        header["kid"] = kid
    return jwt.encode(dict(claims), key, algorithm="RS256", headers=header)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def raw_token(header: dict[str, Any], payload: dict[str, Any], signature: bytes) -> str:
    return ".".join(
        [b64(json.dumps(header).encode()), b64(json.dumps(payload).encode()), b64(signature)]
    )


@dataclass
class Login:
    response: HttpResponse
    state: str
    nonce: str
    cookie: str
    query: dict[str, str]


class Kit:
    """A tool wired to in-memory stores and a Canvas-like platform registration."""

    def __init__(
        self,
        *,
        base_url: str = TOOL_BASE,
        settings: LTISettings | None = None,
        platforms: list[Platform] | None = None,
        documents: dict[str, Any] | None = None,
    ) -> None:
        self.clock = Clock()
        self.registry = InMemoryPlatformRegistry(
            platforms if platforms is not None else [canvas_platform()]
        )
        self.states = InMemoryLoginStateStore()
        self.nonces = InMemoryNonceStore()
        self.fetcher = CountingFetcher(
            documents if documents is not None else {JWKS_URL: jwks_document((PLATFORM_KEY, "p1"))}
        )
        self.jwks = JWKSCache(self.fetcher, ttl_seconds=3600, clock=self.clock)
        self.tool = Tool(
            registry=self.registry,
            states=self.states,
            nonces=self.nonces,
            jwks_cache=self.jwks,
            base_url=base_url,
            settings=settings,
            clock=self.clock,
        )

    def login(self, method: str = "POST", **params: str) -> Login:
        fields = {
            "iss": ISSUER,
            "login_hint": "hint-1",
            "target_link_uri": TARGET,
            "client_id": CLIENT_ID,
            "lti_message_hint": "msg-hint",
        }
        fields.update(params)
        fields = {k: v for k, v in fields.items() if v is not DROP}
        if method == "GET":
            request = HttpRequest(method="GET", url=TOOL_BASE + "/lti/login", query=fields)
        else:
            request = HttpRequest(method="POST", url=TOOL_BASE + "/lti/login", form=fields)
        response = self.tool.login(request)
        cookie = response.cookies[0].value
        location = response.header("Location")
        if location is not None:
            query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        else:  # platform-storage page: the auth URL is in the data-next attribute
            import html
            import re

            match = re.search(r'data-next="([^"]+)"', response.body)
            assert match
            query = {k: v[0] for k, v in parse_qs(urlsplit(html.unescape(match[1])).query).items()}
        return Login(response, query["state"], query["nonce"], cookie, query)

    def launch_request(
        self, token: str | None, state: str | None, cookie: str | None, **form: str
    ) -> HttpRequest:
        fields = dict(form)
        if token is not None:
            fields["id_token"] = token
        if state is not None:
            fields["state"] = state
        cookies = {self.tool.cookie_name: cookie} if cookie is not None else {}
        return HttpRequest(
            method="POST", url=TOOL_BASE + "/lti/launch", form=fields, cookies=cookies
        )

    def good_request(self, **overrides: Any) -> HttpRequest:
        login = self.login()
        token = sign(canvas_claims(login.nonce, self.clock.now, **overrides))
        return self.launch_request(token, login.state, login.cookie)


def new_id() -> str:
    return uuid.uuid4().hex
