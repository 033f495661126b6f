"""Access tokens for LTI Advantage services: a JWT client assertion (RFC 7523) signed by the
tool's key buys a bearer token, cached per platform, client and scopes until near its expiry."""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, Protocol

import httpx
from pydantic import BaseModel, ConfigDict, Field

from blendkit.errors import ServiceError
from blendkit.http import Fence, RetryPolicy
from blendkit.lti._platform_sender import PLATFORM_RETRY, PlatformSender

__all__ = [
    "CLIENT_ASSERTION_TYPE",
    "AccessToken",
    "AccessTokens",
    "Signer",
    "TokenPlatform",
    "token_endpoint",
]

log = logging.getLogger("blendkit.lti.services")

CLIENT_ASSERTION_TYPE: Final = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_OAUTH_ERROR = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


class TokenPlatform(Protocol):
    """What the token endpoint needs to know about a platform (a registry ``Platform`` fits)."""

    @property
    def issuer(self) -> str: ...

    @property
    def client_id(self) -> str: ...

    @property
    def auth_token_url(self) -> str: ...

    @property
    def auth_audience(self) -> str | None: ...


class Signer(Protocol):
    """Signs claims RS256 with the tool's current key and names it in the ``kid`` header."""

    def sign(self, claims: Mapping[str, Any], headers: Mapping[str, Any] | None = None) -> str: ...


class AccessToken(BaseModel):
    """A bearer token for some scopes of one platform; its value is kept out of ``repr``."""

    model_config = ConfigDict(frozen=True)

    value: str = Field(repr=False)
    scopes: frozenset[str]
    expires_at: float


