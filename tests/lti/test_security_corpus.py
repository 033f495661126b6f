"""Security corpus: malicious or broken launches, each refused with its own specific code.

Every row builds one attack against a freshly wired tool (in-memory stores, a Canvas-like
registration) and names the code blendkit must answer. A row that passed would be a hole, a row
refused with another code would hide what went wrong from the administrator.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives import serialization

from blendkit.config import LTISettings
from blendkit.errors import LaunchRejected
from blendkit.lti import HttpRequest
from tests.lti.launch_kit import (
    ATTACKER_KEY,
    CLIENT_ID,
    DROP,
    ISSUER,
    JWKS_URL,
    LTI,
    OTHER_CLIENT_ID,
    PLATFORM_KEY,
    ROTATED_KEY,
    Kit,
    b64,
    canvas_claims,
    canvas_platform,
    jwks_document,
    sign,
)

Attack = Callable[[Kit], HttpRequest]
NONE_HEADER = b64(b'{"alg":"none","typ":"JWT"}')
RS256_HEADER = b64(b'{"alg":"RS256","kid":"p1"}')


def _with_claims(**overrides: object) -> Attack:
    def build(kit: Kit) -> HttpRequest:
        return kit.good_request(**overrides)

    return build


def _with_token(make: Callable[[Kit, str], str]) -> Attack:
    """A real login, then a token built by ``make(kit, nonce)``."""

    def build(kit: Kit) -> HttpRequest:
        login = kit.login()
        return kit.launch_request(make(kit, login.nonce), login.state, login.cookie)

    return build


def _none_alg(kit: Kit, nonce: str) -> str:
    claims = canvas_claims(nonce, kit.clock.now)
    return f"{NONE_HEADER}.{b64(json.dumps(claims).encode())}."


def _hs256_confusion(kit: Kit, nonce: str) -> str:
    """HS256 with the platform's *public* key bytes as the HMAC secret (CVE-2015-9235 style)."""
    secret = PLATFORM_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "p1"}).encode())
    payload = b64(json.dumps(canvas_claims(nonce, kit.clock.now)).encode())
    mac = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(mac)}"


def _other_alg(alg: str) -> Callable[[Kit, str], str]:
    def make(kit: Kit, nonce: str) -> str:
        token = sign(canvas_claims(nonce, kit.clock.now))
        _, payload, signature = token.split(".")
        return f"{b64(json.dumps({'alg': alg, 'kid': 'p1'}).encode())}.{payload}.{signature}"

    return make


def _tampered_payload(kit: Kit, nonce: str) -> str:
    header, _, signature = sign(canvas_claims(nonce, kit.clock.now)).split(".")
    forged = canvas_claims(nonce, kit.clock.now, sub="someone-else")
    forged[LTI + "roles"] = ["http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator"]
    return f"{header}.{b64(json.dumps(forged).encode())}.{signature}"


def _tampered_signature(kit: Kit, nonce: str) -> str:
    header, payload, signature = sign(canvas_claims(nonce, kit.clock.now)).split(".")
    flipped = bytearray(__import__("base64").urlsafe_b64decode(signature + "=="))
    flipped[10] ^= 0x01
    return f"{header}.{payload}.{b64(bytes(flipped))}"


def _standard_alphabet(kit: Kit, nonce: str) -> str:
    """The same signature re-encoded with '+' and '/': one token must have one encoding."""
    header, payload, signature = sign(canvas_claims(nonce, kit.clock.now)).split(".")
    assert "-" in signature or "_" in signature
    return f"{header}.{payload}.{signature.replace('-', '+').replace('_', '/')}"


def _noncanonical_signature(kit: Kit, nonce: str) -> str:
    """The same signature bytes spelt with a different last character (its spare bits set)."""
    header, payload, signature = sign(canvas_claims(nonce, kit.clock.now)).split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    assert len(signature) % 4 == 2  # 256 bytes: the last character carries 2 bits, 4 are spare
    last = alphabet.index(signature[-1])
    return f"{header}.{payload}.{signature[:-1]}{alphabet[last | 0b0001]}"


def _crit_header(kit: Kit, nonce: str) -> str:
    return sign(canvas_claims(nonce, kit.clock.now), headers={"crit": ["exp"], "exp": 1})


def _replayed_with_restored_state(kit: Kit) -> HttpRequest:
    """The same token and state presented twice, the state record surviving the first use (a
    state store that lost its delete, or two workers racing): only the nonce stops it."""
    request = kit.good_request()
    record = kit.states.peek(request.form["state"])
    assert record is not None
    kit.tool.launch(request)
    kit.states.put(record)
    return request


