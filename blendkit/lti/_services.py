"""The authorised HTTP session AGS and NRPS share (service URLs checked before a token is sent,
one token refresh on a 401, ``Link`` paging), and how service answers are read and refused."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from blendkit.errors import ServiceError
from blendkit.lti._access_tokens import AccessTokens, TokenPlatform
from blendkit.lti._platform_sender import PlatformSender
from blendkit.lti._service_calls import PageTrail, ServiceCall
from blendkit.lti._service_urls import admit

__all__ = [
    "ServiceSession",
    "next_page_url",
    "redact",
    "require_scopes",
    "response_json",
    "same_origin",
    "service_failure",
]

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
