"""Pub/Sub push authentication: the OIDC token Google signs for every push to ``/webhooks/meet``.

A push subscription configured with an OIDC service account sends
``Authorization: Bearer <JWT>``, signed by Google with one of the keys published at
:data:`GOOGLE_CERTS_URL`. :class:`PushVerifier` checks it with google-auth's
``verify_oauth2_token`` (signature, ``exp``/``iat``, issuer ``accounts.google.com``, ``aud`` equal
to ``[meet] push_audience``), then that ``email`` is ``[meet] push_service_account`` and
``email_verified`` is true. The certificates are fetched through the
``google.auth.transport.Request`` given (blendkit's adapter over ``blendkit.http``) and kept
by :class:`CertCache` for as long as Google's ``Cache-Control: max-age`` allows, so a burst of
pushes costs one fetch.

Refusals raise :class:`~blendkit.errors.WebhookRejected` with a code an admin can act on and are
logged (code and reason, never the token).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

import google.auth.exceptions
import google.auth.transport
from google.oauth2 import id_token

from blendkit.errors import ProviderError, WebhookRejected

__all__ = ["GOOGLE_CERTS_URL", "GOOGLE_ISSUERS", "CertCache", "PushVerifier"]

GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
"""Where Google publishes the keys that sign its OIDC tokens (google-auth's default)."""
GOOGLE_ISSUERS = ("accounts.google.com", "https://accounts.google.com")
MAX_TOKEN_LENGTH = 8192
DEFAULT_TTL = 60.0
"""Seconds to keep certificates whose response names no ``max-age``."""
REFETCH_AFTER = 60.0
"""A token signed with an unknown key refetches the certificates at most this often."""

_log = logging.getLogger("blendkit_meet.push")
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)\"?\s*(?:,|$)", re.IGNORECASE)
_NO_STORE = re.compile(r"(?:^|,)\s*(?:no-store|no-cache)\s*(?:,|$)", re.IGNORECASE)


@dataclass(frozen=True)
class _Stored(google.auth.transport.Response):
    """A certificates response kept in memory (status, headers and body already read)."""

    stored_status: int
    stored_headers: Mapping[str, str]
    stored_data: bytes

    @property
    def status(self) -> int:
        return self.stored_status

    @property
    def headers(self) -> Mapping[str, str]:
        return self.stored_headers

    @property
    def data(self) -> bytes:
        return self.stored_data


def cache_seconds(headers: Mapping[str, str], default: float = DEFAULT_TTL) -> float:
    """How long a response may be reused: ``max-age`` minus ``Age``; 0 for no-store/no-cache."""
    lowered = {k.lower(): v for k, v in headers.items()}
    control = lowered.get("cache-control", "")
    if _NO_STORE.search(control):
        return 0.0
    found = _MAX_AGE.search(control)
    if found is None:
        return default
    age = lowered.get("age", "0").strip()
    return max(0.0, float(found.group(1)) - (float(age) if age.isdigit() else 0.0))


class CertCache(google.auth.transport.Request):
    """A ``google.auth.transport.Request`` that reuses successful GETs while they are fresh.

    Every other call goes to ``inner`` unchanged. One lock serialises fetches, so concurrent
    pushes that find the cache empty wait for a single fetch instead of each starting one.
    """

    def __init__(
        self,
        inner: google.auth.transport.Request,
        *,
        clock: Callable[[], float] = time.monotonic,
        default_ttl: float = DEFAULT_TTL,
        refetch_after: float = REFETCH_AFTER,
    ) -> None:
        self._inner = inner
        self._clock = clock
        self._default_ttl = default_ttl
        self._refetch_after = refetch_after
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, float, _Stored]] = {}
        self.fetches = 0
        """How many requests reached ``inner`` (for monitoring)."""

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> google.auth.transport.Response:
        if method.upper() != "GET" or body is not None:
            passed: google.auth.transport.Response = self._inner(
                url, method=method, body=body, headers=headers, timeout=timeout
            )
            return passed
        with self._lock:
            now = self._clock()
            entry = self._entries.get(url)
            if entry is not None and now < entry[1]:
                return entry[2]
            self.fetches += 1
            response = self._inner(url, method="GET", headers=headers, timeout=timeout)
            stored = _Stored(response.status, dict(response.headers), bytes(response.data))
            if stored.status == 200:
                _refuse_jwk_sets(url, stored.data)
                ttl = cache_seconds(stored.headers, self._default_ttl)
                self._entries[url] = (now, now + ttl, stored)
            return stored

    def invalidate(self, url: str) -> bool:
        """Forget ``url`` unless it was fetched less than ``refetch_after`` ago; True if forgotten.

        Lets a token signed with a key Google just added refetch the certificates, while tokens
        with made-up key ids cannot make every request fetch them.
        """
        with self._lock:
            entry = self._entries.get(url)
            if entry is not None and self._clock() - entry[0] < self._refetch_after:
                return False
            self._entries.pop(url, None)
            return True