def _reused_state(kit: Kit) -> HttpRequest:
    request = kit.good_request()
    kit.tool.launch(request)
    return request


def _state_from_nowhere(kit: Kit) -> HttpRequest:
    login = kit.login()
    token = sign(canvas_claims(login.nonce, kit.clock.now))
    return kit.launch_request(token, "forged-state-value", login.cookie)


def _expired_state(kit: Kit) -> HttpRequest:
    login = kit.login()
    kit.clock.now += 601  # state_ttl_seconds is 600; the token itself is fresh
    token = sign(canvas_claims(login.nonce, kit.clock.now))
    return kit.launch_request(token, login.state, login.cookie)


def _other_browser(kit: Kit) -> HttpRequest:
    login = kit.login()
    token = sign(canvas_claims(login.nonce, kit.clock.now))
    return kit.launch_request(token, login.state, "a" * 43)


def _no_cookie(kit: Kit) -> HttpRequest:
    login = kit.login()
    token = sign(canvas_claims(login.nonce, kit.clock.now))
    return kit.launch_request(token, login.state, None)


def _wrong_storage_value(kit: Kit) -> HttpRequest:
    login = kit.login(lti_storage_target="post_message_forwarding")
    token = sign(canvas_claims(login.nonce, kit.clock.now))
    return kit.launch_request(token, login.state, None, lti_storage_value="b" * 43)


def _nonce_of_other_login(kit: Kit) -> HttpRequest:
    first = kit.login()
    second = kit.login()
    token = sign(canvas_claims(second.nonce, kit.clock.now))
    return kit.launch_request(token, first.state, first.cookie)


def _state_of_other_tenant(kit: Kit) -> HttpRequest:
    """Tenant B's login state used with a token addressed to tenant A (same issuer)."""
    b_login = kit.login(client_id=OTHER_CLIENT_ID)
    token = sign(canvas_claims(b_login.nonce, kit.clock.now))
    return kit.launch_request(token, b_login.state, b_login.cookie)


def _unknown_kid(kit: Kit, nonce: str) -> str:
    return sign(canvas_claims(nonce, kit.clock.now), key=ROTATED_KEY, kid="never-published")


def _attacker_key(kit: Kit, nonce: str) -> str:
    return sign(canvas_claims(nonce, kit.clock.now), key=ATTACKER_KEY, kid="p1")


def _tenant_b_key(kit: Kit, nonce: str) -> str:
    """Signed with tenant B's key (kid b1), addressed to tenant A: A's key set lacks b1."""
    return sign(canvas_claims(nonce, kit.clock.now), key=ROTATED_KEY, kid="b1")


def _no_kid(kit: Kit, nonce: str) -> str:
    return sign(canvas_claims(nonce, kit.clock.now), kid=None)


def _jwks_down(kit: Kit) -> HttpRequest:
    kit.fetcher.documents.clear()
    return kit.good_request()


def _jwks_junk(kit: Kit) -> HttpRequest:
    kit.fetcher.documents[JWKS_URL] = {"keys": [{"kty": "RSA", "kid": "p1", "n": "!!"}]}
    return kit.good_request()


def _oversized(kit: Kit) -> HttpRequest:
    return kit.good_request(**{LTI + "custom": {"blob": "x" * 70_000}})


def _raw(token: str) -> Attack:
    def build(kit: Kit) -> HttpRequest:
        login = kit.login()
        return kit.launch_request(token, login.state, login.cookie)

    return build


def _no_token(kit: Kit) -> HttpRequest:
    login = kit.login()
    return kit.launch_request(None, login.state, login.cookie)


@dataclass(frozen=True)
class Case:
    name: str
    code: str
    attack: Attack


def _times(**delta: int) -> Attack:
    def build(kit: Kit) -> HttpRequest:
        now = int(kit.clock.now)
        changes = {k: now + v for k, v in delta.items()}
        return kit.good_request(**changes)

    return build


