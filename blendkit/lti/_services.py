"""Access tokens for LTI Advantage services, and the authorised HTTP session AGS and NRPS share.

A tool proves who it is to the platform's token endpoint with a JWT client assertion (RFC 7523,
IMS Security Framework §4.1) signed by its current key, and receives a short-lived bearer token
for the scopes it asked for. :class:`AccessTokens` caches those tokens per platform, client and
scope set until shortly before they expire, so a burst of grade posts asks the platform once.
:class:`ServiceSession` sends the service calls themselves with timeouts, bounded retries on
5xx/429 (honouring ``Retry-After``) and one token refresh on a 401. Tokens and assertions never
reach a log line or an error message, and neither do the platform's answer bodies.

Every exchange goes through the outbound :class:`~blendkit.http.Fence`. Service URLs come from
launch claims, so :meth:`ServiceSession.request` checks each one (https, public addresses, and
the registration's ``service_hosts`` pin when it has one) *before* an access token is requested
or sent.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Final, Protocol
from urllib.parse import urljoin, urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field

from blendkit import http as shared_http
from blendkit.errors import OutboundError, ServiceError
from blendkit.http import Failure, Fence, RetryPolicy
from blendkit.lti._service_calls import PageTrail, ServiceCall
from blendkit.lti._service_urls import admit

__all__ = [
    "CLIENT_ASSERTION_TYPE",
    "AccessToken",
    "AccessTokens",
    "PLATFORM_RETRY",
    "PlatformSender",
    "ServiceSession",
    "Signer",
    "TokenPlatform",
    "next_page_url",
    "redact",
    "require_scopes",
    "response_json",
    "failure_error",
    "same_origin",
    "service_failure",
    "token_endpoint",
    "utc_timestamp",
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


PLATFORM_RETRY: Final = RetryPolicy(
    max_retries=2, backoff_seconds=0.5, max_backoff_seconds=8.0, max_retry_after_seconds=30.0
)
"""The services' default: a grade post waits at most a few seconds before reporting the outage."""


class AccessToken(BaseModel):
    """A bearer token for some scopes of one platform; its value is kept out of ``repr``."""

    model_config = ConfigDict(frozen=True)

    value: str = Field(repr=False)
    scopes: frozenset[str]
    expires_at: float


_JWT_LIKE = re.compile(r"eyJ[\w-]+(?:\.[\w-]*){0,2}")
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s\"',;]+")


def redact(text: str, *secrets: str) -> str:
    """``text`` without JWTs, bearer credentials or the given secrets (for messages and logs)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    text = _JWT_LIKE.sub("[redacted JWT]", text)
    return _BEARER.sub(r"\1[redacted]", text)


def require_scopes(granted: Iterable[str], any_of: Iterable[str], *, what: str) -> None:
    """Raise ``lti.scope_not_granted`` unless one of the ``any_of`` scopes was granted."""
    options = sorted(set(any_of))
    if options and not set(options) & set(granted):
        raise ServiceError(
            f"{what} needs scope {' or '.join(options)}, which the platform did not grant. "
            "Enable the grade/roster services for the tool in the platform's "
            "tool configuration (and re-register it if it was installed by dynamic registration).",
            code="lti.scope_not_granted",
            http_status=403,
        )


class PlatformSender:
    """:class:`blendkit.http.RetryingSender` for calls to a platform: owns its client when none is
    given, and words every failure as a :class:`ServiceError` with the caller's code."""

    def __init__(
        self,
        http: httpx.Client | None,
        *,
        timeout: float,
        retry: RetryPolicy,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        fence: Fence | None = None,
    ) -> None:
        self._owns_http = http is None
        self.http = http if http is not None else httpx.Client(timeout=timeout)
        self.timeout = timeout
        self.retry = retry
        self.clock = clock
        self.sleep = sleep
        self.fence = fence or Fence()
        self._sender = shared_http.RetryingSender(
            self.http, retry=retry, fence=self.fence, sleep=sleep, clock=clock, log=log
        )

    def close(self) -> None:
        if self._owns_http:
            self.http.close()

    def send(
        self,
        build: Callable[[], httpx.Request],
        *,
        idempotent: bool,
        what: str,
        unavailable_code: str,
        max_bytes: int | None = None,
    ) -> httpx.Response:
        """Send ``build()``, retrying 429, 5xx (idempotent only) and transport failures.

        The fence's refusals come back as :class:`ServiceError` with the fence's code.
        """

        def failed(failure: Failure) -> ServiceError:
            return self._failure_error(failure, what, unavailable_code)

        try:
            return self._sender.send(
                build,
                errors=failed,
                idempotent=idempotent,
                retry_transport=True,
                what=what,
                max_bytes=max_bytes,
            )
        except OutboundError as exc:
            raise ServiceError(f"{what}: {exc.message}", code=exc.code) from exc

    def _failure_error(self, failure: Failure, what: str, code: str) -> ServiceError:
        return failure_error(self.retry, failure, what, code)


