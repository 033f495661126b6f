"""Platform public keys: fetch a JWKS once, keep the parsed key objects, refetch sparingly.

Parsing a JWK into a key object costs far more than a signature check, so parsed keys are cached
per JWKS URL (each registration names its own URL, so tenants never share keys by accident). An
unknown ``kid`` triggers at most one refetch per URL per ``refetch_interval``: a platform that
rotated its key is picked up at once, while a stream of forged kids cannot make the tool hammer
the platform. Fetching is the only I/O, behind :class:`JWKSFetcher`.

Each URL has its own lock: a platform whose key set is slow holds only the launches that need
that key set, never another tenant's cold launch; the fetch itself goes through the outbound
:class:`~blendkit.http.Fence`, so it ends at the fence's total deadline and byte cap.
"""

from __future__ import annotations

import base64
import binascii
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

import httpx
import orjson
from cryptography.hazmat.primitives.asymmetric import rsa

from blendkit.errors import LaunchRejected, OutboundError
from blendkit.http import Fence
from blendkit.lti._jws import shown

__all__ = [
    "AsyncHttpxJWKSFetcher",
    "HttpxJWKSFetcher",
    "JWKSCache",
    "JWKSFetcher",
    "jwks_document",
    "jwks_request",
    "parse_jwks",
]

_MAX_JWKS_BYTES = 512 * 1024
_MIN_RSA_BITS = 2048


def _unavailable(url: str, why: str) -> LaunchRejected:
    return LaunchRejected(
        f"the platform's key set at {url} {why}; check the JWKS URL of this registration "
        "(`blendkit platform list`) and that the platform is reachable from the tool",
        code="lti.jwks_unavailable",
        http_status=502,
    )


@runtime_checkable
class JWKSFetcher(Protocol):
    """Fetches a JWKS document; raises ``LaunchRejected(code="lti.jwks_unavailable")``."""

    def fetch(self, url: str) -> Mapping[str, Any]:
        """The decoded JSON document at ``url``."""
        ...


class HttpxJWKSFetcher:
    """Fetch through the outbound ``fence`` with an injected (or private) ``httpx.Client``.

    Redirects are followed by the fence (each hop checked); the answer is capped at 512 KiB and
    the whole fetch at the fence's deadline. Without ``fence`` the production fence applies.
    """

    def __init__(
        self,
        client: httpx.Client | None = None,
        *,
        timeout: float = 10.0,
        fence: Fence | None = None,
    ) -> None:
        self._client = client or httpx.Client(timeout=timeout, follow_redirects=False)
        self._timeout = timeout
        self._fence = fence or Fence()

    def fetch(self, url: str) -> Mapping[str, Any]:
        try:
            response = self._fence.send(
                self._client,
                jwks_request(self._client, url, self._timeout),
                follow_redirects=True,
                max_bytes=_MAX_JWKS_BYTES,
            )
        except (OutboundError, httpx.HTTPError) as exc:
            raise _not_fetched(url, exc) from None
        return jwks_document(url, response)


class AsyncHttpxJWKSFetcher:
    """:class:`HttpxJWKSFetcher` over an ``httpx.AsyncClient`` (:meth:`Fence.send_async`): the
    same request, caps and answers; only the sending is asynchronous."""

    def __init__(
        self, client: httpx.AsyncClient, *, timeout: float = 10.0, fence: Fence | None = None
    ) -> None:
        self._client = client
        self._timeout = timeout
        self._fence = fence or Fence()

    async def fetch(self, url: str) -> Mapping[str, Any]:
        """The decoded JSON document at ``url``; raises ``LaunchRejected`` like the sync fetch."""
        try:
            response = await self._fence.send_async(
                self._client,
                jwks_request(self._client, url, self._timeout),
                follow_redirects=True,
                max_bytes=_MAX_JWKS_BYTES,
            )
        except (OutboundError, httpx.HTTPError) as exc:
            raise _not_fetched(url, exc) from None
        return jwks_document(url, response)


def jwks_request(
    client: httpx.Client | httpx.AsyncClient, url: str, timeout: float
) -> httpx.Request:
    """The GET that fetches a platform's key set (sans-IO: built, not sent)."""
    return client.build_request("GET", url, timeout=timeout, headers={"Accept": "application/json"})


def _not_fetched(url: str, exc: OutboundError | httpx.HTTPError) -> LaunchRejected:
    if isinstance(exc, OutboundError):
        return LaunchRejected(
            f"the platform's key set was not fetched: {exc.message}",
            code=exc.code,
            http_status=502,
        )
    # One wording for refused, closed, silent and trickling servers.
    return _unavailable(url, "could not be reached or did not answer in time")


