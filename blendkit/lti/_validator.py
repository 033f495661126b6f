"""Launch validation: every check an id_token must pass, in a fixed order, each with its code.

Order (first failure wins): the form and token shape, the registration (issuer, client), the
signature, the clock, audience and ``azp``, the deployment, the login state and its browser
binding, the nonce (which is then spent), the LTI version and message type, required claims,
and the target link. See ``docs/lti/launch.md`` for the codes and what an administrator can do.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from blendkit.config import LTISettings
from blendkit.errors import AlreadyExists, LaunchRejected
from blendkit.lti._claims import (
    AGS_CLAIM,
    CONTEXT_CLAIM,
    CUSTOM_CLAIM,
    DEEP_LINKING_SETTINGS_CLAIM,
    DEPLOYMENT_ID_CLAIM,
    LAUNCH_PRESENTATION_CLAIM,
    LIS_CLAIM,
    MESSAGE_TYPE_CLAIM,
    NRPS_CLAIM,
    RESOURCE_LINK_CLAIM,
    ROLE_SCOPE_MENTOR_CLAIM,
    ROLES_CLAIM,
    TARGET_LINK_URI_CLAIM,
    TOOL_PLATFORM_CLAIM,
    VERSION_CLAIM,
)
from blendkit.lti._http import HttpRequest
from blendkit.lti._jwks import JWKSCache
from blendkit.lti._jws import parse_token, shown, verify_signature
from blendkit.lti._launch import Launch, MessageType
from blendkit.lti._platforms import PlatformRegistry
from blendkit.lti._state import LoginStateStore, NonceStore

__all__ = ["STORAGE_VALUE_FIELD", "LaunchValidator", "browser_hash", "target_belongs_to"]

# Form field the platform-storage bridge page posts the browser secret in.
STORAGE_VALUE_FIELD = "lti_storage_value"
_USER_FIELDS = ("sub", "name", "given_name", "family_name", "middle_name", "email", "picture")
_MESSAGE_TYPES = {m.value: m for m in MessageType}
_FIELD_CLAIMS = {
    "context": CONTEXT_CLAIM,
    "resource_link": RESOURCE_LINK_CLAIM,
    "launch_presentation": LAUNCH_PRESENTATION_CLAIM,
    "custom": CUSTOM_CLAIM,
    "lis": LIS_CLAIM,
    "ags": AGS_CLAIM,
    "nrps": NRPS_CLAIM,
    "deep_linking_settings": DEEP_LINKING_SETTINGS_CLAIM,
    "tool_platform": TOOL_PLATFORM_CLAIM,
    "roles": ROLES_CLAIM,
    "role_scope_mentor": ROLE_SCOPE_MENTOR_CLAIM,
}


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


def _missing(claim: str, why: str = "") -> LaunchRejected:
    return LaunchRejected(
        f"the launch has no {claim!r} claim{why}; the platform must send it for an LTI 1.3 "
        "launch, check the tool's configuration on the platform",
        code="lti.missing_claim",
    )


def _number(payload: dict[str, Any], claim: str) -> float:
    value = payload.get(claim)
    if value is None:
        raise _missing(claim)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise LaunchRejected(
            f"the {claim!r} claim is not a number of seconds; the platform sent an invalid token",
            code="lti.invalid_claim",
        )
    return float(value)


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

    def validate(self, request: HttpRequest) -> Launch:
        """Run every check on the launch request; raise ``LaunchRejected`` with the first code."""
        settings = self.settings
        leeway = settings.leeway_seconds
        token = request.form.get("id_token")
        if not token:
            raise LaunchRejected(
                "the launch request carries no id_token form field; the platform must POST the "
                "authentication response to the tool's launch URL (response_mode=form_post)",
                code="lti.missing_id_token",
            )
        parsed = parse_token(token, settings.max_token_bytes)
        payload = parsed.payload

        # --- registration -----------------------------------------------------------------
        issuer = payload.get("iss")
        if not isinstance(issuer, str) or not issuer:
            raise _missing("iss")
        platforms = self.registry.for_issuer(issuer)
        if not platforms:
            raise LaunchRejected(
                f"no platform is registered with issuer {shown(issuer)}; register it with "
                "`blendkit platform add` (the issuer must match exactly, including the scheme)",
                code="lti.unknown_issuer",
            )
        aud = payload.get("aud")
        if aud is None:
            raise _missing("aud")
        audiences = [aud] if isinstance(aud, str) else aud
        if not isinstance(audiences, list) or not all(isinstance(a, str) for a in audiences):
            raise LaunchRejected(
                "the 'aud' claim is neither a string nor a list of strings",
                code="lti.invalid_claim",
            )
        azp = payload.get("azp")
        if azp is not None and not isinstance(azp, str):
            raise LaunchRejected("the 'azp' claim is not a string", code="lti.invalid_claim")
        by_client = {p.client_id: p for p in platforms}
        platform = by_client.get(azp) if azp is not None else None
        if platform is None:
            platform = next((by_client[a] for a in audiences if a in by_client), None)
        if platform is None:
            raise LaunchRejected(
                f"issuer {shown(issuer)} is registered, but not with the client id(s) this token "
                "is addressed to; add the registration for that client id with "
                "`blendkit platform add`",
                code="lti.unknown_client",
            )
        client_id = platform.client_id

        # --- signature --------------------------------------------------------------------
        kid = parsed.header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise LaunchRejected(
                "the id_token header names no key id (kid); the platform must say which of its "
                "published keys signed the launch",
                code="lti.unknown_kid",
            )
        key = self.jwks.get(platform.jwks_url, kid)
        verify_signature(parsed, key, issuer)

        # --- clock ------------------------------------------------------------------------
        now = self.clock()
        exp = _number(payload, "exp")
        iat = _number(payload, "iat")
        if now > exp + leeway:
            raise LaunchRejected(
                "the id_token has expired; relaunch from the platform. If this happens to every "
                "launch, check that the clocks of the tool and the platform are set (NTP)",
                code="lti.expired",
            )
        nbf = payload.get("nbf")
        if nbf is not None and now + leeway < _number(payload, "nbf"):
            raise LaunchRejected(
                "the id_token is not valid yet (nbf); check that the clocks of the tool and the "
                "platform are set (NTP) or raise lti.leeway_seconds",
                code="lti.not_yet_valid",
            )
        if iat > now + leeway:
            raise LaunchRejected(
                "the id_token was issued in the future (iat); check that the clocks of the tool "
                "and the platform are set (NTP) or raise lti.leeway_seconds",
                code="lti.iat_in_future",
            )
        if now - iat > settings.max_token_age_seconds + leeway:
            raise LaunchRejected(
                f"the id_token was issued more than {settings.max_token_age_seconds} s ago; "
                "relaunch from the platform (lti.max_token_age_seconds sets the limit)",
                code="lti.too_old",
            )

        # --- audience -----------------------------------------------------------------------
        if client_id not in audiences:
            raise LaunchRejected(
                f"the id_token is not addressed to this tool's client id {client_id!r} (aud); "
                "the launch was meant for another tool",
                code="lti.wrong_audience",
            )
        if azp is not None and azp != client_id:
            raise LaunchRejected(
                f"the id_token's authorized party (azp) is not this tool's client id "
                f"{client_id!r}; the launch was meant for another tool",
                code="lti.wrong_azp",
            )
        if azp is None and len(audiences) > 1:
            raise LaunchRejected(
                "the id_token is addressed to several audiences but names no authorized party "
                "(azp); OpenID Connect requires azp then, the platform must send it",
                code="lti.missing_azp",
            )

        # --- deployment ---------------------------------------------------------------------
        deployment_id = payload.get(DEPLOYMENT_ID_CLAIM)
        if not isinstance(deployment_id, str) or not deployment_id:
            raise _missing(DEPLOYMENT_ID_CLAIM)
        new_deployment = deployment_id not in platform.deployment_ids
        if new_deployment and not platform.accept_new_deployments:
            raise LaunchRejected(
                f"deployment {shown(deployment_id)} is not allowed for {platform.label}; add it "
                "with `blendkit platform add-deployment` if this deployment is legitimate",
                code="lti.unknown_deployment",
            )

        # --- login state and browser binding ------------------------------------------------
        state = request.form.get("state")
        record = self.states.pop(state) if state else None
        if record is None:
            raise LaunchRejected(
                "the launch's state is unknown or was already used; start the launch again from "
                "the platform (a reloaded or replayed launch page cannot be accepted)",
                code="lti.state_mismatch",
            )
        if record.expires_at < now:
            raise LaunchRejected(
                "the login for this launch took longer than lti.state_ttl_seconds; start the "
                "launch again from the platform",
                code="lti.state_expired",
            )
        if record.issuer != issuer or record.client_id != client_id:
            raise LaunchRejected(
                "the launch's state belongs to a login with another platform registration; start "
                "the launch again from the platform",
                code="lti.state_mismatch",
            )
        secrets = (request.form.get(STORAGE_VALUE_FIELD), request.cookies.get(self.cookie_name))
        if not any(
            s and hmac.compare_digest(browser_hash(s), record.browser_hash) for s in secrets
        ):
            raise LaunchRejected(
                "this launch did not come from the browser that started the login (the binding "
                "cookie or platform storage value is missing or different); relaunch, and if it "
                "keeps failing allow cookies for the tool or use a platform with LTI storage",
                code="lti.browser_mismatch",
            )

        # --- nonce -------------------------------------------------------------------------
        nonce = payload.get("nonce")
        if not isinstance(nonce, str) or not nonce:
            raise LaunchRejected(
                "the id_token carries no nonce; the platform must echo the nonce of the login",
                code="lti.missing_nonce",
            )
        if not hmac.compare_digest(nonce.encode(), record.nonce.encode()):
            raise LaunchRejected(
                "the id_token's nonce is not the one issued for this login; the token was "
                "issued for another login, start the launch again from the platform",
                code="lti.nonce_mismatch",
            )
        nonce_expires = min(exp, iat + settings.max_token_age_seconds) + leeway + 1
        if not self.nonces.use(issuer, nonce, nonce_expires):
            raise LaunchRejected(
                "this id_token was already used for a launch (replayed nonce); start the launch "
                "again from the platform",
                code="lti.replayed_nonce",
            )

        # --- LTI message ---------------------------------------------------------------------
        version = payload.get(VERSION_CLAIM)
        if version is None:
            raise _missing(VERSION_CLAIM)
        if version != "1.3.0":
            raise LaunchRejected(
                f"the launch uses LTI version {shown(version, 20)}; this tool accepts 1.3.0",
                code="lti.wrong_version",
            )
        raw_type = payload.get(MESSAGE_TYPE_CLAIM)
        if raw_type is None:
            raise _missing(MESSAGE_TYPE_CLAIM)
        message_type = _MESSAGE_TYPES.get(raw_type) if isinstance(raw_type, str) else None
        if message_type is None:
            raise LaunchRejected(
                f"the launch's message type {shown(raw_type, 40)} is not one this tool handles "
                "(LtiResourceLinkRequest, LtiDeepLinkingRequest, LtiSubmissionReviewRequest); "
                "check the placement configured on the platform",
                code="lti.wrong_message_type",
            )
        launch = self._build(
            payload,
            message_type=message_type,
            issuer=issuer,
            client_id=client_id,
            deployment_id=deployment_id,
            login_target=record.target_link_uri,
        )
        if new_deployment:
            # Every check passed on a token the platform signed: remember its deployment
            # (a concurrent first launch of the same deployment may have recorded it already).
            with contextlib.suppress(AlreadyExists):
                self.registry.add_deployment(platform.issuer, platform.client_id, deployment_id)
        return launch

    def _build(
        self,
        payload: dict[str, Any],
        *,
        message_type: MessageType,
        issuer: str,
        client_id: str,
        deployment_id: str,
        login_target: str,
    ) -> Launch:
        if not isinstance(payload.get("sub"), str) or not payload["sub"]:
            raise _missing("sub", " (anonymous launches are not supported)")
        if ROLES_CLAIM not in payload:
            raise _missing(ROLES_CLAIM)
        if message_type is MessageType.DEEP_LINKING:
            if DEEP_LINKING_SETTINGS_CLAIM not in payload:
                raise _missing(DEEP_LINKING_SETTINGS_CLAIM)
        elif RESOURCE_LINK_CLAIM not in payload:
            raise _missing(RESOURCE_LINK_CLAIM)
        if message_type is MessageType.SUBMISSION_REVIEW and AGS_CLAIM not in payload:
            raise _missing(AGS_CLAIM)
        target = payload.get(TARGET_LINK_URI_CLAIM)
        if target is None:
            if message_type is MessageType.RESOURCE_LINK:
                raise _missing(TARGET_LINK_URI_CLAIM)
            target = login_target
        if not isinstance(target, str) or not target_belongs_to(target, self.tool_base_url):
            raise LaunchRejected(
                f"the launch's target_link_uri is not under the tool's base URL "
                f"{self.tool_base_url}; fix the launch URL configured on the platform",
                code="lti.bad_target_link",
            )
        user = {k: payload[k] for k in _USER_FIELDS if k in payload}
        locale = payload.get("locale")
        if locale is not None:
            user["locale"] = locale
        data: dict[str, Any] = {
            "message_type": message_type,
            "version": "1.3.0",
            "issuer": issuer,
            "client_id": client_id,
            "deployment_id": deployment_id,
            "user": user,
            "target_link_uri": target,
            "claims": payload,
        }
        for field, claim in _FIELD_CLAIMS.items():
            value = payload.get(claim)
            if value is not None:
                data[field] = value
        try:
            return Launch.model_validate(data)
        except ValidationError as exc:
            location = exc.errors()[0]["loc"]
            field = str(location[0]) if location else "?"
            claim = _FIELD_CLAIMS.get(field, field)
            raise LaunchRejected(
                f"the launch's {claim!r} claim is malformed "
                f"({exc.errors()[0]['msg']} at {'.'.join(map(str, location))}); the platform "
                "sent a value the LTI specification does not allow",
                code="lti.invalid_claim",
            ) from None