def failure_error(retry: RetryPolicy, failure: Failure, what: str, code: str) -> ServiceError:
    """A :class:`ServiceError` naming why a retried service exchange gave up (sync or async)."""
    # One wording for refused, closed, silent and trickling servers: no port scanner.
    if failure.response is None and not failure.exhausted:
        return ServiceError(
            f"{what} failed after the request was sent (no answer in time); it was not "
            "repeated because it may have been applied. Check the platform and retry later.",
            code=code,
        )
    if failure.response is not None:
        problem = f"answered HTTP {failure.response.status_code}"
    else:
        problem = "could not be reached or did not answer in time"
    retry_after = failure.retry_after
    hint = (
        f" The platform asked to wait {retry_after:.0f} s, more than the allowed "
        f"{retry.max_retry_after_seconds:.0f} s."
        if retry_after is not None and retry_after > retry.max_retry_after_seconds
        else ""
    )
    return ServiceError(
        f"{what} {problem} after {failure.tries} tries.{hint} The platform is down or "
        "overloaded; retry later.",
        code=code,
    )


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


class ServiceSession:
    """Authorised calls to one platform's LTI services, built on a shared :class:`AccessTokens`."""

    def __init__(self, platform: TokenPlatform, tokens: AccessTokens) -> None:
        self.platform = platform
        self.tokens = tokens
        self._sender = PlatformSender(
            tokens.http,
            timeout=tokens.timeout,
            retry=tokens.retry,
            clock=tokens.clock,
            sleep=tokens.sleep,
            fence=tokens.fence,
        )

    def admit(self, url: str, what: str) -> None:
        """Refuse a service URL before any token is asked for or sent (see :func:`admit`)."""
        admit(self.tokens.fence, url, what, getattr(self.platform, "service_hosts", ()))

    def request(
        self,
        method: str,
        url: str,
        *,
        scopes: Iterable[str],
        needs: Iterable[str],
        accept: str,
        json: Any = None,
        content_type: str | None = None,
        params: Mapping[str, str | int] | None = None,
        idempotent: bool = True,
        what: str,
    ) -> httpx.Response:
        """Send one service call; 2xx comes back, anything else raises :class:`ServiceError`.

        ``scopes`` are requested for the token (one token serves every call of a service);
        ``needs`` lists the scopes of which this call requires one.
        """
        return self.call(
            ServiceCall(
                method=method,
                url=url,
                scopes=tuple(scopes),
                needs=tuple(needs),
                accept=accept,
                what=what,
                json=json,
                content_type=content_type,
                params=params,
                idempotent=idempotent,
            )
        )

    def call(self, call: ServiceCall) -> httpx.Response:
        """Send ``call``: 2xx comes back, anything else raises :class:`ServiceError`."""
        require_scopes(call.scopes, call.needs, what=call.what)
        self.admit(call.url, call.what)
        refreshed = False
        while True:
            token = self.tokens.get(self.platform, call.scopes)
            require_scopes(token.scopes, call.needs, what=call.what)

            def build(value: str = token.value) -> httpx.Request:
                return call.build(self.tokens.http, value, self.tokens.timeout)

            response = self._sender.send(
                build,
                idempotent=call.idempotent,
                what=f"{call.what} ({call.method} {call.url})",
                unavailable_code="lti.service_unavailable",
            )
            if response.status_code == 401 and not refreshed:
                # The platform may have revoked or shortened the token: fetch a new one once.
                self.tokens.invalidate(self.platform, call.scopes)
                refreshed = True
                continue
            if response.is_success:
                return response
            raise service_failure(call, response)

    def pages(
        self,
        url: str,
        *,
        scopes: Iterable[str],
        needs: Iterable[str],
        accept: str,
        params: Mapping[str, str | int] | None = None,
        what: str,
        max_pages: int = 10_000,
    ) -> Iterator[httpx.Response]:
        """GET ``url`` and every page its ``Link: rel="next"`` headers lead to, lazily."""
        call = ServiceCall("GET", url, tuple(scopes), tuple(needs), accept, what, params=params)
        return self.pages_of(call, max_pages=max_pages)

    def pages_of(self, call: ServiceCall, *, max_pages: int = 10_000) -> Iterator[httpx.Response]:
        """Send the GET ``call`` and follow every ``Link: rel="next"`` page, lazily."""
        trail = PageTrail(call.what, max_pages)
        next_call: ServiceCall | None = call
        while next_call is not None:
            trail.visit(next_call.url)
            response = self.call(next_call)
            yield response
            following = next_page_url(response)
            next_call = None if following is None else call.page(following)


