"""Launch validation: every check an id_token must pass, in a fixed order, each with its code.

:data:`~blendkit.lti._launch_checks.CHECKS` lists the steps in the order they run, with the codes
each one can raise; step ``name`` is the method ``LaunchValidator._check_<name>``. The first
failure wins, so a token with several defects is rejected with the code of the earliest check.
See ``docs/lti/launch.md`` for the codes and what an administrator can do about each.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from blendkit.config import LTISettings
from blendkit.errors import AlreadyExists, LaunchRejected
from blendkit.lti._claims import (
    AGS_CLAIM,
    DEEP_LINKING_SETTINGS_CLAIM,
    DEPLOYMENT_ID_CLAIM,
    MESSAGE_TYPE_CLAIM,
    RESOURCE_LINK_CLAIM,
    ROLES_CLAIM,
    TARGET_LINK_URI_CLAIM,
    VERSION_CLAIM,
)
from blendkit.lti._http import HttpRequest
from blendkit.lti._jwks import JWKSCache
from blendkit.lti._jws import parse_token, shown, verify_signature
from blendkit.lti._launch import Launch, MessageType
from blendkit.lti._launch_checks import (
    CHECKS,
    MESSAGE_TYPES,
    Launching,
    build_launch,
    missing_claim,
    number_claim,
)
from blendkit.lti._platforms import PlatformRegistry
from blendkit.lti._state import LoginStateStore, NonceStore

__all__ = ["CHECKS", "STORAGE_VALUE_FIELD", "LaunchValidator", "browser_hash", "target_belongs_to"]

# Form field the platform-storage bridge page posts the browser secret in.
STORAGE_VALUE_FIELD = "lti_storage_value"


def browser_hash(secret: str) -> str:
    """What the store keeps of the browser-binding secret: its SHA-256, never the value."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def target_belongs_to(url: str, base_url: str) -> bool:
    """True when ``url`` is on the tool's origin and under its base path."""
    target, base = urlsplit(url), urlsplit(base_url)
    if (target.scheme, target.netloc.lower()) != (base.scheme, base.netloc.lower()):
        return False
    base_path = base.path.rstrip("/")
    return target.path == base_path or target.path.startswith(base_path + "/")


