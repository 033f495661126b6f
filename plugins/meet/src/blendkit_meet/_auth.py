"""Service-account credentials with domain-wide delegation, refreshed over blendkit.http.

google-auth builds and signs the JWT bearer grant (``Credentials.from_service_account_info(info,
scopes=…, subject=organiser)``); the grant travels through :class:`FencedRequest`, a
``google.auth.transport.Request`` that sends through blendkit's outbound fence with bounded
retries (429, 408 and 5xx, honouring ``Retry-After``). The access token is cached by
:class:`~blendkit.http.TokenCache` and fetched again shortly before it expires or after Google
refused it with 401, like the other plugins' tokens.

A token endpoint refusal becomes a :class:`~blendkit.errors.ProviderAuthError` through
:func:`blendkit.http.token_endpoint_error`; ``unauthorized_client`` means the Workspace admin has
not granted the service account's client id domain-wide delegation for these scopes, and the
error lists exactly the client id and scopes to add.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
from google.auth import exceptions as google_exceptions
from google.auth import transport
from google.oauth2 import service_account

from blendkit.errors import BlendkitError, ConfigError, ProviderError
from blendkit.http import (
    Failure,
    Fence,
    RetryingSender,
    RetryPolicy,
    TokenCache,
    token_endpoint_error,
    token_endpoint_unreachable,
)
from blendkit_meet._lookup import PEOPLE_SCOPE

__all__ = [
    "CALENDAR_SCOPE",
    "DIRECTORY_SCOPE",
    "DRIVE_SCOPE",
    "MEET_READ_SCOPE",
    "MEET_SETTINGS_SCOPE",
    "FencedRequest",
    "GoogleTokenSource",
    "organizer_scopes",
]

CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar.events"
MEET_SETTINGS_SCOPE = "https://www.googleapis.com/auth/meetings.space.settings"
MEET_READ_SCOPE = "https://www.googleapis.com/auth/meetings.space.readonly"
DRIVE_SCOPE = "https://www.googleapis.com/auth/drive"
DIRECTORY_SCOPE = "https://www.googleapis.com/auth/admin.directory.user.readonly"

_TOKEN_RETRY = RetryPolicy(max_retries=3, backoff_seconds=1.0)
_GOOGLE = "Google"


def organizer_scopes(*, share_recordings: bool, people_lookup: bool = False) -> tuple[str, ...]:
    """The scopes the organiser's token asks for (and the admin must delegate): Calendar
    events, Meet space settings and records, Drive when recordings are shared, and the
    domain's profiles when participants are looked up with the People API."""
    scopes: tuple[str, ...] = (CALENDAR_SCOPE, MEET_SETTINGS_SCOPE, MEET_READ_SCOPE)
    if share_recordings:
        scopes = (*scopes, DRIVE_SCOPE)
    return (*scopes, PEOPLE_SCOPE) if people_lookup else scopes


