"""LTI Dynamic Registration 1.0, tool side: an administrator pastes one URL, the tool installs.

The URL is a one-time registration link minted by the tool's administrator
(``<base_url>/lti/register?invite=<token>``, see :mod:`blendkit.lti._invites`). The platform
opens it with ``openid_configuration`` (and usually a ``registration_token``) added. Before any
network call the tool checks the invite (known, unused, unexpired, not revoked) and the
configuration URL's host (``[lti] registration_allowed_hosts`` and the host pinned on the
invite). Then it fetches that OpenID configuration, checks it (the issuer must be a prefix of the
configuration URL; endpoints and the LTI platform claim must be present), POSTs its client
registration to ``registration_endpoint`` with the token as Bearer, and in one transaction uses
the invite up and stores the resulting client_id (and deployment_id, when the platform sends one)
with who invited it. It answers a page that posts ``{subject: "org.imsglobal.lti.close"}`` to the
platform window.

Both exchanges go through the outbound :class:`~blendkit.http.Fence` (https, public addresses,
byte cap, deadline), the allow-list also holds for the ``registration_endpoint`` the
configuration names, and a failed exchange is reported in one wording that never quotes the
answer and does not tell a closed port from a silent one. The models exchanged, the request body
and the closing page are in :mod:`blendkit.lti._registration_models`.
"""

from __future__ import annotations

import fnmatch
import logging
import time
from collections.abc import Callable, Collection
from typing import Any, Final
from urllib.parse import urlsplit

import httpx
from pydantic import ValidationError

from blendkit.errors import OutboundError, RegistrationError, ServiceError
from blendkit.http import Fence, RetryPolicy
from blendkit.lti._http import HttpRequest, HttpResponse
from blendkit.lti._invites import INVITE_PARAM, RegistrationInvite, RegistrationInvites
from blendkit.lti._platform_sender import PLATFORM_RETRY, PlatformSender
from blendkit.lti._platforms import Platform, PlatformRegistry, check_endpoint_url
from blendkit.lti._registration_models import (
    CANVAS_PREFIX,
    TOOL_CONFIGURATION_CLAIM,
    LTIPlatformConfiguration,
    PlatformConfiguration,
    RegistrationResult,
    SupportedMessage,
    client_registration,
    close_page,
    issuer_matches,
)
from blendkit.lti._tool_config import ToolConfig

__all__ = [
    "DynamicRegistration",
    "LTIPlatformConfiguration",
    "PlatformConfiguration",
    "RegistrationResult",
    "SupportedMessage",
    "close_page",
]

_MAX_ANSWER_BYTES: Final = 256 * 1024
_log = logging.getLogger("blendkit.lti.registration")


