"""Validate an LTI 1.3 launch end to end with blendkit's sans-IO tool, no web framework needed.

Plays both sides: a stand-in platform (its RSA key and JWKS served from memory) and the tool,
whose registrations, keys, login states and used nonces live in a SQLite store.

    python docs/examples/validate_launch.py
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from blendkit.config import Settings
from blendkit.errors import LaunchRejected
from blendkit.lti import (
    HttpRequest,
    Launch,
    Platform,
    Tool,
    error_response,
    public_jwk,
)
from blendkit.store import Store

ISSUER = "https://moodle.example.edu"
LTI = "https://purl.imsglobal.org/spec/lti/claim/"

platform_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
platform_jwks = {"keys": [public_jwk(platform_key.public_key(), "moodle-1")]}


class InMemoryJWKS:
    """Stands in for the platform's JWKS endpoint (HttpxJWKSFetcher fetches it in production)."""

    def fetch(self, url: str) -> Mapping[str, Any]:
        return platform_jwks


def main() -> Launch:
    store = Store(f"sqlite:///{Path(tempfile.mkdtemp()) / 'blendkit.sqlite3'}")
    store.migrate()
    settings = Settings(tool={"base_url": "https://tool.example.org"})
    # In production leave jwks_fetcher out: platform keys are then fetched over HTTPS.
    tool = Tool.from_store(store, settings, jwks_fetcher=InMemoryJWKS())
    tool.registry.add(
        Platform(
            issuer=ISSUER,
            client_id="blendkit-client",
            deployment_ids=("1",),
            auth_login_url=ISSUER + "/mod/lti/auth.php",
            auth_token_url=ISSUER + "/mod/lti/token.php",
            jwks_url=ISSUER + "/mod/lti/certs.php",
            name="Moodle",
        )
    )

    # 1. The platform starts the OIDC login; the tool answers a redirect and a binding cookie.
    login = tool.login(
        HttpRequest(
            method="POST",
            url="https://tool.example.org/lti/login",
            form={
                "iss": ISSUER,
                "login_hint": "2",
                "target_link_uri": "https://tool.example.org/lti/launch",
                "client_id": "blendkit-client",
            },
        )
    )
    query = {k: v[0] for k, v in parse_qs(urlsplit(login.header("Location") or "").query).items()}
    cookie = login.cookies[0]

    # 2. The platform signs the id_token with the nonce it was given and posts it back.
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": "blendkit-client",
        "sub": "2",
        "iat": now,
        "exp": now + 60,
        "nonce": query["nonce"],
        "name": "Ada Lovelace",
        LTI + "message_type": "LtiResourceLinkRequest",
        LTI + "version": "1.3.0",
        LTI + "deployment_id": "1",
        LTI + "target_link_uri": "https://tool.example.org/lti/launch",
        LTI + "resource_link": {"id": "42", "title": "Week 1 seminar"},
        LTI + "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
        LTI + "context": {"id": "7", "label": "BIO101", "title": "Biology 101"},
    }
    id_token = jwt.encode(claims, platform_key, algorithm="RS256", headers={"kid": "moodle-1"})
    request = HttpRequest(
        method="POST",
        url="https://tool.example.org/lti/launch",
        form={"id_token": id_token, "state": query["state"]},
        cookies={cookie.name: cookie.value},
    )

    # 3. The tool validates it and hands back a typed Launch.
    launch = tool.launch(request)
    assert launch.context is not None
    print(f"{launch.user.name} opened {launch.context.title}; learner={launch.is_learner}")

    # 4. The same form posted again is refused, with a code and a page for the browser.
    try:
        tool.launch(request)
    except LaunchRejected as rejected:
        page = error_response(rejected)
        print(f"replay refused: {rejected.code} (HTTP {page.status})")
    store.dispose()
    return launch


if __name__ == "__main__":
    main()
