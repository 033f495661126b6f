"""One authenticated JSON client for vendor REST APIs, over :class:`~blendkit.http.RetryingSender`.

A vendor client subclasses :class:`JsonApi` and states what differs: its name, where its bearer
token may go, how its lists are paged, which statuses are retried and how its error bodies read.
The loop is written once: build the request with a fresh token, send it through the fence with
bounded retries (``Retry-After`` honoured), drop the token and send once more after a 401, map
error answers onto :mod:`blendkit.errors`, and follow pages until the last.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar, Self
from urllib.parse import urlsplit

import httpx

from blendkit._fence import Fence
from blendkit._paging import Paging, TokenPaging
from blendkit._retry import RetryPolicy
from blendkit._sender import Failure, RetryingSender, TokenSource
from blendkit.errors import (
    BlendkitError,
    NotFound,
    OutboundError,
    ProviderAuthError,
    ProviderError,
    ProviderRateLimited,
)

__all__ = ["ClientOwner", "JsonApi", "host_allowed", "json_object"]

QueryValue = str | int | bool
Query = Mapping[str, QueryValue]


def host_allowed(url: str, hosts: tuple[str, ...]) -> bool:
    """Whether ``url`` is https, carries no user name or password, and names one of ``hosts``.

    An entry ``"*.example.org"`` allows every subdomain of ``example.org`` (not the domain
    itself); any other entry allows exactly that host. Names compare case-insensitively.
    """
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return False
    if parts.scheme != "https" or parts.username is not None or parts.password is not None:
        return False
    for entry in hosts:
        pattern = entry.lower()
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]) and len(host) > len(pattern) - 1:
                return True
        elif host == pattern:
            return True
    return False


def json_object(
    response: httpx.Response, *, vendor: str, where: str = "", allow_empty: bool = False
) -> dict[str, Any]:
    """The JSON object of an answer; ``{}`` for an empty body when ``allow_empty``.

    Anything else (not JSON, a list, a string) is a :class:`~blendkit.errors.ProviderError`
    (``sessions.provider_unexpected``) naming ``vendor`` and, when given, ``where``.
    """
    if allow_empty and not response.content:
        return {}
    about = f" {where}" if where else ""
    try:
        body = response.json()
    except ValueError as exc:
        raise ProviderError(
            f"{vendor} answered{about} with a body that is not JSON",
            code="sessions.provider_unexpected",
        ) from exc
    if not isinstance(body, dict):
        raise ProviderError(
            f"{vendor} answered{about} with JSON that is not an object",
            code="sessions.provider_unexpected",
        )
    return body


class JsonApi:
    """Authenticated JSON calls to one vendor's API through an injected ``httpx.Client``.

    Every call gets a fresh token from ``tokens``, goes only to an https URL on ``token_hosts``
    (by default the host of ``base_url``) and through the fence of a :class:`RetryingSender`:
    the ``retry_statuses`` are retried for every request, ``retry_statuses_if_idempotent`` only
    for ``idempotent_methods``, waits follow ``Retry-After`` and the retry policy, and the first
    401 invalidates the token and sends once more. Error answers become :mod:`blendkit.errors`
    exceptions through the hooks below, which a vendor subclass overrides with its wording.
    """

    vendor: ClassVar[str] = "the API"
    """The service's name in messages and log lines (``Zoom``, ``Microsoft Graph``)."""
    auth_advice: ClassVar[str] = "check the credentials and the permissions granted to them"
    """What to check when the service refuses the token (401/403)."""
    not_found_advice: ClassVar[str] = "it may have been deleted"
    """Why a resource may be missing (404)."""
    default_retry: ClassVar[RetryPolicy] = RetryPolicy()
    retry_statuses: ClassVar[frozenset[int]] = frozenset({429})
    retry_statuses_if_idempotent: ClassVar[frozenset[int]] = frozenset({500, 502, 503, 504})
    idempotent_methods: ClassVar[frozenset[str]] = frozenset(
        {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"}
    )
    """Methods whose requests may be sent again after a busy answer (never a create)."""
    rate_limit_statuses: ClassVar[frozenset[int]] = frozenset({429})
    """Busy answers reported as :class:`~blendkit.errors.ProviderRateLimited` when retries run
    out; the rest are ``sessions.provider_unavailable``."""
    empty_answer_is_object: ClassVar[bool] = False
    """Whether an empty body reads as ``{}`` (an update that answers nothing)."""
    max_pages: ClassVar[int] = 10_000

    def __init__(
        self,
        tokens: TokenSource,
        client: httpx.Client,
        *,
        base_url: str = "",
        token_hosts: tuple[str, ...] = (),
        paging: Paging | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        fence: Fence | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._tokens = tokens
        self._client = client
        self._base = base_url.rstrip("/")
        self.token_hosts = token_hosts or (urlsplit(self._base).hostname or "",)
        """The hosts the token may be sent to (``*.`` entries allow subdomains)."""
        self.paging: Paging = paging or TokenPaging()
        self._timeout = timeout
        self._sender = RetryingSender(
            client, retry=retry or self.default_retry, fence=fence, sleep=sleep
        )

    # --- calls -----------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Query | None = None,
        json: Any = None,
        accept: str | None = "application/json",
        max_bytes: int | None = None,
        allow_404: bool = False,
        where: str | None = None,
    ) -> httpx.Response:
        """Send one call and return its answer; error statuses raise (see :meth:`error_for`).

        ``path`` is relative to the base URL (``/…``, already percent-encoded) or an absolute
        https URL. ``accept`` names the media type wanted (``None``: no Accept header);
        ``max_bytes`` lowers the fence's byte cap; with ``allow_404`` a 404 is returned for the
        caller to interpret. ``where`` replaces the method and URL in messages.
        """
        about = where or self.where(method, self.url_for(path))
        if not path.startswith("/") and not host_allowed(path, self.token_hosts):
            raise self.foreign_host_error(_host_of(path))  # before a token is even fetched
        query = {k: _query_text(v) for k, v in params.items()} if params else None
        headers = {"accept": accept} if accept else {}

        def build(token: str) -> httpx.Request:
            # The URL is joined after the token is fetched: the token may name the base URL.
            url = self.url_for(path)
            if not host_allowed(url, self.token_hosts):
                raise self.foreign_host_error(_host_of(url))
            return self._client.build_request(
                method,
                url,
                params=query,
                json=json,
                headers={"authorization": f"Bearer {token}", **headers},
                timeout=self._timeout,
            )

        try:
            response = self._sender.send_authorized(
                self._tokens,
                build,
                errors=lambda failure: self.failure_error(failure, about),
                idempotent=method.upper() in self.idempotent_methods,
                retry_statuses=self.retry_statuses,
                retry_statuses_if_idempotent=self.retry_statuses_if_idempotent,
                give_up_on=self.give_up_on,
                what=f"{self.vendor} {about}",
                max_bytes=max_bytes,
            )
        except OutboundError as exc:
            raise ProviderError(exc.message, code=exc.code) from exc
        if response.status_code == 404 and allow_404:
            return response
        if response.status_code >= 400:
            raise self.error_for(response, about)
        return response

    def get(self, path: str, params: Query | None = None) -> dict[str, Any]:
        """GET ``path`` and return the JSON object answered."""
        return self._object(self.request("GET", path, params=params), "GET", path)

    def post(self, path: str, json: Any, params: Query | None = None) -> dict[str, Any]:
        """POST ``json`` and return the JSON object answered."""
        return self._object(self.request("POST", path, params=params, json=json), "POST", path)

    def patch(self, path: str, json: Any, params: Query | None = None) -> dict[str, Any]:
        """PATCH ``json`` and return the JSON object answered."""
        return self._object(self.request("PATCH", path, params=params, json=json), "PATCH", path)

    def delete(self, path: str, params: Query | None = None) -> None:
        """DELETE the resource at ``path``."""
        self.request("DELETE", path, params=params)

    def pages(
        self, path: str, params: Query | None = None, items_key: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every item of a paged list, fetching pages as they are consumed.

        Items are read from ``items_key`` (by default the paging's), and objects only are
        yielded. A next page already fetched ends the list; a next-page link off the base URL
        is refused before the token goes there; more than ``max_pages`` pages is an error.
        """
        key = items_key or self.paging.items_key
        url = path
        query = {k: _query_text(v) for k, v in (params or {}).items()}
        seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
        for _ in range(self.max_pages):
            body = self.get(url, query)
            items = body.get(key) or []
            if not isinstance(items, list):
                raise ProviderError(
                    f"{self.vendor} answered {self.where('GET', self.url_for(path))} with "
                    f"{key!r} that is not a list",
                    code="sessions.provider_unexpected",
                )
            yield from (item for item in items if isinstance(item, dict))
            following = self.paging.follow(body, url, query)
            if following is None:
                return
            mark = (following[0], tuple(sorted(following[1].items())))
            if mark in seen:
                return
            seen.add(mark)
            url, query = following
            if not self._may_follow(self.url_for(url)):
                raise ProviderError(
                    f"{self.vendor} returned a next-page link to another host; refusing to "
                    "send the token there",
                    code="sessions.provider_unexpected",
                )
        raise ProviderError(
            f"{self.vendor} kept answering {self.where('GET', self.url_for(path))} with more "
            f"pages after {self.max_pages}; stopped",
            code="sessions.provider_unexpected",
        )

    # --- hooks -----------------------------------------------------------------------------------

    def base_url(self) -> str:
        """The URL relative paths are joined to (a subclass may pick it per account)."""
        return self._base

    def url_for(self, path: str) -> str:
        """The absolute URL of ``path``: a path (``/…``) joins the base URL."""
        return self.base_url() + path if path.startswith("/") else path

    def where(self, method: str, url: str) -> str:
        """The call as messages name it: the method and the URL without its query, relative to
        the base URL when under it, else host and path."""
        bare = url.split("?", 1)[0]
        base = self.base_url()
        if base and bare.startswith(base + "/"):
            return f"{method} {bare[len(base) :]}"
        parsed = httpx.URL(bare)
        return f"{method} {parsed.host}{parsed.path}"

    def foreign_host_error(self, host: str) -> BlendkitError:
        """The error for a URL the token may not go to (raised before anything is sent)."""
        return ProviderError(
            f"refusing to send a {self.vendor} token to {host!r}: only https "
            f"{', '.join(self.token_hosts)} hosts receive it",
            code="sessions.provider_unexpected",
        )

    def give_up_on(self, response: httpx.Response) -> bool:
        """Whether a busy answer is not worth waiting for (a daily quota): reported at once."""
        del response
        return False

    def error_detail(self, response: httpx.Response) -> str:
        """The service's explanation of an error answer, as ``": code message"`` or ``""``.

        Reads ``{"error": {"status" or "code": …, "message": …}}`` (Google, Microsoft Graph).
        """
        try:
            error = response.json().get("error")
        except (ValueError, AttributeError):
            return ""
        if not isinstance(error, dict):
            return ""
        code = next((error[k] for k in ("status", "code") if isinstance(error.get(k), str)), "")
        message = str(error.get("message") or "")[:300]
        text = f"{code[:80]} {message}".strip()
        return f": {text}" if text else ""

    def refuses_credentials(self, response: httpx.Response) -> bool:
        """Whether an error answer says the token or its permissions are not enough."""
        return response.status_code in (401, 403)

    def special_error(self, response: httpx.Response, where: str) -> BlendkitError | None:
        """A vendor's own reading of an error answer, checked before the common one."""
        del response, where
        return None

    def error_for(self, response: httpx.Response, where: str) -> BlendkitError:
        """The blendkit error for an error answer (4xx, 5xx not retried or retried in vain)."""
        special = self.special_error(response, where)
        if special is not None:
            return special
        status = response.status_code
        detail = self.error_detail(response)
        if self.refuses_credentials(response):
            return ProviderAuthError(
                f"{self.vendor} refused {where} (HTTP {status}{detail}); {self.auth_advice}"
            )
        if status == 404:
            return NotFound(
                f"{self.vendor} has no such resource for {where}{detail}; {self.not_found_advice}",
                code="sessions.meeting_not_found",
            )
        if status >= 500:
            return ProviderError(
                f"{self.vendor} failed on {where} (HTTP {status}); retry later",
                code="sessions.provider_unavailable",
            )
        return ProviderError(
            f"{self.vendor} rejected {where} (HTTP {status}{detail})",
            code="sessions.provider_rejected",
        )

    def failure_error(self, failure: Failure, where: str) -> BlendkitError:
        """The blendkit error when the sender gives up: no answer, or busy after the retries."""
        if failure.response is None:
            return ProviderError(
                f"cannot reach {self.vendor} for {where} (no answer in time); check the network "
                "of this server and retry",
                code="sessions.provider_unreachable",
            )
        advised = failure.retry_after
        status = failure.response.status_code
        after = "" if advised is None else f" ({self.vendor} advises retrying in {advised:.0f} s)"
        if status in self.rate_limit_statuses:
            return ProviderRateLimited(
                f"{self.vendor} kept throttling {where} (HTTP {status}) after {failure.tries} "
                f"attempt(s){after}; retry later",
                retry_after=advised,
            )
        return ProviderError(
            f"{self.vendor} kept failing on {where} (HTTP {status}) after {failure.tries} "
            f"attempt(s){after}; retry later",
            code="sessions.provider_unavailable",
        )

    # --- internals -------------------------------------------------------------------------------

    def _object(self, response: httpx.Response, method: str, path: str) -> dict[str, Any]:
        return json_object(
            response,
            vendor=self.vendor,
            where=self.where(method, self.url_for(path)),
            allow_empty=self.empty_answer_is_object,
        )

    def _may_follow(self, url: str) -> bool:
        base = self.base_url()
        if base:
            return url.startswith(base + "/")
        return host_allowed(url, self.token_hosts)


class ClientOwner:
    """Holds the ``httpx.Client`` of a service client: the injected one, or one it opens itself
    (with ``timeout``) and closes in :meth:`close`; a context manager closing it on exit."""

    def __init__(self, client: httpx.Client | None, *, timeout: float) -> None:
        self._owns_client = client is None
        self._client = client or httpx.Client(timeout=timeout)

    def close(self) -> None:
        """Close the HTTP client when it was opened here (an injected one is the caller's)."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _query_text(value: QueryValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _host_of(url: str) -> str:
    try:
        return urlsplit(url).hostname or url[:60]
    except ValueError:
        return url[:60]