def _refuse_jwk_sets(url: str, data: bytes) -> None:
    """google-auth fetches a JWK set (``{"keys": …}``) itself, outside blendkit.http: refuse it."""
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise google.auth.exceptions.TransportError(  # type: ignore[no-untyped-call]
            f"{url} did not answer JSON"
        ) from exc
    if not isinstance(document, dict) or "keys" in document:
        raise google.auth.exceptions.TransportError(  # type: ignore[no-untyped-call]
            f"{url} did not answer a map of key ids to certificates"
        )


class PushVerifier:
    """Verifies the OIDC token of a Pub/Sub push (thread-safe).

    ``request`` performs the certificate fetch; wrap blendkit's transport adapter in a
    :class:`CertCache` (the verifier does that itself when given a plain request).
    """

    def __init__(
        self,
        audience: str | None,
        service_account: str | None,
        request: google.auth.transport.Request,
        *,
        certs_url: str = GOOGLE_CERTS_URL,
        clock_skew_seconds: int = 10,
    ) -> None:
        self._audience = audience or None
        self._service_account = (service_account or "").strip().lower() or None
        self._certs = request if isinstance(request, CertCache) else CertCache(request)
        self._certs_url = certs_url
        self._skew = clock_skew_seconds

    @property
    def certs(self) -> CertCache:
        """The certificate cache (its ``fetches`` counts real fetches)."""
        return self._certs

    def verify(self, authorization: str | None) -> Mapping[str, Any]:
        """The verified claims of ``Authorization: Bearer <token>``; raises WebhookRejected."""
        audience, account = self._configured()
        token = _bearer(authorization)
        claims = self._claims(token, audience)
        email = claims.get("email")
        if not isinstance(email, str) or email.strip().lower() != account:
            _refuse(
                "the push token was issued to another service account than [meet] "
                "push_service_account: the push comes from another Pub/Sub subscription or project",
                "sessions.webhook_wrong_sender",
                403,
            )
        if claims.get("email_verified") is not True:
            _refuse(
                "the push token's e-mail is not marked verified by Google",
                "sessions.webhook_wrong_sender",
                403,
            )
        return claims

    def _configured(self) -> tuple[str, str]:
        if self._audience is None or self._service_account is None:
            _refuse(
                "Meet pushes cannot be verified: set [meet] push_audience and "
                "push_service_account (BLENDKIT_MEET_PUSH_AUDIENCE, "
                "BLENDKIT_MEET_PUSH_SERVICE_ACCOUNT) to the push subscription's OIDC audience "
                "and service account",
                "sessions.webhook_not_configured",
            )
        return self._audience, self._service_account

    def _claims(self, token: str, audience: str) -> Mapping[str, Any]:
        for attempt in (1, 2):
            try:
                claims: Mapping[str, Any] = id_token.verify_oauth2_token(  # type: ignore[no-untyped-call]
                    token, self._certs, audience=audience, clock_skew_in_seconds=self._skew
                )
            except google.auth.exceptions.TransportError as exc:
                raise _certs_unavailable(str(exc), "sessions.provider_unavailable") from None
            except ProviderError as exc:  # the transport's own verdict (busy, unreachable)
                raise _certs_unavailable(exc.message, exc.code) from None
            except (ValueError, google.auth.exceptions.GoogleAuthError) as exc:
                reason = str(exc)
                if (
                    attempt == 1
                    and "Certificate for key id" in reason
                    and self._certs.invalidate(self._certs_url)
                ):
                    continue  # Google may have published a new key since the last fetch
                _refuse(*_classify(reason))
            return claims
        _refuse(*_classify("Certificate for key id"))


def _certs_unavailable(reason: str, code: str) -> ProviderError:
    return ProviderError(
        "Google's token-signing certificates could not be fetched, so the push was not "
        f"verified (Pub/Sub delivers it again): {reason}",
        code=code,
    )


def _bearer(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        _refuse(
            "the push carries no 'Authorization: Bearer' token: enable authentication on the "
            "Pub/Sub push subscription (OIDC token with a service account)",
            "sessions.webhook_unsigned",
        )
    if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
        _refuse("the push's bearer token is not a JWT", "sessions.webhook_bad_signature")
    return token


def _classify(reason: str) -> tuple[str, str]:
    """Our own words for google-auth's refusal (its messages may quote the token)."""
    lowered = reason.lower()
    if "expired" in lowered or "too early" in lowered:
        return (
            "the push token has expired or is not valid yet (a replay, or this server's clock "
            "is off: check NTP)",
            "sessions.webhook_stale",
        )
    if "audience" in lowered:
        return (
            "the push token was issued for another audience than [meet] push_audience: set the "
            "push subscription's OIDC audience to the same value",
            "sessions.webhook_wrong_audience",
        )
    if "issuer" in lowered:
        return (
            "the push token was not issued by Google (accounts.google.com)",
            "sessions.webhook_wrong_audience",
        )
    if "key id" in lowered:
        return (
            "the push token is signed with a key Google does not publish",
            "sessions.webhook_bad_signature",
        )
    return (
        "the push token's signature or format is invalid: it was not signed by Google",
        "sessions.webhook_bad_signature",
    )


def _refuse(message: str, code: str, status: int = 401) -> NoReturn:
    _log.warning("Meet push refused [%s]: %s", code, message)
    raise WebhookRejected(message, code=code, http_status=status)