class LaunchValidator:
    """Turns a form-posted authentication response into a :class:`Launch` or a rejection."""

    def __init__(
        self,
        *,
        registry: PlatformRegistry,
        states: LoginStateStore,
        nonces: NonceStore,
        jwks: JWKSCache,
        tool_base_url: str,
        settings: LTISettings | None = None,
        cookie_name: str = "blendkit_lti_browser",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.registry = registry
        self.states = states
        self.nonces = nonces
        self.jwks = jwks
        self.settings = settings or LTISettings()
        self.tool_base_url = tool_base_url.rstrip("/")
        self.cookie_name = cookie_name
        self.clock = clock

        self._steps: tuple[Callable[[Launching], None], ...] = tuple(
            getattr(self, f"_check_{name}") for name in CHECKS
        )

    def validate(self, request: HttpRequest) -> Launch:
        """Run every check on the launch request; raise ``LaunchRejected`` with the first code."""
        launching = Launching(request)
        for check in self._steps:
            check(launching)
        if launching.new_deployment:
            # Every check passed on a token the platform signed: remember its deployment
            # (a concurrent first launch of the same deployment may have recorded it already).
            platform = launching.platform
            with contextlib.suppress(AlreadyExists):
                self.registry.add_deployment(
                    platform.issuer, platform.client_id, launching.deployment_id
                )
        return launching.launch

    # --- the token and the registration ----------------------------------------------------

    def _check_id_token(self, c: Launching) -> None:
        token = c.request.form.get("id_token")
        if not token:
            raise LaunchRejected(
                "the launch request carries no id_token form field; the platform must POST the "
                "authentication response to the tool's launch URL (response_mode=form_post)",
                code="lti.missing_id_token",
            )
        c.parsed = parse_token(token, self.settings.max_token_bytes)
        c.payload = c.parsed.payload

    def _check_issuer(self, c: Launching) -> None:
        issuer = c.payload.get("iss")
        if not isinstance(issuer, str) or not issuer:
            raise missing_claim("iss")
        c.platforms = self.registry.for_issuer(issuer)
        if not c.platforms:
            raise LaunchRejected(
                f"no platform is registered with issuer {shown(issuer)}; register it with "
                "`blendkit platform add` (the issuer must match exactly, including the scheme)",
                code="lti.unknown_issuer",
            )
        c.issuer = issuer

    def _check_addressees(self, c: Launching) -> None:
        aud = c.payload.get("aud")
        if aud is None:
            raise missing_claim("aud")
        audiences = [aud] if isinstance(aud, str) else aud
        if not isinstance(audiences, list) or not all(isinstance(a, str) for a in audiences):
            raise LaunchRejected(
                "the 'aud' claim is neither a string nor a list of strings",
                code="lti.invalid_claim",
            )
        azp = c.payload.get("azp")
        if azp is not None and not isinstance(azp, str):
            raise LaunchRejected("the 'azp' claim is not a string", code="lti.invalid_claim")
        c.audiences = audiences
        c.azp = azp

    def _check_client(self, c: Launching) -> None:
        by_client = {p.client_id: p for p in c.platforms}
        platform = by_client.get(c.azp) if c.azp is not None else None
        if platform is None:
            platform = next((by_client[a] for a in c.audiences if a in by_client), None)
        if platform is None:
            raise LaunchRejected(
                f"issuer {shown(c.issuer)} is registered, but not with the client id(s) this "
                "token is addressed to; add the registration for that client id with "
                "`blendkit platform add`",
                code="lti.unknown_client",
            )
        c.platform = platform
        c.client_id = platform.client_id

    def _check_signature(self, c: Launching) -> None:
        kid = c.parsed.header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise LaunchRejected(
                "the id_token header names no key id (kid); the platform must say which of its "
                "published keys signed the launch",
                code="lti.unknown_kid",
            )
        verify_signature(c.parsed, self.jwks.get(c.platform.jwks_url, kid), c.issuer)

    # --- the clock ---------------------------------------------------------------------------

    def _check_times(self, c: Launching) -> None:
        c.now = self.clock()
        c.exp = number_claim(c.payload, "exp")
        c.iat = number_claim(c.payload, "iat")

    def _check_expiry(self, c: Launching) -> None:
        if c.now > c.exp + self.settings.leeway_seconds:
            raise LaunchRejected(
                "the id_token has expired; relaunch from the platform. If this happens to every "
                "launch, check that the clocks of the tool and the platform are set (NTP)",
                code="lti.expired",
            )

    def _check_not_before(self, c: Launching) -> None:
        if c.payload.get("nbf") is not None and c.now + self.settings.leeway_seconds < (
            number_claim(c.payload, "nbf")
        ):
            raise LaunchRejected(
                "the id_token is not valid yet (nbf); check that the clocks of the tool and the "
                "platform are set (NTP) or raise lti.leeway_seconds",
                code="lti.not_yet_valid",
            )

    def _check_issued_at(self, c: Launching) -> None:
        if c.iat > c.now + self.settings.leeway_seconds:
            raise LaunchRejected(
                "the id_token was issued in the future (iat); check that the clocks of the tool "
                "and the platform are set (NTP) or raise lti.leeway_seconds",
                code="lti.iat_in_future",
            )

    def _check_token_age(self, c: Launching) -> None:
        settings = self.settings
        if c.now - c.iat > settings.max_token_age_seconds + settings.leeway_seconds:
            raise LaunchRejected(
                f"the id_token was issued more than {settings.max_token_age_seconds} s ago; "
                "relaunch from the platform (lti.max_token_age_seconds sets the limit)",
                code="lti.too_old",
            )

    # --- whom the token is for -----------------------------------------------------------------

    def _check_audience(self, c: Launching) -> None:
        if c.client_id not in c.audiences:
            raise LaunchRejected(
                f"the id_token is not addressed to this tool's client id {c.client_id!r} (aud); "
                "the launch was meant for another tool",
                code="lti.wrong_audience",
            )

    def _check_authorized_party(self, c: Launching) -> None:
        if c.azp is not None and c.azp != c.client_id:
            raise LaunchRejected(
                f"the id_token's authorized party (azp) is not this tool's client id "
                f"{c.client_id!r}; the launch was meant for another tool",
                code="lti.wrong_azp",
            )
        if c.azp is None and len(c.audiences) > 1:
            raise LaunchRejected(
                "the id_token is addressed to several audiences but names no authorized party "
                "(azp); OpenID Connect requires azp then, the platform must send it",
                code="lti.missing_azp",
            )

    def _check_deployment(self, c: Launching) -> None:
        deployment_id = c.payload.get(DEPLOYMENT_ID_CLAIM)
        if not isinstance(deployment_id, str) or not deployment_id:
            raise missing_claim(DEPLOYMENT_ID_CLAIM)
        c.new_deployment = deployment_id not in c.platform.deployment_ids
        if c.new_deployment and not c.platform.accept_new_deployments:
            raise LaunchRejected(
                f"deployment {shown(deployment_id)} is not allowed for {c.platform.label}; add it "
                "with `blendkit platform add-deployment` if this deployment is legitimate",
                code="lti.unknown_deployment",
            )
        c.deployment_id = deployment_id

    # --- the login this launch answers ---------------------------------------------------------

    def _check_login_state(self, c: Launching) -> None:
        state = c.request.form.get("state")
        record = self.states.pop(state) if state else None
        if record is None:
            raise LaunchRejected(
                "the launch's state is unknown or was already used; start the launch again from "
                "the platform (a reloaded or replayed launch page cannot be accepted)",
                code="lti.state_mismatch",
            )
        if record.expires_at < c.now:
            raise LaunchRejected(
                "the login for this launch took longer than lti.state_ttl_seconds; start the "
                "launch again from the platform",
                code="lti.state_expired",
            )
        if record.issuer != c.issuer or record.client_id != c.client_id:
            raise LaunchRejected(
                "the launch's state belongs to a login with another platform registration; start "
                "the launch again from the platform",
                code="lti.state_mismatch",
            )
        c.state = record

    def _check_browser_binding(self, c: Launching) -> None:
        request, expected = c.request, c.state.browser_hash
        secrets = (request.form.get(STORAGE_VALUE_FIELD), request.cookies.get(self.cookie_name))
        if not any(s and hmac.compare_digest(browser_hash(s), expected) for s in secrets):
            raise LaunchRejected(
                "this launch did not come from the browser that started the login (the binding "
                "cookie or platform storage value is missing or different); relaunch, and if it "
                "keeps failing allow cookies for the tool or use a platform with LTI storage",
                code="lti.browser_mismatch",
            )

    def _check_nonce(self, c: Launching) -> None:
        nonce = c.payload.get("nonce")
        if not isinstance(nonce, str) or not nonce:
            raise LaunchRejected(
                "the id_token carries no nonce; the platform must echo the nonce of the login",
                code="lti.missing_nonce",
            )
        if not hmac.compare_digest(nonce.encode(), c.state.nonce.encode()):
            raise LaunchRejected(
                "the id_token's nonce is not the one issued for this login; the token was "
                "issued for another login, start the launch again from the platform",
                code="lti.nonce_mismatch",
            )
        settings = self.settings
        expires = min(c.exp, c.iat + settings.max_token_age_seconds) + settings.leeway_seconds + 1
        if not self.nonces.use(c.issuer, nonce, expires):
            raise LaunchRejected(
                "this id_token was already used for a launch (replayed nonce); start the launch "
                "again from the platform",
                code="lti.replayed_nonce",
            )

    # --- the LTI message -----------------------------------------------------------------------

    def _check_version(self, c: Launching) -> None:
        version = c.payload.get(VERSION_CLAIM)
        if version is None:
            raise missing_claim(VERSION_CLAIM)
        if version != "1.3.0":
            raise LaunchRejected(
                f"the launch uses LTI version {shown(version, 20)}; this tool accepts 1.3.0",
                code="lti.wrong_version",
            )

    def _check_message_type(self, c: Launching) -> None:
        raw_type = c.payload.get(MESSAGE_TYPE_CLAIM)
        if raw_type is None:
            raise missing_claim(MESSAGE_TYPE_CLAIM)
        message_type = MESSAGE_TYPES.get(raw_type) if isinstance(raw_type, str) else None
        if message_type is None:
            raise LaunchRejected(
                f"the launch's message type {shown(raw_type, 40)} is not one this tool handles "
                "(LtiResourceLinkRequest, LtiDeepLinkingRequest, LtiSubmissionReviewRequest); "
                "check the placement configured on the platform",
                code="lti.wrong_message_type",
            )
        c.message_type = message_type

    def _check_required_claims(self, c: Launching) -> None:
        payload, message_type = c.payload, c.message_type
        if not isinstance(payload.get("sub"), str) or not payload["sub"]:
            raise missing_claim("sub", " (anonymous launches are not supported)")
        if ROLES_CLAIM not in payload:
            raise missing_claim(ROLES_CLAIM)
        if message_type is MessageType.DEEP_LINKING:
            if DEEP_LINKING_SETTINGS_CLAIM not in payload:
                raise missing_claim(DEEP_LINKING_SETTINGS_CLAIM)
        elif RESOURCE_LINK_CLAIM not in payload:
            raise missing_claim(RESOURCE_LINK_CLAIM)
        if message_type is MessageType.SUBMISSION_REVIEW and AGS_CLAIM not in payload:
            raise missing_claim(AGS_CLAIM)

    def _check_target_link(self, c: Launching) -> None:
        target = c.payload.get(TARGET_LINK_URI_CLAIM)
        if target is None:
            if c.message_type is MessageType.RESOURCE_LINK:
                raise missing_claim(TARGET_LINK_URI_CLAIM)
            target = c.state.target_link_uri
        if not isinstance(target, str) or not target_belongs_to(target, self.tool_base_url):
            raise LaunchRejected(
                f"the launch's target_link_uri is not under the tool's base URL "
                f"{self.tool_base_url}; fix the launch URL configured on the platform",
                code="lti.bad_target_link",
            )
        c.target = target

    def _check_claims(self, c: Launching) -> None:
        c.launch = build_launch(c)
