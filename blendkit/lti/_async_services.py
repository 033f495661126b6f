"""LTI Advantage over ``httpx.AsyncClient``: grades and rosters sent from an event loop.

The calls are the synchronous services' own :class:`~blendkit.lti.ServiceCall` values
(:class:`~blendkit.lti.AGSCalls`, :func:`~blendkit.lti.roster_call`) and their answers are parsed
by the same code; only the sending differs: :class:`~blendkit._async_http.AsyncRetryingSender`
through :meth:`Fence.send_async <blendkit.http.Fence.send_async>` with the synchronous services'
retry policy. Access tokens live in the same :class:`~blendkit.lti.AccessTokens` cache, so
a token fetched by a worker thread serves the event loop and the other way round.

The platform registry is read in a worker thread (the store is synchronous).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio
import anyio.to_thread
import httpx

from blendkit._async_http import AsyncRetryingSender
from blendkit.errors import OutboundError, ServiceError
from blendkit.http import Failure
from blendkit.lti._access_tokens import AccessToken, AccessTokens, TokenPlatform, token_endpoint
from blendkit.lti._advantage import Advantage, ags_claim, nrps_claim
from blendkit.lti._ags import AGSCalls, AGSResult, AGSScore, LineItem
from blendkit.lti._launch import Launch
from blendkit.lti._nrps import (
    Member,
    MembershipContext,
    RosterPage,
    memberships_url,
    roster_call,
)
from blendkit.lti._platform_sender import failure_error
from blendkit.lti._service_calls import PageTrail, ServiceCall
from blendkit.lti._service_urls import admit_async
from blendkit.lti._services import next_page_url, require_scopes, service_failure

__all__ = [
    "AsyncAdvantage",
    "AsyncAssignmentGradeService",
    "AsyncNamesRoleService",
    "AsyncServiceSession",
]

log = logging.getLogger("blendkit.lti.services")

_TokenKey = tuple[str, str, tuple[str, ...]]


class AsyncServiceSession:
    """Authorised calls to one platform's services from an event loop (see the module doc)."""

    def __init__(
        self,
        platform: TokenPlatform,
        tokens: AccessTokens,
        client: httpx.AsyncClient,
        *,
        locks: dict[_TokenKey, anyio.Lock] | None = None,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        jitter: Callable[[], float] | None = None,
    ) -> None:
        self.platform = platform
        self.tokens = tokens
        self.client = client
        self._locks = locks if locks is not None else {}
        self._sender = AsyncRetryingSender(
            client,
            retry=tokens.retry,
            fence=tokens.fence,
            sleep=sleep,
            clock=tokens.clock,
            log=log,
            **({} if jitter is None else {"jitter": jitter}),
        )

    async def _send(
        self, build: Any, *, idempotent: bool, what: str, unavailable_code: str
    ) -> httpx.Response:
        def failed(failure: Failure) -> ServiceError:
            return failure_error(self.tokens.retry, failure, what, unavailable_code)

        try:
            return await self._sender.send(
                build, errors=failed, idempotent=idempotent, retry_transport=True, what=what
            )
        except OutboundError as exc:
            raise ServiceError(f"{what}: {exc.message}", code=exc.code) from exc

    async def token(self, scopes: tuple[str, ...]) -> AccessToken:
        """A token for ``scopes`` from the shared cache, fetched once for every waiting task."""
        cached = self.tokens.cached(self.platform, scopes)
        if cached is not None:
            return cached
        key = (self.platform.issuer, self.platform.client_id, tuple(sorted(set(scopes))))
        lock = self._locks.setdefault(key, anyio.Lock())
        async with lock:
            cached = self.tokens.cached(self.platform, scopes)
            if cached is not None:
                return cached
            platform, tokens = self.platform, self.tokens

            def build() -> httpx.Request:
                # A fresh assertion (new jti, iat) for every try, as the synchronous fetch does.
                return self.client.build_request(
                    "POST",
                    platform.auth_token_url,
                    data=tokens.token_form(platform, scopes),
                    headers={"Accept": "application/json"},
                    timeout=tokens.timeout,
                )

            response = await self._send(
                build,
                idempotent=True,
                what=token_endpoint(platform),
                unavailable_code="lti.token_endpoint_unavailable",
            )
            token = tokens.token_from(platform, scopes, response)
            tokens.keep(platform, scopes, token)
            return token

    async def call(self, call: ServiceCall) -> httpx.Response:
        """Send ``call``: 2xx comes back, anything else raises :class:`ServiceError`."""
        require_scopes(call.scopes, call.needs, what=call.what)
        hosts = getattr(self.platform, "service_hosts", ())
        await admit_async(self.tokens.fence, call.url, call.what, hosts)
        refreshed = False
        while True:
            token = await self.token(call.scopes)
            require_scopes(token.scopes, call.needs, what=call.what)

            def build(value: str = token.value) -> httpx.Request:
                return call.build(self.client, value, self.tokens.timeout)

            response = await self._send(
                build,
                idempotent=call.idempotent,
                what=f"{call.what} ({call.method} {call.url})",
                unavailable_code="lti.service_unavailable",
            )
            if response.status_code == 401 and not refreshed:
                self.tokens.invalidate(self.platform, call.scopes)
                refreshed = True
                continue
            if response.is_success:
                return response
            raise service_failure(call, response)

    async def pages_of(
        self, call: ServiceCall, *, max_pages: int = 10_000
    ) -> AsyncIterator[httpx.Response]:
        """Send the GET ``call`` and follow every ``Link: rel="next"`` page."""
        trail = PageTrail(call.what, max_pages)
        next_call: ServiceCall | None = call
        while next_call is not None:
            trail.visit(next_call.url)
            response = await self.call(next_call)
            yield response
            following = next_page_url(response)
            next_call = None if following is None else call.page(following)