class DynamicRegistration:
    """Registers the tool with a platform from its OpenID configuration URL, through an invite.

    ``registry`` should keep its records in ``invites.store`` (e.g. a
    :class:`~blendkit.lti.StorePlatformRegistry` on the same store): the invite is used up in the
    transaction that stores the registration.
    """

    def __init__(
        self,
        tool: ToolConfig,
        registry: PlatformRegistry,
        *,
        invites: RegistrationInvites,
        http: httpx.Client | None = None,
        fence: Fence | None = None,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        allowed_issuer_hosts: Collection[str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.tool = tool
        self.registry = registry
        self.invites = invites
        self.allowed_issuer_hosts = (
            tuple(allowed_issuer_hosts) if allowed_issuer_hosts is not None else None
        )
        self._sender = PlatformSender(
            http,
            timeout=timeout,
            retry=retry or PLATFORM_RETRY,
            clock=time.time,
            sleep=sleep,
            fence=fence,
        )

    def close(self) -> None:
        """Close the HTTP client if this object created it."""
        self._sender.close()

    # --- the flow ----------------------------------------------------------------------------

    def handle(self, request: HttpRequest) -> HttpResponse:
        """Answer ``GET /lti/register?invite=…&openid_configuration=…&registration_token=…``."""
        url = request.param("openid_configuration")
        if not url:
            raise RegistrationError(
                "this is the tool's dynamic registration URL: paste it into the platform's "
                "'register a tool' page (Moodle: Site administration › Plugins › Manage tools; "
                "Canvas: Admin › Developer Keys › LTI Registration) instead of opening it here.",
                code="lti.registration_missing_configuration",
            )
        result = self.register(
            url, request.param("registration_token"), invite=request.param(INVITE_PARAM)
        )
        return close_page(result, self.tool.title)

    def register(
        self,
        openid_configuration_url: str,
        registration_token: str | None = None,
        *,
        invite: str | None,
    ) -> RegistrationResult:
        """Check the invite and the host, then fetch the configuration, register the tool, and
        store the platform while using the invite up; return the result."""
        # The gate: nothing reaches the network before the invite and the host are accepted.
        checked = self.invites.check(invite)
        self.check_gate(openid_configuration_url, checked)
        assert invite is not None  # check() refused a missing one
        config = self.fetch_configuration(openid_configuration_url, registration_token)
        body = self.registration_request(config)
        answer = self._exchange(
            "POST",
            config.registration_endpoint,
            registration_token,
            what=f"registering with {config.registration_endpoint}",
            json_body=body,
        )
        client_id = answer.get("client_id")
        if isinstance(client_id, int | float) and not isinstance(client_id, bool):
            client_id = str(client_id)
        if not isinstance(client_id, str) or not client_id.strip():
            raise RegistrationError(
                f"{config.registration_endpoint} accepted the registration but returned no "
                "client_id; finish the set-up manually with the platform's tool settings.",
                code="lti.registration_response_invalid",
            )
        tool_conf = answer.get(TOOL_CONFIGURATION_CLAIM)
        deployment = tool_conf.get("deployment_id") if isinstance(tool_conf, dict) else None
        granted = answer.get("scope")
        platform = Platform(
            issuer=config.issuer,
            client_id=client_id,
            deployment_ids=(str(deployment),) if deployment not in (None, "") else (),
            # Canvas deploys the tool after registering it: without a deployment id in the
            # answer, the first signed launch of each deployment records it.
            accept_new_deployments=deployment in (None, ""),
            auth_login_url=config.authorization_endpoint,
            auth_token_url=config.token_endpoint,
            jwks_url=config.jwks_uri,
            name=self._name(config),
            invite_id=checked.id,
            invited_by=checked.created_by,
            invited_at=checked.created_at,
        )
        with self.invites.store.unit_of_work():  # the invite is used only if the platform stays
            self.invites.consume(invite, issuer=config.issuer, client_id=client_id)
            stored = self.registry.add(platform)
        return RegistrationResult(
            platform=stored,
            product_family_code=config.lti.product_family_code,
            scope=tuple(granted.split()) if isinstance(granted, str) else (),
            response=answer,
        )

    def check_gate(self, openid_configuration_url: str, invite: RegistrationInvite) -> None:
        """Refuse, before any network call, a configuration URL that is not https (http only on
        loopback), whose host is not allowed, or that the invite does not cover."""
        check_endpoint_url(openid_configuration_url, "openid_configuration")
        host = (urlsplit(openid_configuration_url).hostname or "").lower().rstrip(".")
        self._check_allowed_host(host)
        if not invite.host_allowed(host):
            raise RegistrationError(
                f"registration invite {invite.id} is for platforms on {invite.host!r}, not "
                f"{host!r}; ask the tool's administrator for a link for this platform",
                code="lti.registration_invite_host_mismatch",
                http_status=403,
            )

    def fetch_configuration(
        self, openid_configuration_url: str, registration_token: str | None = None
    ) -> PlatformConfiguration:
        """GET and validate the platform's OpenID configuration.

        The URL's host must be on the allow-list (when there is one) before anything is sent.
        """
        check_endpoint_url(openid_configuration_url, "openid_configuration")
        self._check_allowed(openid_configuration_url)
        payload = self._exchange(
            "GET",
            openid_configuration_url,
            registration_token,
            what=f"reading the platform configuration {openid_configuration_url}",
        )
        try:
            config = PlatformConfiguration.model_validate(payload)
        except ValidationError as exc:
            missing = [
                ".".join(str(p) for p in e["loc"]) for e in exc.errors() if e["type"] == "missing"
            ]
            detail = (
                f"missing {', '.join(missing)}"
                if missing
                else f"{exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}"
            )
            raise RegistrationError(
                f"the OpenID configuration at {openid_configuration_url} is not an LTI platform "
                f"configuration ({detail}); is this the URL the platform gave?",
                code="lti.registration_configuration_invalid",
            ) from exc
        if not issuer_matches(config.issuer, openid_configuration_url):
            raise RegistrationError(
                "the platform configuration names an issuer that is not a prefix of "
                f"{openid_configuration_url}, the URL it was served from; the specification "
                "requires that, so this registration is refused.",
                code="lti.registration_issuer_mismatch",
            )
        self._check_allowed(config.issuer)
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            check_endpoint_url(getattr(config, name), name)
        check_endpoint_url(config.registration_endpoint, "registration_endpoint")
        # The configuration names where the registration is POSTed: the same allow-list holds.
        self._check_allowed(config.registration_endpoint)
        if "private_key_jwt" not in config.token_endpoint_auth_methods_supported:
            raise RegistrationError(
                f"the platform {config.issuer} does not accept private_key_jwt client "
                "assertions at its token endpoint, which LTI Advantage services require.",
                code="lti.registration_configuration_invalid",
            )
        if "RS256" not in config.id_token_signing_alg_values_supported:
            raise RegistrationError(
                f"the platform {config.issuer} does not sign id_tokens with RS256, the only "
                "algorithm LTI 1.3 allows.",
                code="lti.registration_configuration_invalid",
            )
        return config

    def registration_request(self, config: PlatformConfiguration) -> dict[str, Any]:
        """The client registration body this tool sends to ``config``'s platform."""
        return client_registration(self.tool, config)

    # --- plumbing ----------------------------------------------------------------------------

    def _name(self, config: PlatformConfiguration) -> str:
        extra = config.lti.model_extra or {}
        account = extra.get(CANVAS_PREFIX + "account_name")
        family = config.lti.product_family_code
        return f"{family}: {account}" if isinstance(account, str) and account else family

    def _check_allowed(self, url: str) -> None:
        self._check_allowed_host((urlsplit(url).hostname or "").lower().rstrip("."))

    def _check_allowed_host(self, host: str) -> None:
        if self.allowed_issuer_hosts is None:
            return
        if not any(fnmatch.fnmatch(host, pattern.lower()) for pattern in self.allowed_issuer_hosts):
            raise RegistrationError(
                f"platform host {host!r} is not in this tool's list of platforms allowed to "
                "register; ask the tool's administrator to add it.",
                code="lti.registration_issuer_not_allowed",
                http_status=403,
            )

    def _fenced(self, url: str) -> None:
        """The outbound fence's verdict on ``url`` before anything is built or sent."""
        try:
            self._sender.fence.check(url)
        except OutboundError as exc:
            raise RegistrationError(exc.message, code=exc.code) from exc
        except httpx.HTTPError:
            # Does not resolve: the same failure a refused connection reports later.
            return

    def _exchange(
        self,
        method: str,
        url: str,
        token: str | None,
        *,
        what: str,
        json_body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        self._fenced(url)
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"

        def build() -> httpx.Request:
            return self._sender.http.build_request(
                method, url, json=json_body, headers=headers, timeout=self._sender.timeout
            )

        # Every failure that depends on the far side (refused, closed, silent, an error status,
        # not JSON) reads the same and quotes nothing of the answer: the registration page must
        # not become a port scanner or a way to read internal pages. The log keeps the status.
        code = (
            "lti.registration_platform_unavailable"
            if method == "GET"
            else "lti.registration_refused"
        )
        unusable = RegistrationError(
            f"{what} gave no usable answer (not reachable, no answer in time, an error status "
            "or not a JSON object). Check that the URL is the platform's own; the registration "
            "token may have expired or been used already: start the registration again from "
            "the platform.",
            code=code,
        )
        try:
            response = self._sender.send(
                build,
                idempotent=method == "GET",
                what=what,
                unavailable_code=code,
                max_bytes=_MAX_ANSWER_BYTES,
            )
        except ServiceError as exc:
            if exc.code.startswith("http."):  # the fence refused the URL: nothing was sent
                raise RegistrationError(exc.message, code=exc.code) from exc
            _log.warning("%s: no answer (%s)", what, exc.code)
            raise unusable from exc
        try:
            payload = response.json() if response.is_success else None
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            _log.warning("%s: unusable answer, HTTP %d", what, response.status_code)
            raise unusable
        return payload
