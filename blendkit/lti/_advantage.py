"""One entry point for LTI Advantage after a launch: grades, rosters and deep-linking answers.

An application keeps one :class:`Advantage` (it owns the token cache, so every request thread
shares tokens) and asks it for the service of a validated :class:`Launch`::

    advantage = Advantage.from_store(store, settings)
    advantage.ags(launch).post_score(AGSScore(user_id=launch.user.sub, ...))
    for member in advantage.nrps(launch).members():
        ...
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from blendkit.config import Settings
from blendkit.errors import LTIError, NotFound, ServiceError
from blendkit.http import Fence, RetryPolicy
from blendkit.lti._access_tokens import AccessTokens, Signer
from blendkit.lti._ags import AssignmentGradeService
from blendkit.lti._claims import AGSClaim, NRPSClaim
from blendkit.lti._deep_linking import ContentItem, DeepLinkingResponse, deep_linking_response
from blendkit.lti._keys import KeySet
from blendkit.lti._launch import Launch
from blendkit.lti._nrps import NamesRoleService
from blendkit.lti._platforms import PlatformRegistry, StorePlatformRegistry
from blendkit.lti._service_urls import admit
from blendkit.lti._services import ServiceSession
from blendkit.store import KeyEncryption, Store

__all__ = ["Advantage", "ags_claim", "nrps_claim"]


class Advantage:
    """AGS, NRPS and deep-linking responses for launches from any registered platform."""

    def __init__(
        self,
        registry: PlatformRegistry,
        signer: Signer,
        *,
        http: httpx.Client | None = None,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        fence: Fence | None = None,
    ) -> None:
        self.registry = registry
        self.signer = signer
        self.tokens = AccessTokens(
            signer, http=http, timeout=timeout, retry=retry, sleep=sleep, fence=fence
        )

    @classmethod
    def from_store(
        cls,
        store: Store,
        settings: Settings | None = None,
        *,
        http: httpx.Client | None = None,
        fence: Fence | None = None,
    ) -> Advantage:
        """Registrations and keys from ``store``; timeout from ``[lti] http_timeout_seconds``,
        the fence from ``[http]`` unless ``fence`` is given."""
        settings = settings or Settings()
        return cls(
            StorePlatformRegistry(store),
            KeySet(store, encryption=KeyEncryption.from_settings(settings)),
            http=http,
            timeout=settings.lti.http_timeout_seconds,
            fence=fence or Fence.from_settings(settings),
        )

    @property
    def fence(self) -> Fence:
        """The outbound fence every service call (and deep-linking return URL) goes through."""
        return self.tokens.fence

    def close(self) -> None:
        """Close the HTTP client if this object created it."""
        self.tokens.close()

    def session(self, launch: Launch) -> ServiceSession:
        """Authorised service calls to the platform that sent ``launch``."""
        return ServiceSession(self.registry.get(launch.issuer, launch.client_id), self.tokens)

    def ags(self, launch: Launch) -> AssignmentGradeService:
        """Assignment and Grade Services of the launch's context (its AGS claim)."""
        return AssignmentGradeService.from_claim(self.session(launch), ags_claim(launch))

    def nrps(self, launch: Launch) -> NamesRoleService:
        """Names and Role Provisioning of the launch's context (its NRPS claim)."""
        return NamesRoleService.from_claim(self.session(launch), nrps_claim(launch))

    def deep_linking_response(
        self, launch: Launch, items: Sequence[ContentItem], **options: Any
    ) -> DeepLinkingResponse:
        """The signed answer to a deep-linking launch (see :func:`build_deep_linking_response`).

        The return URL comes from the launch, so it passes the fence (https, public addresses)
        and the registration's ``service_hosts`` pin before anything is signed for it.
        """
        settings = launch.deep_linking_settings
        if settings is not None:
            try:
                pinned = self.registry.get(launch.issuer, launch.client_id).service_hosts
            except NotFound:
                pinned = ()
            try:
                admit(self.fence, settings.deep_link_return_url, "deep-linking return", pinned)
            except ServiceError as exc:
                raise LTIError(exc.message, code=exc.code, http_status=400) from exc
        return deep_linking_response(launch, items, signer=self.signer, **options)


def ags_claim(launch: Launch) -> AGSClaim:
    """The launch's AGS claim, or ``lti.no_ags`` saying how to enable grade sync."""
    if launch.ags is None:
        raise ServiceError(
            "this launch carries no Assignment and Grade Services claim: enable grade sync "
            "('Accept grades from the tool' in Moodle, AGS scopes on the Canvas developer "
            "key) and launch again.",
            code="lti.no_ags",
            http_status=400,
        )
    return launch.ags


def nrps_claim(launch: Launch) -> NRPSClaim:
    """The launch's NRPS claim, or ``lti.no_nrps`` saying how to enable roster sharing."""
    if launch.nrps is None:
        raise ServiceError(
            "this launch carries no Names and Role Provisioning claim: enable 'Share "
            "launcher's name/roster' in Moodle or the NRPS scope on the Canvas developer "
            "key, and launch again.",
            code="lti.no_nrps",
            http_status=400,
        )
    return launch.nrps