class AccessTokens:
    """Fetches and caches service access tokens per (issuer, client_id, scopes); thread-safe."""

    def __init__(
        self,
        signer: Signer,
        *,
        http: httpx.Client | None = None,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        assertion_lifetime: int = 300,
        refresh_margin: float = 60.0,
        fence: Fence | None = None,
    ) -> None:
        self.signer = signer
        self._sender = PlatformSender(
            http,
            timeout=timeout,
            retry=retry or PLATFORM_RETRY,
            clock=clock,
            sleep=sleep,
            fence=fence,
        )
        self.assertion_lifetime = assertion_lifetime
        self.refresh_margin = refresh_margin
        self._cache: dict[tuple[str, str, tuple[str, ...]], AccessToken] = {}
        self._locks: dict[tuple[str, str, tuple[str, ...]], threading.Lock] = {}
        self._guard = threading.Lock()

    @property
    def http(self) -> httpx.Client:
        return self._sender.http

    @property
    def timeout(self) -> float:
        return self._sender.timeout

    @property
    def fence(self) -> Fence:
        return self._sender.fence

    @property
    def retry(self) -> RetryPolicy:
        return self._sender.retry

    @property
    def clock(self) -> Callable[[], float]:
        return self._sender.clock

    @property
    def sleep(self) -> Callable[[float], None]:
        return self._sender.sleep

    def close(self) -> None:
        """Close the HTTP client if this object created it."""
        self._sender.close()

    def __enter__(self) -> AccessTokens:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def _key(platform: TokenPlatform, scopes: Iterable[str]) -> tuple[str, str, tuple[str, ...]]:
        return (platform.issuer, platform.client_id, tuple(sorted(set(scopes))))

    def _fresh(self, token: AccessToken | None) -> bool:
        return token is not None and self.clock() < token.expires_at

    def get(self, platform: TokenPlatform, scopes: Iterable[str]) -> AccessToken:
        """A valid token for ``scopes``: cached when fresh, else fetched once for all callers."""
        key = self._key(platform, scopes)
        if not key[2]:
            raise ValueError("at least one scope is needed for an access token")
        with self._guard:
            token = self._cache.get(key)
            if self._fresh(token):
                assert token is not None
                return token
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            with self._guard:
                token = self._cache.get(key)
            if self._fresh(token):
                assert token is not None
                return token
            token = self._fetch(platform, key[2])
            with self._guard:
                self._cache[key] = token
            return token

    def invalidate(self, platform: TokenPlatform, scopes: Iterable[str]) -> None:
        """Forget the cached token (the platform rejected it before its expiry)."""
        with self._guard:
            self._cache.pop(self._key(platform, scopes), None)

    def client_assertion(self, platform: TokenPlatform) -> str:
        """The RFC 7523 client assertion: iss = sub = client_id, aud = audience or token URL."""
        now = int(self.clock())
        claims: dict[str, Any] = {
            "iss": platform.client_id,
            "sub": platform.client_id,
            "aud": platform.auth_audience or platform.auth_token_url,
            "iat": now,
            "exp": now + self.assertion_lifetime,
            "jti": uuid.uuid4().hex,
        }
        return self.signer.sign(claims, {"typ": "JWT"})

    def cached(self, platform: TokenPlatform, scopes: Iterable[str]) -> AccessToken | None:
        """The cached token for ``scopes`` while it is fresh (no fetch)."""
        with self._guard:
            token = self._cache.get(self._key(platform, scopes))
        return token if token is not None and self._fresh(token) else None

    def keep(self, platform: TokenPlatform, scopes: Iterable[str], token: AccessToken) -> None:
        """Cache ``token`` (fetched elsewhere, e.g. by an async sender) for every caller."""
        with self._guard:
            self._cache[self._key(platform, scopes)] = token

    def token_form(self, platform: TokenPlatform, scopes: Iterable[str]) -> dict[str, str]:
        """The form of one token request (a fresh assertion: new jti and iat every try)."""
        return {
            "grant_type": "client_credentials",
            "client_assertion_type": CLIENT_ASSERTION_TYPE,
            "client_assertion": self.client_assertion(platform),
            "scope": " ".join(scopes),
        }

    def _fetch(self, platform: TokenPlatform, scopes: tuple[str, ...]) -> AccessToken:
        def build() -> httpx.Request:
            # A fresh assertion (new jti, iat) for every try: platforms may reject a replayed jti.
            return self.http.build_request(
                "POST",
                platform.auth_token_url,
                data=self.token_form(platform, scopes),
                headers={"Accept": "application/json"},
                timeout=self.timeout,
            )

        response = self._sender.send(
            build,
            idempotent=True,
            what=token_endpoint(platform),
            unavailable_code="lti.token_endpoint_unavailable",
        )
        return self.token_from(platform, scopes, response)

    def token_from(
        self, platform: TokenPlatform, scopes: tuple[str, ...], response: httpx.Response
    ) -> AccessToken:
        """The token a token endpoint's answer grants, or a :class:`ServiceError` naming why not."""
        what = token_endpoint(platform)
        if response.status_code != 200:
            raise ServiceError(_refusal(platform, response), code="lti.token_refused")
        try:
            body = response.json()
            value = body["access_token"]
            token_type = str(body.get("token_type", "Bearer"))
            lifetime = float(body.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError) as exc:
            raise ServiceError(
                f"{what} answered 200 without a usable access_token/expires_in in JSON; the "
                "platform's token endpoint URL may be wrong (check the registration).",
                code="lti.token_response_invalid",
            ) from exc
        if not isinstance(value, str) or not value or token_type.lower() != "bearer":
            raise ServiceError(
                f"{what} returned a token of type {token_type!r}; only Bearer tokens are usable.",
                code="lti.token_response_invalid",
            )
        granted = body.get("scope")
        granted_scopes = (
            frozenset(granted.split())
            if isinstance(granted, str) and granted
            else frozenset(scopes)
        )
        margin = min(self.refresh_margin, lifetime / 2)
        log.info(
            "access token issued by %s for client %s, scopes %s, lifetime %.0f s",
            platform.issuer,
            platform.client_id,
            " ".join(sorted(granted_scopes)),
            lifetime,
        )
        return AccessToken(
            value=value, scopes=granted_scopes, expires_at=self.clock() + lifetime - margin
        )


def token_endpoint(platform: TokenPlatform) -> str:
    """How log lines and errors name a platform's token endpoint."""
    return f"token endpoint {platform.auth_token_url} of {platform.issuer}"


def _refusal(platform: TokenPlatform, response: httpx.Response) -> str:
    reason = f"HTTP {response.status_code}"
    try:
        body = response.json()
    except ValueError:
        body = None
    # Only the OAuth error code (RFC 6749 §5.2), never free text from the answer body.
    error = body.get("error") if isinstance(body, Mapping) else None
    if isinstance(error, str) and _OAUTH_ERROR.fullmatch(error):
        reason += f" {error}"
    return (
        f"platform {platform.issuer} refused an access token for client_id "
        f"{platform.client_id!r} ({reason}). Check that the platform's registration of the tool "
        "has the tool's JWKS URL and that the client_id and token URL stored for the platform "
        "are the platform's own."
    )
