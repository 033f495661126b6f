"""Tool keys: generated on first use, published, rotated with overlap, retired, used to sign."""

from __future__ import annotations

import jwt
import pytest
from jwt.algorithms import RSAAlgorithm

from blendkit.errors import LTIError, NotFound
from blendkit.lti._keys import KeySet
from blendkit.store import Store
from tests.encryption import ENCRYPTION


def test_first_use_generates_one_published_key(store: Store) -> None:
    keys = KeySet(store, encryption=ENCRYPTION)
    assert keys.list_keys() == []
    jwks = keys.jwks()
    assert len(jwks["keys"]) == 1
    (jwk,) = jwks["keys"]
    assert jwk["kty"] == "RSA"
    assert jwk["alg"] == "RS256"
    assert jwk["use"] == "sig"
    assert set(jwk) == {"kty", "kid", "alg", "use", "n", "e"}
    assert keys.signing_key()[0] == jwk["kid"]
    # A second KeySet on the same store sees the same key instead of generating another.
    assert KeySet(store, encryption=ENCRYPTION).jwks() == jwks


def test_signed_token_verifies_with_published_key(store: Store) -> None:
    keys = KeySet(store, encryption=ENCRYPTION)
    token = keys.sign({"iss": "tool", "aud": "platform"}, {"typ": "JWT"})
    header = jwt.get_unverified_header(token)
    (jwk,) = keys.jwks()["keys"]
    assert header["kid"] == jwk["kid"]
    assert header["alg"] == "RS256"
    public = RSAAlgorithm.from_jwk(jwk)
    claims = jwt.decode(token, public, algorithms=["RS256"], audience="platform")  # type: ignore[arg-type]
    assert claims["iss"] == "tool"


def test_rotate_keeps_old_key_published_until_retired(store: Store) -> None:
    keys = KeySet(store, encryption=ENCRYPTION)
    old_kid = keys.signing_key()[0]
    new = keys.rotate()
    assert keys.signing_key()[0] == new.kid
    assert {k["kid"] for k in keys.jwks()["keys"]} == {old_kid, new.kid}
    retired = keys.retire()
    assert [k.kid for k in retired] == [old_kid]
    assert [k["kid"] for k in keys.jwks()["keys"]] == [new.kid]
    assert {k.kid: k.active for k in keys.list_keys()} == {old_kid: False, new.kid: True}


def test_retire_refuses_current_and_unknown_keys(store: Store) -> None:
    keys = KeySet(store, encryption=ENCRYPTION)
    current = keys.signing_key()[0]
    with pytest.raises(LTIError) as info:
        keys.retire(current)
    assert info.value.code == "lti.key_in_use"
    with pytest.raises(NotFound):
        keys.retire("no-such-kid")
    assert keys.retire() == []  # nothing older than the current key
    assert [k["kid"] for k in keys.jwks()["keys"]] == [current]


def test_retire_named_key(store: Store) -> None:
    keys = KeySet(store, encryption=ENCRYPTION)
    first = keys.signing_key()[0]
    second = keys.rotate().kid
    third = keys.rotate().kid
    assert [k.kid for k in keys.retire(second)] == [second]
    assert {k["kid"] for k in keys.jwks()["keys"]} == {first, third}


def test_private_key_never_in_public_views(store: Store) -> None:
    keys = KeySet(store, encryption=ENCRYPTION)
    keys.signing_key()
    text = repr(keys.list_keys()) + repr(keys.jwks())
    assert "PRIVATE" not in text
    assert '"d"' not in text
    assert "'d'" not in text
