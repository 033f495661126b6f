"""OIDC third-party login initiation: the first request of every LTI 1.3 launch.

The platform sends ``iss``, ``login_hint`` and ``target_link_uri`` (GET or POST). The tool finds
the registration, remembers a fresh ``state`` and ``nonce`` bound to this browser, and sends the
browser to the platform's authorization endpoint. The browser binding is a random cookie whose
SHA-256 is stored with the state; when the platform offers LTI Platform Storage
(``lti_storage_target``) the same secret also goes into the platform's storage frame, so the
launch still works where third-party cookies are blocked.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from urllib.parse import urlencode, urlsplit

from blendkit.config import LTISettings
from blendkit.errors import LaunchRejected
from blendkit.lti._http import HttpRequest, HttpResponse, SetCookie
from blendkit.lti._jws import shown
from blendkit.lti._pages import storage_login_page
from blendkit.lti._platforms import Platform, PlatformRegistry
from blendkit.lti._state import LoginState, LoginStateStore
from blendkit.lti._validator import browser_hash, target_belongs_to

__all__ = ["LoginHandler", "origin_of", "storage_key"]

_SECRET_SHAPE = re.compile(r"^[A-Za-z0-9_-]{32,128}$")
_MAX_PARAM = 2048


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of ``url``: the postMessage target origin of a platform."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def storage_key(state: str) -> str:
    """The platform-storage key under which the browser secret of ``state`` is kept."""
    return f"blendkit_state_{state}"


def _param(request: HttpRequest, name: str, *, required: bool = False) -> str | None:
    value = request.param(name)
    if value is not None and len(value) > _MAX_PARAM:
        raise LaunchRejected(
            f"the login parameter {name!r} is longer than {_MAX_PARAM} characters",
            code="lti.bad_login_request",
        )
    if required and not value:
        raise LaunchRejected(
            f"the login request has no {name!r} parameter; the platform must start LTI 1.3 "
            "launches with an OIDC login initiation (iss, login_hint, target_link_uri)",
            code="lti.bad_login_request",
        )
    return value or None


def _required(request: HttpRequest, name: str) -> str:
    value = _param(request, name, required=True)
    return value or ""


class LoginHandler:
    """Answers login initiations with a redirect (or a platform-storage page)."""

    def __init__(
        self,
        *,
        registry: PlatformRegistry,
        states: LoginStateStore,
        tool_base_url: str,
        launch_url: str,
        settings: LTISettings | None = None,
        cookie_name: str = "blendkit_lti_browser",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.registry = registry
        self.states = states
        self.tool_base_url = tool_base_url.rstrip("/")
        self.launch_url = launch_url
        self.settings = settings or LTISettings()
        self.cookie_name = cookie_name
        self.secure = urlsplit(self.tool_base_url).scheme == "https"
        self.clock = clock

    def _platform(self, issuer: str, client_id: str | None) -> Platform:
        platforms = self.registry.for_issuer(issuer)
        if not platforms:
            raise LaunchRejected(
                f"no platform is registered with issuer {shown(issuer)}; register it with "
                "`blendkit platform add` (the issuer must match exactly, including the scheme)",
                code="lti.unknown_issuer",
            )
        if client_id is None:
            if len(platforms) == 1:
                return platforms[0]
            raise LaunchRejected(
                f"issuer {shown(issuer)} has {len(platforms)} registrations and the login request "
                "does not say which (no client_id); configure the platform to send client_id",
                code="lti.ambiguous_client",
            )
        for platform in platforms:
            if platform.client_id == client_id:
                return platform
        raise LaunchRejected(
            f"issuer {shown(issuer)} is registered, but not with client_id {shown(client_id)}; "
            "add that registration with `blendkit platform add`",
            code="lti.unknown_client",
        )

    def cookie(self, value: str) -> SetCookie:
        """The browser-binding cookie: ``SameSite=None; Secure`` on https, ``Lax`` on http."""
        return SetCookie(
            name=self.cookie_name,
            value=value,
            max_age=self.settings.state_ttl_seconds,
            secure=self.secure,
            httponly=True,
            samesite="None" if self.secure else "Lax",
        )

    def handle(self, request: HttpRequest) -> HttpResponse:
        """Validate the login initiation and answer the redirect to the platform."""
        issuer = _required(request, "iss")
        login_hint = _required(request, "login_hint")
        target = _required(request, "target_link_uri")
        message_hint = _param(request, "lti_message_hint")
        client_id = _param(request, "client_id")
        deployment_id = _param(request, "lti_deployment_id")
        storage_target = _param(request, "lti_storage_target")

        platform = self._platform(issuer, client_id)
        if (
            deployment_id is not None
            and deployment_id not in platform.deployment_ids
            and not platform.accept_new_deployments
        ):
            raise LaunchRejected(
                f"deployment {shown(deployment_id)} is not allowed for {platform.label}; add it "
                "with `blendkit platform add-deployment` if this deployment is legitimate",
                code="lti.unknown_deployment",
            )
        if not target_belongs_to(target, self.tool_base_url):
            raise LaunchRejected(
                f"the login's target_link_uri is not under the tool's base URL "
                f"{self.tool_base_url}; fix the launch URL configured on the platform",
                code="lti.bad_target_link",
            )

        existing = request.cookies.get(self.cookie_name, "")
        # Reuse the browser's secret so that several launches started at once (several tool
        # frames on one page) all stay bound to this browser.
        secret = existing if _SECRET_SHAPE.match(existing) else secrets.token_urlsafe(32)
        state = secrets.token_urlsafe(32)
        nonce = secrets.token_urlsafe(32)
        self.states.put(
            LoginState(
                state=state,
                nonce=nonce,
                issuer=platform.issuer,
                client_id=platform.client_id,
                target_link_uri=target,
                browser_hash=browser_hash(secret),
                expires_at=self.clock() + self.settings.state_ttl_seconds,
                storage_target=storage_target,
            )
        )
        params = {
            "scope": "openid",
            "response_type": "id_token",
            "response_mode": "form_post",
            "prompt": "none",
            "client_id": platform.client_id,
            "redirect_uri": self.launch_url,
            "login_hint": login_hint,
            "state": state,
            "nonce": nonce,
        }
        if message_hint is not None:
            params["lti_message_hint"] = message_hint
        separator = "&" if urlsplit(platform.auth_login_url).query else "?"
        auth_url = platform.auth_login_url + separator + urlencode(params)
        cookies = (self.cookie(secret),)
        if storage_target is None:
            return HttpResponse(
                status=302,
                headers=(("Location", auth_url), ("Cache-Control", "no-store")),
                cookies=cookies,
            )
        body, headers = storage_login_page(
            auth_url=auth_url,
            platform_origin=origin_of(platform.auth_login_url),
            storage_target=storage_target,
            message_id=secrets.token_urlsafe(12),
            items=[(storage_key(state), secret), (f"blendkit_nonce_{nonce}", nonce)],
        )
        return HttpResponse(status=200, headers=headers, body=body, cookies=cookies)