class _Answer(transport.Response):
    """An httpx response in the shape google-auth reads."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response

    @property
    def status(self) -> int:
        return self._response.status_code

    @property
    def headers(self) -> Mapping[str, str]:
        return dict(self._response.headers)

    @property
    def data(self) -> bytes:
        return self._response.content


class FencedRequest(transport.Request):
    """google-auth's transport over blendkit.http: fence, timeout and bounded retries.

    Busy answers (408, 429, 5xx) are retried here and, when retries run out, raised as blendkit
    errors, so google-auth sees only final answers. :attr:`last_response` keeps the last answer
    for mapping a ``RefreshError`` to the token endpoint's status and reason.
    """

    def __init__(
        self,
        client: httpx.Client,
        *,
        fence: Fence | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 10.0,
    ) -> None:
        self._client = client
        self._sender = RetryingSender(client, retry=retry or _TOKEN_RETRY, fence=fence, sleep=sleep)
        self._timeout = timeout
        self._local = threading.local()

    @property
    def last_response(self) -> httpx.Response | None:
        """The last answer this thread received."""
        found: httpx.Response | None = getattr(self._local, "response", None)
        return found

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> transport.Response:
        def build() -> httpx.Request:
            return self._client.build_request(
                method,
                url,
                content=body,
                headers=dict(headers or {}),
                timeout=timeout or self._timeout,
            )

        def failed(failure: Failure) -> BlendkitError:
            if failure.response is not None:
                return token_endpoint_error(failure.response, provider=_GOOGLE, hint="retry later")
            return token_endpoint_unreachable(_GOOGLE, url)

        response = self._sender.send(
            build,
            errors=failed,
            idempotent=True,  # a token grant may be repeated
            retry_statuses=frozenset({408, 429}),
            what=f"Google token request {httpx.URL(url).host}",
        )
        self._local.response = response
        return _Answer(response)


class GoogleTokenSource(TokenCache):
    """An access token for ``subject`` with ``scopes``, cached and refreshed before expiry.

    ``info`` is the parsed service account key (:meth:`MeetSettings.service_account_info`).
    """

    def __init__(
        self,
        info: Mapping[str, Any],
        *,
        scopes: tuple[str, ...],
        subject: str,
        client: httpx.Client,
        fence: Fence | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        refresh_margin: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        timeout: float = 10.0,
    ) -> None:
        try:
            self._credentials = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
                dict(info), scopes=list(scopes), subject=subject
            )
        except (ValueError, TypeError, KeyError) as exc:
            raise ConfigError(
                "[meet] service_account_file holds a key google-auth cannot use "
                f"({type(exc).__name__}); download a new JSON key for the service account"
            ) from None
        token_host = httpx.URL(str(info.get("token_uri", ""))).host
        if not token_host.endswith(".googleapis.com"):
            raise ConfigError(
                "[meet] service_account_file names a token_uri outside googleapis.com; use "
                "the key file exactly as Google issued it"
            )
        self.client_id = str(info.get("client_id", ""))
        """The service account's OAuth client id (what the admin delegates scopes to)."""
        self.scopes = scopes
        self.subject = subject
        self._request = FencedRequest(
            client, fence=fence, retry=retry, sleep=sleep, timeout=timeout
        )
        self._wall_clock = wall_clock
        super().__init__(self._fetch, refresh_margin=refresh_margin, clock=clock)
        self.fetch_count = 0
        """How many tokens were requested (for monitoring and tests)."""

    def _fetch(self) -> tuple[str, float]:
        self.fetch_count += 1
        try:
            self._credentials.refresh(self._request)
        except google_exceptions.RefreshError as exc:
            raise self._refused(exc) from None
        except google_exceptions.TransportError as exc:
            raise ProviderError(
                f"the Google token request failed ({type(exc).__name__}); retry later",
                code="sessions.provider_unreachable",
            ) from None
        token = self._credentials.token
        if not isinstance(token, str) or not token:
            raise ProviderError(
                "Google's token endpoint answered without an access_token; retry later",
                code="sessions.provider_unexpected",
            )
        expiry = self._credentials.expiry
        now = self._wall_clock().astimezone(UTC).replace(tzinfo=None)
        lifetime = (expiry - now).total_seconds() if expiry is not None else 3599.0
        return token, max(lifetime, 0.0)

    def _refused(self, exc: google_exceptions.RefreshError) -> ProviderError:
        response = self._request.last_response
        scopes = ",".join(self.scopes)
        delegation = (
            f"the Workspace admin has not granted domain-wide delegation to client id "
            f"{self.client_id} for the scopes {scopes}: add exactly these in the Admin console "
            "(Security > Access and data control > API controls > Domain-wide delegation)"
        )
        reasons = {
            "unauthorized_client": delegation,
            "access_denied": delegation,
            "invalid_grant": (
                f"check that {self.subject} is an active user of the Workspace domain, that the "
                "service account key is not deleted or disabled, and that this server's clock "
                "is right"
            ),
            "invalid_client": "the service account or its key was deleted or disabled",
        }
        if response is not None and response.status_code >= 400:
            return token_endpoint_error(
                response,
                provider=_GOOGLE,
                hint="check [meet] service_account_file and organizer (docs/providers/meet.md)",
                reasons=reasons,
            )
        return ProviderError(
            f"google-auth could not refresh the token ({str(exc)[:200]}); check [meet] "
            "service_account_file",
            code="sessions.provider_auth",
        )
