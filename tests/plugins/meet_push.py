"""A stand-in for Google's token signing: an RSA key, its certificate served like
``https://www.googleapis.com/oauth2/v1/certs``, and Pub/Sub push requests carrying OIDC tokens
signed with it (or with a key Google never published)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from blendkit_meet import FencedRequest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google.auth import crypt, jwt

from blendkit.http import Fence
from blendkit.sessions import WebhookRequest
from tests.fence import public_fence

AUDIENCE = "https://tool.example.edu/webhooks/meet"
PUSHER = "meet-push@blendkit-test.iam.gserviceaccount.com"
CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
SPACE = "spaces/jQCFfuBOdN5z"
SUBSCRIPTION_SOURCE = "//workspaceevents.googleapis.com/subscriptions/meet-sub-1"


@dataclass
class SigningKey:
    kid: str
    private_pem: bytes
    certificate_pem: str

    @classmethod
    def generate(cls, kid: str) -> SigningKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "securetoken.test")])
        now = datetime.now(UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=2))
            .sign(key, hashes.SHA256())
        )
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return cls(kid, pem, cert.public_bytes(serialization.Encoding.PEM).decode())

    def sign(self, claims: dict[str, Any], *, kid: str | None = None) -> str:
        signer = crypt.RSASigner.from_string(self.private_pem, key_id=kid or self.kid)  # type: ignore[no-untyped-call]
        token: bytes = jwt.encode(signer, claims)  # type: ignore[no-untyped-call]
        return token.decode("ascii")


def claims(**changes: Any) -> dict[str, Any]:
    """What Pub/Sub puts in a push token, valid for an hour from now; ``changes`` override."""
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": "https://accounts.google.com",
        "aud": AUDIENCE,
        "azp": "113774264463038321964",
        "sub": "113774264463038321964",
        "email": PUSHER,
        "email_verified": True,
        "iat": now - 5,
        "exp": now + 3600,
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


@dataclass
class CertsEndpoint:
    """Google's certificate endpoint: serves the published keys, counts fetches."""

    keys: list[SigningKey]
    cache_control: str = "public, max-age=21600, must-revalidate, no-transform"
    status: int = 200
    fetches: int = 0
    seen: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        assert str(request.url) == CERTS_URL, request.url
        self.fetches += 1
        body = {k.kid: k.certificate_pem for k in self.keys}
        return httpx.Response(self.status, json=body, headers={"cache-control": self.cache_control})


def push_body(
    event_type: str,
    data: dict[str, Any] | None,
    *,
    event_id: str = "ev-1",
    subject: str = f"//meet.googleapis.com/{SPACE}",
    time_: str = "2026-12-07T10:00:00Z",
    message_id: str = "1234567890",
) -> bytes:
    attributes = {
        "ce-id": event_id,
        "ce-type": event_type,
        "ce-source": SUBSCRIPTION_SOURCE,
        "ce-specversion": "1.0",
        "ce-subject": subject,
        "ce-time": time_,
        "ce-datacontenttype": "application/json",
    }
    message: dict[str, Any] = {
        "attributes": attributes,
        "messageId": message_id,
        "publishTime": "2026-12-07T10:00:01Z",
    }
    if data is not None:
        message["data"] = base64.b64encode(json.dumps(data).encode()).decode()
    return json.dumps(
        {"message": message, "subscription": "projects/blendkit-test/subscriptions/meet-push"}
    ).encode()


def push(body: bytes, token: str | None, *, method: str = "POST") -> WebhookRequest:
    headers = {"content-type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return WebhookRequest(method=method, path="/webhooks/meet", headers=headers, body=body)


def google_request(
    handler: Callable[[httpx.Request], httpx.Response], *, fence: Fence | None = None
) -> FencedRequest:
    """The plugin's google-auth transport (fenced, no real sleeping) over a MockTransport."""
    client = httpx.Client(transport=httpx.MockTransport(handler))
    return FencedRequest(client, fence=fence or public_fence(), sleep=lambda _: None)