CORPUS: list[Case] = [
    Case("no id_token in the form", "lti.missing_id_token", _no_token),
    Case("token over max_token_bytes", "lti.token_too_large", _oversized),
    Case("not a JWT at all", "lti.malformed_token", _raw("this-is-not-a-jwt")),
    Case("two segments only", "lti.malformed_token", _raw("eyJhbGciOiJSUzI1NiJ9.e30")),
    Case("header is not JSON", "lti.malformed_token", _raw(f"{b64(b'nope')}.{b64(b'{}')}.AAAA")),
    Case(
        "padded base64 segments",
        "lti.malformed_token",
        _raw(f"{RS256_HEADER}.e30=.AAAA"),
    ),
    Case(
        "payload is a JSON list", "lti.malformed_token", _raw(f"{RS256_HEADER}.{b64(b'[1]')}.AAAA")
    ),
    Case(
        "signature in the standard base64 alphabet",
        "lti.malformed_token",
        _with_token(_standard_alphabet),
    ),
    Case(
        "signature re-spelt with spare bits set",
        "lti.malformed_token",
        _with_token(_noncanonical_signature),
    ),
    Case("crit header extension", "lti.malformed_token", _with_token(_crit_header)),
    Case("alg none, empty signature", "lti.unsupported_alg", _with_token(_none_alg)),
    Case(
        "HS256 keyed with the RSA public key", "lti.unsupported_alg", _with_token(_hs256_confusion)
    ),
    Case("RS512 instead of RS256", "lti.unsupported_alg", _with_token(_other_alg("RS512"))),
    Case("PS256 instead of RS256", "lti.unsupported_alg", _with_token(_other_alg("PS256"))),
    Case("unknown issuer", "lti.unknown_issuer", _with_claims(iss="https://evil.example")),
    Case(
        "issuer differs only by trailing slash",
        "lti.unknown_issuer",
        _with_claims(iss=ISSUER + "/"),
    ),
    Case("unregistered client id", "lti.unknown_client", _with_claims(aud="555", azp=DROP)),
    Case("unknown kid (after one refetch)", "lti.unknown_kid", _with_token(_unknown_kid)),
    Case("no kid in header", "lti.unknown_kid", _with_token(_no_kid)),
    Case("JWKS endpoint down", "lti.jwks_unavailable", _jwks_down),
    Case("JWKS returns junk", "lti.jwks_unavailable", _jwks_junk),
    Case("payload tampered after signing", "lti.bad_signature", _with_token(_tampered_payload)),
    Case("signature bit flipped", "lti.bad_signature", _with_token(_tampered_signature)),
    Case(
        "signed by an attacker key with the platform kid",
        "lti.bad_signature",
        _with_token(_attacker_key),
    ),
    Case("expired beyond leeway", "lti.expired", _times(iat=-200, exp=-61)),
    Case("nbf beyond leeway", "lti.not_yet_valid", _times(nbf=120)),
    Case("iat in the future beyond leeway", "lti.iat_in_future", _times(iat=61)),
    Case("token older than max age", "lti.too_old", _times(iat=-661, exp=3600)),
    Case("exp not a number", "lti.invalid_claim", _with_claims(exp="tomorrow")),
    Case(
        "aud names another tool, azp ours", "lti.wrong_audience", _with_claims(aud=["other-tool"])
    ),
    Case(
        "azp names another tool",
        "lti.wrong_azp",
        _with_claims(aud=[CLIENT_ID, "other-tool"], azp="other-tool"),
    ),
    Case(
        "several audiences without azp",
        "lti.missing_azp",
        _with_claims(aud=[CLIENT_ID, "other-tool"], azp=DROP),
    ),
    Case(
        "unknown deployment",
        "lti.unknown_deployment",
        _with_claims(**{LTI + "deployment_id": "99:evil"}),
    ),
    Case("state never issued", "lti.state_mismatch", _state_from_nowhere),
    Case("state reused (second launch)", "lti.state_mismatch", _reused_state),
    Case(
        "state of another tenant on the same issuer", "lti.state_mismatch", _state_of_other_tenant
    ),
    Case("state expired", "lti.state_expired", _expired_state),
    Case("binding cookie of another browser", "lti.browser_mismatch", _other_browser),
    Case("no binding cookie", "lti.browser_mismatch", _no_cookie),
    Case("wrong platform-storage value", "lti.browser_mismatch", _wrong_storage_value),
    Case("missing nonce", "lti.missing_nonce", _with_claims(nonce=DROP)),
    Case("nonce of another login", "lti.nonce_mismatch", _nonce_of_other_login),
    Case("replayed token and state", "lti.replayed_nonce", _replayed_with_restored_state),
    Case("LTI 1.1 version", "lti.wrong_version", _with_claims(**{LTI + "version": "1.1.0"})),
    Case(
        "unknown message type",
        "lti.wrong_message_type",
        _with_claims(**{LTI + "message_type": "ContentItemSelectionRequest"}),
    ),
    Case(
        "target link on another host",
        "lti.bad_target_link",
        _with_claims(**{LTI + "target_link_uri": "https://evil.example/phish"}),
    ),
    Case(
        "target link on a look-alike host",
        "lti.bad_target_link",
        _with_claims(**{LTI + "target_link_uri": "https://tool.example.org.evil.example/x"}),
    ),
    Case(
        "context claim is a string",
        "lti.invalid_claim",
        _with_claims(**{LTI + "context": "BIO101"}),
    ),
    Case(
        "tenant B's key used for tenant A's client", "lti.unknown_kid", _with_token(_tenant_b_key)
    ),
]

