"""Whatever arrives at the launch URL, the answer is a Launch or a LaunchRejected: never a crash."""

from __future__ import annotations

import base64
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blendkit.errors import LaunchRejected
from blendkit.lti import Launch
from tests.lti.launch_kit import LTI, Kit, canvas_claims, sign

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
CLAIMS = [
    "sub",
    "exp",
    "iat",
    "nbf",
    "aud",
    "azp",
    "nonce",
    "name",
    "email",
    LTI + "roles",
    LTI + "context",
    LTI + "resource_link",
    LTI + "custom",
    LTI + "launch_presentation",
    LTI + "lis",
    LTI + "tool_platform",
    LTI + "version",
    LTI + "message_type",
    LTI + "target_link_uri",
    "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint",
    "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice",
    "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings",
]


def _outcome(kit: Kit, form: dict[str, str], cookie: str | None) -> Launch | LaunchRejected:
    request = kit.launch_request(form.get("id_token"), form.get("state"), cookie)
    try:
        return kit.tool.launch(request)
    except LaunchRejected as rejected:
        return rejected


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    token=st.text(max_size=300)
    | st.binary(max_size=300).map(
        lambda b: ".".join(base64.urlsafe_b64encode(b).decode().rstrip("=") for _ in range(3))
    )
)
def test_arbitrary_tokens_are_rejected_cleanly(token: str) -> None:
    kit = Kit()
    login = kit.login()
    result = _outcome(kit, {"id_token": token, "state": login.state}, login.cookie)
    assert isinstance(result, LaunchRejected)
    assert result.code.startswith("lti.")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(claim=st.sampled_from(CLAIMS), value=json_values)
def test_signed_tokens_with_odd_claim_values_never_crash(claim: str, value: Any) -> None:
    kit = Kit()
    login = kit.login()
    token = sign(canvas_claims(login.nonce, kit.clock.now, **{claim: value}))
    result = _outcome(kit, {"id_token": token, "state": login.state}, login.cookie)
    assert isinstance(result, Launch | LaunchRejected)
    if isinstance(result, LaunchRejected):
        assert result.code.startswith("lti.")
