"""The launch checks' order and codes, what they establish, the claim readers they share, and the
typed :class:`Launch` built once they all passed (see :mod:`blendkit.lti._validator`)."""

from __future__ import annotations

from typing import Any, Final

from pydantic import ValidationError

from blendkit.errors import LaunchRejected
from blendkit.lti._claims import (
    AGS_CLAIM,
    CONTEXT_CLAIM,
    CUSTOM_CLAIM,
    DEEP_LINKING_SETTINGS_CLAIM,
    LAUNCH_PRESENTATION_CLAIM,
    LIS_CLAIM,
    NRPS_CLAIM,
    RESOURCE_LINK_CLAIM,
    ROLE_SCOPE_MENTOR_CLAIM,
    ROLES_CLAIM,
    TOOL_PLATFORM_CLAIM,
)
from blendkit.lti._http import HttpRequest
from blendkit.lti._jws import ParsedToken
from blendkit.lti._launch import Launch, MessageType
from blendkit.lti._platforms import Platform
from blendkit.lti._state import LoginState

__all__ = [
    "CHECKS",
    "MESSAGE_TYPES",
    "Launching",
    "build_launch",
    "missing_claim",
    "number_claim",
]

CHECKS: Final = (
    "id_token",  # lti.missing_id_token; the token's shape and size: lti.malformed_token …
    "issuer",  # lti.missing_claim (iss), lti.unknown_issuer
    "addressees",  # lti.missing_claim (aud), lti.invalid_claim (aud or azp not strings)
    "client",  # lti.unknown_client: no registration of the issuer for the token's client ids
    "signature",  # lti.unknown_kid, the key lookup's codes, lti.bad_signature …
    "times",  # lti.missing_claim / lti.invalid_claim for exp and iat
    "expiry",  # lti.expired (exp, with leeway_seconds)
    "not_before",  # lti.not_yet_valid (nbf, with leeway_seconds)
    "issued_at",  # lti.iat_in_future
    "token_age",  # lti.too_old (max_token_age_seconds)
    "audience",  # lti.wrong_audience
    "authorized_party",  # lti.wrong_azp, lti.missing_azp (several audiences, no azp)
    "deployment",  # lti.missing_claim (deployment_id), lti.unknown_deployment
    "login_state",  # lti.state_mismatch, lti.state_expired (the state is spent here)
    "browser_binding",  # lti.browser_mismatch
    "nonce",  # lti.missing_nonce, lti.nonce_mismatch, lti.replayed_nonce (spent here)
    "version",  # lti.missing_claim, lti.wrong_version
    "message_type",  # lti.missing_claim, lti.wrong_message_type
    "required_claims",  # lti.missing_claim: sub, roles, the message type's own claims
    "target_link",  # lti.missing_claim, lti.bad_target_link (outside the tool's base URL)
    "claims",  # lti.invalid_claim: a claim without the shape the specification gives it
)
"""The launch checks in the order they run; the first failure wins."""

MESSAGE_TYPES = {m.value: m for m in MessageType}
_USER_FIELDS = ("sub", "name", "given_name", "family_name", "middle_name", "email", "picture")
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


class Launching:
    """What the checks have established so far about one launch request, filled in order."""

    __slots__ = (
        "audiences",
        "azp",
        "client_id",
        "deployment_id",
        "exp",
        "iat",
        "issuer",
        "launch",
        "message_type",
        "new_deployment",
        "now",
        "parsed",
        "payload",
        "platform",
        "platforms",
        "request",
        "state",
        "target",
    )

    audiences: list[str]
    azp: str | None
    client_id: str
    deployment_id: str
    exp: float
    iat: float
    issuer: str
    launch: Launch
    message_type: MessageType
    new_deployment: bool
    now: float
    parsed: ParsedToken
    payload: dict[str, Any]
    platform: Platform
    platforms: list[Platform]
    state: LoginState
    target: str

    def __init__(self, request: HttpRequest) -> None:
        self.request = request


def missing_claim(claim: str, why: str = "") -> LaunchRejected:
    """``lti.missing_claim`` for ``claim``."""
    return LaunchRejected(
        f"the launch has no {claim!r} claim{why}; the platform must send it for an LTI 1.3 "
        "launch, check the tool's configuration on the platform",
        code="lti.missing_claim",
    )


def number_claim(payload: dict[str, Any], claim: str) -> float:
    """A NumericDate claim as a float; ``lti.missing_claim`` / ``lti.invalid_claim`` otherwise."""
    value = payload.get(claim)
    if value is None:
        raise missing_claim(claim)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise LaunchRejected(
            f"the {claim!r} claim is not a number of seconds; the platform sent an invalid token",
            code="lti.invalid_claim",
        )
    return float(value)


def build_launch(c: Launching) -> Launch:
    """The typed launch from what the checks established; a claim the model refuses is
    ``lti.invalid_claim``, naming the claim."""
    payload = c.payload
    user = {k: payload[k] for k in _USER_FIELDS if k in payload}
    locale = payload.get("locale")
    if locale is not None:
        user["locale"] = locale
    data: dict[str, Any] = {
        "message_type": c.message_type,
        "version": "1.3.0",
        "issuer": c.issuer,
        "client_id": c.client_id,
        "deployment_id": c.deployment_id,
        "user": user,
        "target_link_uri": c.target,
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