def jwks_document(url: str, response: httpx.Response) -> Mapping[str, Any]:
    """The JSON object a key-set answer carries, or ``lti.jwks_unavailable`` naming why not."""
    if response.status_code != 200:
        raise _unavailable(url, f"answered HTTP {response.status_code}")
    try:
        document = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        raise _unavailable(url, "did not return JSON") from None
    if not isinstance(document, dict):
        raise _unavailable(url, "did not return a JSON object")
    return document


def _b64_int(value: Any) -> int:
    if not isinstance(value, str) or not value:
        raise ValueError("not a base64url string")
    raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    return int.from_bytes(raw, "big")


def parse_jwks(document: Mapping[str, Any]) -> dict[str, rsa.RSAPublicKey]:
    """RSA signature keys of a JWKS by ``kid``; keys for other uses or algorithms are skipped.

    Raises ValueError when the document holds no usable key at all.
    """
    keys = document.get("keys")
    if not isinstance(keys, list):
        raise ValueError('no "keys" list')
    parsed: dict[str, rsa.RSAPublicKey] = {}
    for jwk in keys:
        if not isinstance(jwk, dict) or jwk.get("kty") != "RSA":
            continue
        if jwk.get("use", "sig") != "sig" or jwk.get("alg", "RS256") != "RS256":
            continue
        kid = jwk.get("kid")
        if not isinstance(kid, str):
            continue
        try:
            key = rsa.RSAPublicNumbers(_b64_int(jwk.get("e")), _b64_int(jwk.get("n"))).public_key()
        except (ValueError, binascii.Error):
            continue
        if key.key_size < _MIN_RSA_BITS:
            continue
        parsed[kid] = key
    if not parsed:
        raise ValueError("no usable RSA signature key (RS256, 2048 bits or more, with a kid)")
    return parsed


class _Entry:
    __slots__ = ("fetched_at", "keys", "last_refetch")

    def __init__(self, keys: dict[str, rsa.RSAPublicKey], fetched_at: float) -> None:
        self.keys = keys
        self.fetched_at = fetched_at
        self.last_refetch = fetched_at


class JWKSCache:
    """Parsed platform keys per JWKS URL, refreshed after ``ttl_seconds``."""

    def __init__(
        self,
        fetcher: JWKSFetcher,
        *,
        ttl_seconds: float = 3600,
        refetch_interval_seconds: float = 30,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetcher = fetcher
        self._ttl = ttl_seconds
        self._refetch_interval = refetch_interval_seconds
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    def _download(self, url: str) -> dict[str, rsa.RSAPublicKey]:
        document = self._fetcher.fetch(url)
        try:
            return parse_jwks(document)
        except ValueError as exc:
            raise _unavailable(url, f"returned an unusable document ({exc})") from None

    def _refresh(self, url: str, now: float) -> _Entry:
        keys = self._download(url)
        entry = _Entry(keys, now)
        self._entries[url] = entry
        return entry

    def _lock_for(self, url: str) -> threading.Lock:
        with self._guard:
            lock = self._locks.get(url)
            if lock is None:
                if len(self._locks) > 10_000:  # many tenants: drop locks nobody holds
                    self._locks = {u: k for u, k in self._locks.items() if k.locked()}
                lock = self._locks[url] = threading.Lock()
            return lock

    def get(self, url: str, kid: str) -> rsa.RSAPublicKey:
        """The key ``kid`` published at ``url``; raises lti.unknown_kid or lti.jwks_unavailable.

        Only callers that need the same ``url`` wait for each other's fetch.
        """
        entry = self._entries.get(url)
        now = self._clock()
        if entry is not None and now - entry.fetched_at < self._ttl:
            key = entry.keys.get(kid)
            if key is not None:
                return key
        with self._lock_for(url):
            entry = self._entries.get(url)
            now = self._clock()
            if entry is None:
                entry = self._refresh(url, now)
            elif now - entry.fetched_at >= self._ttl:
                try:
                    entry = self._refresh(url, now)
                except LaunchRejected:
                    # Keep launching with the keys we have while the platform is briefly down.
                    if kid not in entry.keys:
                        raise
            elif kid not in entry.keys and now - entry.last_refetch >= self._refetch_interval:
                entry.last_refetch = now
                fresh = self._download(url)
                entry.keys = fresh
                entry.fetched_at = now
        key = entry.keys.get(kid)
        if key is None:
            raise LaunchRejected(
                f"the platform signed the launch with key id {shown(kid)}, which its key set at "
                f"{url} does not publish; if the platform just rotated its keys, retry in a "
                "minute, otherwise check the JWKS URL of this registration",
                code="lti.unknown_kid",
            )
        return key

    def clear(self) -> None:
        """Forget every cached key set."""
        with self._guard:
            self._entries.clear()