def service_failure(call: ServiceCall, response: httpx.Response) -> ServiceError:
    """The :class:`ServiceError` for a service answer that is neither 2xx nor retried (the answer
    body is never quoted, so a token echoed in it cannot leak)."""
    status = response.status_code
    code = {
        401: "lti.service_unauthorized",
        403: "lti.service_forbidden",
        404: "lti.service_not_found",
    }.get(status, "lti.service_rejected")
    advice = {
        401: "The platform rejected a fresh access token: check the tool's registration.",
        403: "The platform refused access: enable the service for this tool on the platform.",
        404: "The resource does not exist (deleted line item or course?).",
    }.get(status, "The platform refused the request as sent.")
    return ServiceError(
        f"{call.what} failed: {call.method} {call.url} answered HTTP {status}. {advice}",
        code=code,
    )


def next_page_url(response: httpx.Response, rel: str = "next") -> str | None:
    """The ``Link: <…>; rel="next"`` target, resolved on the page URL and kept on its origin."""
    link = response.links.get(rel)
    if not link or not link.get("url"):
        return None
    target = urljoin(str(response.url), link["url"])
    if not same_origin(target, str(response.url)):
        raise ServiceError(
            f"the platform's {rel} link {target} leaves the service origin of "
            f"{response.url}; refusing to send the access token there.",
            code="lti.paging_foreign_origin",
        )
    return target


def response_json(response: httpx.Response, what: str) -> Any:
    """The JSON body of a service answer, or ``lti.service_response_invalid`` naming the call."""
    try:
        return response.json()
    except ValueError as exc:
        raise ServiceError(
            f"{what}: {response.request.method} {response.url} answered HTTP "
            f"{response.status_code} with a body that is not JSON",
            code="lti.service_response_invalid",
        ) from exc


def same_origin(a: str, b: str) -> bool:
    """True when two URLs share scheme, host and port (paging must not leave the platform)."""
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme, pa.netloc.lower()) == (pb.scheme, pb.netloc.lower())


def utc_timestamp(moment: datetime | None = None) -> str:
    """ISO 8601 with milliseconds and an explicit UTC offset, as AGS scores require."""
    moment = moment or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat(timespec="milliseconds")
