"""The launch checks run as named steps in a documented order; the first failing step answers.

Every defect below is caught by exactly one step. A launch carrying two defects must be refused
by the earlier step, whatever the pair, so reordering the checks (for example spending the nonce
before the signature is verified) fails here. Mutating any character of a valid token must be
refused too, always with a code that docs/lti/launch.md documents.
"""

from __future__ import annotations

import inspect
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blendkit.errors import LaunchRejected
from blendkit.lti import HttpRequest, Launch, LaunchValidator
from blendkit.lti._launch_checks import CHECKS
from tests.lti.launch_kit import (
    ATTACKER_KEY,
    CLIENT_ID,
    DROP,
    LTI,
    PLATFORM_KEY,
    Kit,
    canvas_claims,
    sign,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "lti" / "launch.md"


@dataclass(frozen=True)
class Defect:
    """One thing wrong with a launch, caught by the check ``step`` with ``code``."""

    step: str
    code: str
    says: str  # a fragment of the message, where two steps share a code
    claims: dict[str, Any] = field(default_factory=dict)
    request: dict[str, Any] = field(default_factory=dict)

    def touches(self) -> set[str]:
        return set(self.claims) | set(self.request)


HOUR = 3600
DEFECTS = [
    Defect("id_token", "lti.missing_id_token", "no id_token", request={"drop_token": True}),
    Defect("issuer", "lti.unknown_issuer", "issuer", claims={"iss": "https://evil.example"}),
    Defect("addressees", "lti.invalid_claim", "'aud'", claims={"aud": 42}),
    Defect("client", "lti.unknown_client", "client id", claims={"aud": "555", "azp": DROP}),
    Defect("signature", "lti.bad_signature", "signature", request={"key": ATTACKER_KEY}),
    Defect("times", "lti.missing_claim", "'iat'", claims={"iat": DROP}),
    Defect("expiry", "lti.expired", "expired", claims={"exp": -HOUR}),
    Defect("not_before", "lti.not_yet_valid", "nbf", claims={"nbf": HOUR}),
    Defect("issued_at", "lti.iat_in_future", "future", claims={"iat": HOUR}),
    Defect("token_age", "lti.too_old", "issued more than", claims={"iat": -HOUR}),
    Defect("audience", "lti.wrong_audience", "(aud)", claims={"aud": "555", "azp": CLIENT_ID}),
    Defect(
        "authorized_party",
        "lti.missing_azp",
        "several audiences",
        claims={"aud": [CLIENT_ID, "555"], "azp": DROP},
    ),
    Defect(
        "deployment",
        "lti.unknown_deployment",
        "deployment",
        claims={LTI + "deployment_id": "other:deployment"},
    ),
    Defect("login_state", "lti.state_mismatch", "state", request={"state": "forged"}),
    Defect("browser_binding", "lti.browser_mismatch", "browser", request={"cookie": "b" * 43}),
    Defect("nonce", "lti.nonce_mismatch", "nonce", claims={"nonce": "not-the-login-nonce"}),
    Defect("version", "lti.wrong_version", "version", claims={LTI + "version": "1.1.0"}),
    Defect(
        "message_type",
        "lti.wrong_message_type",
        "message type",
        claims={LTI + "message_type": "LtiStartProctoring"},
    ),
    Defect("required_claims", "lti.missing_claim", "'sub'", claims={"sub": DROP}),
    Defect(
        "target_link",
        "lti.bad_target_link",
        "target_link_uri",
        claims={LTI + "target_link_uri": "https://evil.example/x"},
    ),
    Defect("claims", "lti.invalid_claim", "context", claims={LTI + "context": "not an object"}),
]
TIMED = {"exp", "iat", "nbf"}  # relative to the kit's clock


def launch_with(kit: Kit, *defects: Defect) -> HttpRequest:
    login = kit.login()
    now = kit.clock.now
    overrides: dict[str, Any] = {}
    options: dict[str, Any] = {}
    for defect in defects:
        for claim, value in defect.claims.items():
            timed = claim in TIMED and value is not DROP
            overrides[claim] = int(now) + value if timed else value
        options.update(defect.request)
    if isinstance(overrides.get("iat"), int) and "exp" not in overrides:
        overrides["exp"] = overrides["iat"] + 2 * HOUR  # keep exp after iat
    token = sign(canvas_claims(login.nonce, now, **overrides), key=options.get("key", PLATFORM_KEY))
    return kit.launch_request(
        None if options.get("drop_token") else token,
        options.get("state", login.state),
        options.get("cookie", login.cookie),
    )


def refusal(request: HttpRequest, kit: Kit) -> LaunchRejected:
    with pytest.raises(LaunchRejected) as refused:
        kit.tool.launch(request)
    return refused.value


def test_every_step_is_a_method_and_every_check_method_is_a_listed_step() -> None:
    methods = {
        name.removeprefix("_check_")
        for name, _ in inspect.getmembers(LaunchValidator, inspect.isfunction)
        if name.startswith("_check_")
    }
    assert methods == set(CHECKS)
    assert len(CHECKS) == len(set(CHECKS))


def test_the_defects_cover_every_step_in_order() -> None:
    assert [d.step for d in DEFECTS] == list(CHECKS)


def test_a_valid_launch_passes_every_step() -> None:
    kit = Kit()
    assert isinstance(kit.tool.launch(launch_with(kit)), Launch)


@pytest.mark.parametrize("defect", DEFECTS, ids=[d.step for d in DEFECTS])
def test_each_defect_is_refused_by_its_own_step(defect: Defect) -> None:
    kit = Kit()
    refused = refusal(launch_with(kit, defect), kit)
    assert refused.code == defect.code
    assert defect.says in refused.message


PAIRS = [
    (first, later)
    for first, later in itertools.combinations(DEFECTS, 2)
    if not first.touches() & later.touches()
]


@pytest.mark.parametrize(
    ("first", "later"), PAIRS, ids=[f"{a.step}-before-{b.step}" for a, b in PAIRS]
)
def test_with_two_defects_the_earlier_step_answers(first: Defect, later: Defect) -> None:
    kit = Kit()
    refused = refusal(launch_with(kit, later, first), kit)
    assert (refused.code, first.says in refused.message) == (first.code, True), refused.message


def test_the_nonce_is_not_spent_by_a_launch_refused_before_the_nonce_step() -> None:
    kit = Kit()
    login = kit.login()
    good = sign(canvas_claims(login.nonce, kit.clock.now))
    forged = sign(canvas_claims(login.nonce, kit.clock.now), key=ATTACKER_KEY)
    assert refusal(kit.launch_request(forged, "forged", login.cookie), kit).code == (
        "lti.bad_signature"
    )
    assert isinstance(kit.tool.launch(kit.launch_request(good, login.state, login.cookie)), Launch)


def documented_codes() -> set[str]:
    section = DOCS.read_text(encoding="utf-8").split("## Error codes", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `(lti\.[a-z_]+)` \|", section, re.M))


BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
mutations = st.one_of(
    st.tuples(st.just("replace"), st.integers(0, 10**6), st.sampled_from(BASE64URL + ".=+/ ")),
    st.tuples(st.just("insert"), st.integers(0, 10**6), st.sampled_from(BASE64URL + ".")),
    st.tuples(st.just("delete"), st.integers(0, 10**6), st.just("")),
)


def mutate(token: str, how: tuple[str, int, str]) -> str:
    kind, at, char = how
    at %= len(token)
    if kind == "replace":
        if token[at] == char:
            char = "A" if char != "A" else "B"
        return token[:at] + char + token[at + 1 :]
    if kind == "insert":
        return token[:at] + char + token[at:]
    return token[:at] + token[at + 1 :]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mutations, min_size=1, max_size=3))
def test_any_change_to_a_valid_token_is_refused_with_a_documented_code(
    changes: list[tuple[str, int, str]],
) -> None:
    kit = Kit()
    login = kit.login()
    token = original = sign(canvas_claims(login.nonce, kit.clock.now))
    for change in changes:
        token = mutate(token, change)
    if token == original:  # an insert and a delete can cancel out
        return
    refused = refusal(kit.launch_request(token, login.state, login.cookie), kit)
    assert refused.code in documented_codes(), refused.code