MISSING = [
    "iss",
    "aud",
    "exp",
    "iat",
    "sub",
    LTI + "deployment_id",
    LTI + "version",
    LTI + "message_type",
    LTI + "roles",
    LTI + "resource_link",
    LTI + "target_link_uri",
]
CORPUS += [
    Case(f"missing {claim.rsplit('/', 1)[-1]}", "lti.missing_claim", _with_claims(**{claim: DROP}))
    for claim in MISSING
]
CORPUS.append(
    Case(
        "deep-linking request without settings",
        "lti.missing_claim",
        _with_claims(**{LTI + "message_type": "LtiDeepLinkingRequest"}),
    )
)


def _tenant_kit() -> Kit:
    tenant_b = canvas_platform(OTHER_CLIENT_ID, jwks_url="https://canvas.example.edu/tenant-b/jwks")
    return Kit(
        platforms=[canvas_platform(), tenant_b],
        documents={
            JWKS_URL: jwks_document((PLATFORM_KEY, "p1")),
            "https://canvas.example.edu/tenant-b/jwks": jwks_document((ROTATED_KEY, "b1")),
        },
        settings=LTISettings(),
    )


def test_corpus_is_large_and_names_are_unique() -> None:
    assert len(CORPUS) >= 25
    assert len({c.name for c in CORPUS}) == len(CORPUS)


@pytest.mark.parametrize("case", CORPUS, ids=[c.name for c in CORPUS])
def test_attack_is_refused_with_its_code(case: Case, caplog: pytest.LogCaptureFixture) -> None:
    kit = _tenant_kit()
    request = case.attack(kit)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(LaunchRejected) as info:
        kit.tool.launch(request)
    assert info.value.code == case.code, info.value.message
    assert case.code in caplog.text  # the refusal is logged for the administrator …
    secrets = [request.form.get("state", ""), *request.cookies.values()]
    token = request.form.get("id_token")
    if token:
        secrets += [s[:16] for s in token.split(".") if len(s) >= 16]
    for secret in filter(None, secrets):  # … without the token, the state or the cookie
        assert secret not in str(info.value)
        assert secret not in caplog.text


def test_unknown_kid_refetches_exactly_once_and_is_rate_limited() -> None:
    kit = _tenant_kit()
    kit.tool.launch(kit.good_request())  # warm the cache
    assert kit.fetcher.calls == [JWKS_URL]
    kit.clock.now += 60  # later, a token with a kid the cached set does not hold arrives
    for _ in range(3):
        with pytest.raises(LaunchRejected) as info:
            kit.tool.launch(_with_token(_unknown_kid)(kit))
        assert info.value.code == "lti.unknown_kid"
    assert kit.fetcher.calls == [JWKS_URL, JWKS_URL]


def test_replay_is_refused_even_when_state_store_forgets_nothing() -> None:
    """The plain replay (same form posted twice) fails on the consumed state; the restored-state
    variant in the corpus shows the nonce would stop it too."""
    kit = _tenant_kit()
    request = kit.good_request()
    assert kit.tool.launch(request).user.sub
    with pytest.raises(LaunchRejected) as info:
        kit.tool.launch(request)
    assert info.value.code == "lti.state_mismatch"


def test_a_refused_launch_with_a_forged_state_cannot_then_use_the_real_state() -> None:
    kit = _tenant_kit()
    login = kit.login()
    token = sign(canvas_claims(login.nonce, kit.clock.now))
    with pytest.raises(LaunchRejected):
        kit.tool.launch(kit.launch_request(token, login.state, "c" * 43))
    # The state was spent by the failed attempt: the attacker cannot retry with guesses.
    assert kit.states.peek(login.state) is None
    with pytest.raises(LaunchRejected) as info:
        kit.tool.launch(kit.launch_request(token, login.state, login.cookie))
    assert info.value.code == "lti.state_mismatch"


def test_hostile_claim_values_are_shortened_and_escaped_in_messages() -> None:
    kit = _tenant_kit()
    hostile = "https://evil.example/\n2026-01-01 INFO forged log line " + "x" * 5000
    with pytest.raises(LaunchRejected) as info:
        kit.tool.launch(kit.good_request(iss=hostile))
    assert info.value.code == "lti.unknown_issuer"
    assert "\n" not in info.value.message
    assert len(info.value.message) < 400