class AsyncAssignmentGradeService(AGSCalls):
    """Assignment and Grade Services for one launch context, awaited."""

    def __init__(self, session: AsyncServiceSession, calls: AGSCalls) -> None:
        super().__init__(
            lineitems_url=calls.lineitems_url, lineitem_url=calls.lineitem_url, scopes=calls.scopes
        )
        self.session = session

    async def line_items(
        self,
        *,
        resource_link_id: str | None = None,
        resource_id: str | None = None,
        tag: str | None = None,
        limit: int | None = None,
    ) -> list[LineItem]:
        """Every line item of the context (filtered as asked), all pages read."""
        call = self.line_items_call(
            resource_link_id=resource_link_id, resource_id=resource_id, tag=tag, limit=limit
        )
        pages = self.session.pages_of(call)
        return [item async for page in pages for item in self.line_items_of(page, call)]

    async def get_line_item(self, url: str | None = None) -> LineItem:
        """The line item at ``url`` (default: the launch's own line item)."""
        call = self.get_line_item_call(url)
        return self.line_item_of(await self.session.call(call), call)

    async def create_line_item(self, item: LineItem) -> LineItem:
        """Add a gradebook column; the platform's copy (with its ``id`` URL) comes back."""
        call = self.create_line_item_call(item)
        return self.line_item_of(await self.session.call(call), call)

    async def update_line_item(self, item: LineItem) -> LineItem:
        """Replace the line item at ``item.id`` with ``item`` (PUT of the whole item)."""
        call = self.update_line_item_call(item)
        response = await self.session.call(call)
        return self.line_item_of(response, call) if response.content else item

    async def delete_line_item(self, url: str) -> None:
        """Remove the line item at ``url``."""
        await self.session.call(self.delete_line_item_call(url))

    async def post_score(self, score: AGSScore, line_item: str | LineItem | None = None) -> None:
        """Publish ``score`` to ``line_item`` (default: the launch's own line item)."""
        await self.session.call(self.post_score_call(score, line_item))

    async def line_item_for(self, resource_id: str, *, label: str, maximum: float) -> LineItem:
        """The context's line item for ``resource_id``, created (``label``, ``maximum``) when
        the platform has none yet."""
        found = await self.line_items(resource_id=resource_id)
        if found:
            return found[0]
        return await self.create_line_item(
            LineItem(label=label, score_maximum=maximum, resource_id=resource_id)
        )

    async def results(
        self,
        line_item: str | LineItem | None = None,
        *,
        user_id: str | None = None,
        limit: int | None = None,
    ) -> list[AGSResult]:
        """Current results of ``line_item`` (default: the launch's), all pages read."""
        call = self.results_call(line_item, user_id=user_id, limit=limit)
        pages = self.session.pages_of(call)
        return [result async for page in pages for result in self.results_of(page, call)]


class AsyncNamesRoleService:
    """Names and Role Provisioning for one context, awaited; members arrive page by page."""

    def __init__(self, session: AsyncServiceSession, context_memberships_url: str) -> None:
        self.session = session
        self.context_memberships_url = context_memberships_url
        self.context: MembershipContext | None = None
        """The course the roster belongs to, known after the first page."""
        self.differences_url: str | None = None

    async def members(
        self, *, role: str | None = None, limit: int | None = None, rlid: str | None = None
    ) -> AsyncIterator[Member]:
        """The roster (optionally one role, or the users of resource link ``rlid``)."""
        params: dict[str, str | int] = {}
        for name, value in (("role", role), ("limit", limit), ("rlid", rlid)):
            if value is not None:
                params[name] = value
        async for member in self._read(roster_call(self.context_memberships_url, params)):
            yield member

    async def differences(self, differences_url: str) -> AsyncIterator[Member]:
        """Members changed since the read that produced ``differences_url``."""
        async for member in self._read(roster_call(differences_url)):
            yield member

    async def _read(self, call: ServiceCall) -> AsyncIterator[Member]:
        async for response in self.session.pages_of(call):
            page = RosterPage.of(response, call)
            self.context = self.context or page.context
            self.differences_url = page.differences_url or self.differences_url
            for member in page.members:
                yield member


class AsyncAdvantage:
    """AGS and NRPS of launches over ``client``, sharing ``advantage``'s registry and tokens."""

    def __init__(self, advantage: Advantage, client: httpx.AsyncClient) -> None:
        self.advantage = advantage
        self.client = client
        self._locks: dict[_TokenKey, anyio.Lock] = {}

    async def session(self, launch: Launch) -> AsyncServiceSession:
        """Authorised calls to the platform that sent ``launch`` (registry read in a thread)."""
        registry = self.advantage.registry
        platform = await anyio.to_thread.run_sync(registry.get, launch.issuer, launch.client_id)
        return AsyncServiceSession(platform, self.advantage.tokens, self.client, locks=self._locks)

    async def ags(self, launch: Launch) -> AsyncAssignmentGradeService:
        """Assignment and Grade Services of the launch's context (its AGS claim)."""
        claim = ags_claim(launch)
        calls = AGSCalls(
            lineitems_url=claim.lineitems, lineitem_url=claim.lineitem, scopes=claim.scope
        )
        return AsyncAssignmentGradeService(await self.session(launch), calls)

    async def nrps(self, launch: Launch) -> AsyncNamesRoleService:
        """Names and Role Provisioning of the launch's context (its NRPS claim)."""
        url = memberships_url(nrps_claim(launch))
        return AsyncNamesRoleService(await self.session(launch), url)
