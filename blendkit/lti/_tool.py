"""The LTI 1.3 tool: login, launch and JWKS assembled from the registry, stores and caches.

Adapters hold one :class:`Tool` per application and call ``login``, ``handle_launch`` (or
``launch``) and ``jwks`` with plain request values.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

from blendkit.config import LTISettings, Settings
from blendkit.errors import ConfigError, LaunchRejected, NotFound
from blendkit.http import Fence
from blendkit.lti._http import HttpRequest, HttpResponse
from blendkit.lti._jwks import HttpxJWKSFetcher, JWKSCache, JWKSFetcher
from blendkit.lti._keys import KeySet
from blendkit.lti._launch import Launch
from blendkit.lti._login import LoginHandler, origin_of, storage_key
from blendkit.lti._pages import bridge_page
from blendkit.lti._platforms import (
    CachedPlatformRegistry,
    PlatformRegistry,
    StorePlatformRegistry,
)
from blendkit.lti._state import (
    LoginStateStore,
    NonceStore,
    StoreLoginStateStore,
    StoreNonceStore,
)
from blendkit.lti._validator import STORAGE_VALUE_FIELD, LaunchValidator
from blendkit.store import KeyEncryption, Store

__all__ = ["Tool"]

logger = logging.getLogger("blendkit.lti")


class Tool:
    """One LTI 1.3 tool: answers logins, validates launches, publishes its keys."""

    def __init__(
        self,
        *,
        registry: PlatformRegistry,
        states: LoginStateStore,
        nonces: NonceStore,
        jwks_cache: JWKSCache,
        base_url: str,
        keys: KeySet | None = None,
        launch_url: str | None = None,
        settings: LTISettings | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.launch_url = launch_url or f"{self.base_url}/lti/launch"
        self.settings = settings or LTISettings()
        self.registry = registry
        self.keys = keys
        secure = urlsplit(self.base_url).scheme == "https"
        # The __Host- prefix makes browsers refuse the cookie unless Secure, host-only, Path=/.
        self.cookie_name = "__Host-blendkit_lti" if secure else "blendkit_lti"
        self.states = states
        self.login_handler = LoginHandler(
            registry=registry,
            states=states,
            tool_base_url=self.base_url,
            launch_url=self.launch_url,
            settings=self.settings,
            cookie_name=self.cookie_name,
            clock=clock,
        )
        self.validator = LaunchValidator(
            registry=registry,
            states=states,
            nonces=nonces,
            jwks=jwks_cache,
            tool_base_url=self.base_url,
            settings=self.settings,
            cookie_name=self.cookie_name,
            clock=clock,
        )

    @classmethod
    def from_store(
        cls,
        store: Store,
        settings: Settings | None = None,
        *,
        http_client: httpx.Client | None = None,
        jwks_fetcher: JWKSFetcher | None = None,
        fence: Fence | None = None,
    ) -> Tool:
        """A tool whose registrations, keys, login states and nonces live in ``store``.

        Platform key sets are fetched with ``jwks_fetcher``, by default over HTTP with
        ``http_client`` (or a private client) and ``lti.http_timeout_seconds``, through ``fence``
        (by default the fence of ``[http]`` and ``[tool] environment``).
        """
        settings = settings or Settings()
        lti = settings.lti
        fetcher = jwks_fetcher or HttpxJWKSFetcher(
            http_client,
            timeout=lti.http_timeout_seconds,
            fence=fence or Fence.from_settings(settings),
        )
        return cls(
            registry=(
                CachedPlatformRegistry(
                    StorePlatformRegistry(store), ttl_seconds=lti.registry_cache_seconds
                )
                if lti.registry_cache_seconds > 0
                else StorePlatformRegistry(store)
            ),
            states=StoreLoginStateStore(store),
            nonces=StoreNonceStore(store),
            jwks_cache=JWKSCache(fetcher, ttl_seconds=lti.jwks_cache_seconds),
            keys=KeySet(store, encryption=KeyEncryption.from_settings(settings)),
            base_url=settings.tool.base_url,
            settings=lti,
        )

    def login(self, request: HttpRequest) -> HttpResponse:
        """Answer an OIDC login initiation (raises ``LaunchRejected``)."""
        try:
            return self.login_handler.handle(request)
        except LaunchRejected as rejected:
            # Codes and messages only: they never contain tokens, states or cookies.
            logger.warning("LTI login refused: %s", rejected)
            raise

    def launch(self, request: HttpRequest) -> Launch:
        """Validate an authentication response (raises ``LaunchRejected`` with a code)."""
        try:
            launch = self.validator.validate(request)
        except LaunchRejected as rejected:
            logger.warning("LTI launch refused: %s", rejected)
            raise
        logger.info(
            "LTI launch accepted: issuer=%s client_id=%s deployment=%s type=%s",
            launch.issuer,
            launch.client_id,
            launch.deployment_id,
            launch.message_type.value,
        )
        return launch

    def handle_launch(self, request: HttpRequest) -> Launch | HttpResponse:
        """Like :meth:`launch`, but answers the platform-storage bridge page when the launch
        arrived without the binding cookie from a login that used LTI Platform Storage."""
        bridge = self._bridge(request)
        return bridge if bridge is not None else self.launch(request)

    def _bridge(self, request: HttpRequest) -> HttpResponse | None:
        if STORAGE_VALUE_FIELD in request.form or request.cookies.get(self.cookie_name):
            return None
        state = request.form.get("state")
        token = request.form.get("id_token")
        if not state or not token:
            return None
        record = self.states.peek(state)
        if record is None or record.storage_target is None:
            return None
        try:
            platform = self.registry.get(record.issuer, record.client_id)
        except NotFound:  # validate() reports the unknown platform with its own code
            return None
        return bridge_page(
            launch_url=self.launch_url,
            platform_origin=origin_of(platform.auth_login_url),
            storage_target=record.storage_target,
            message_id=secrets.token_urlsafe(12),
            key=storage_key(state),
            fields={"id_token": token, "state": state},
        )

    def jwks(self) -> dict[str, Any]:
        """The tool's public JWKS (publish it at ``/lti/jwks``)."""
        if self.keys is None:
            raise ConfigError(
                "this Tool was built without a KeySet; build it with Tool.from_store(...) or "
                "pass keys=KeySet(store)"
            )
        return dict(self.keys.jwks())
