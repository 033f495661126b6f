"""Compact JWS parsing and RS256 verification on parsed key objects.

Written against ``cryptography`` directly because launch validation is hot: the generic JOSE
libraries re-parse keys and scan tokens character by character on every call. The rules are
strict: three base64url segments without padding, JSON objects for header and payload,
``alg`` exactly ``RS256`` (so ``none`` and HS256-with-the-public-key are refused before any key
is touched), no ``crit`` extensions, and a PKCS#1 v1.5 SHA-256 signature.
"""

from __future__ import annotations

import binascii
from typing import Any, NamedTuple

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.hashes import SHA256

from blendkit.errors import LaunchRejected
from blendkit.limits import check_tree

__all__ = ["ParsedToken", "parse_token", "shown", "verify_signature"]

_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
_BASE64URL = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_SPARE_BITS = {2: 0b1111, 3: 0b11}
"""Bits of the last character that carry no data, by segment length modulo 4."""
_PKCS1 = padding.PKCS1v15()
_SHA256 = SHA256()


def shown(value: object, limit: int = 80) -> str:
    """An untrusted value as it may appear in a message or log line: quoted, escaped, short."""
    text = str(value)
    return repr(text if len(text) <= limit else text[:limit] + "…")


class ParsedToken(NamedTuple):
    """A token split and decoded, not yet verified."""

    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes


def _malformed(what: str) -> LaunchRejected:
    return LaunchRejected(
        f"the id_token is not a well-formed signed JWT ({what}); the platform sent something "
        "other than an LTI 1.3 launch, check the tool's launch URL on the platform",
        code="lti.malformed_token",
    )


def _b64decode(segment: bytes) -> bytes:
    # Only the URL-safe alphabet without padding: one token, one encoding.
    if b"=" in segment or b"+" in segment or b"/" in segment:
        raise binascii.Error("not unpadded base64url")
    spare = _SPARE_BITS.get(len(segment) % 4, 0)
    if spare and _BASE64URL.find(segment[-1:]) & spare:
        # The last character's unused bits are set: another spelling of the same bytes.
        raise binascii.Error("not canonical base64url")
    padded = segment.translate(_TO_STANDARD) + b"=" * (-len(segment) % 4)
    return binascii.a2b_base64(padded, strict_mode=True)


def parse_token(token: str, max_bytes: int) -> ParsedToken:
    """Split, size-check and decode ``token``; checks ``alg`` before anything else is trusted."""
    if len(token) > max_bytes:
        raise LaunchRejected(
            f"the id_token is larger than lti.max_token_bytes ({max_bytes} bytes); raise the "
            "setting if the platform legitimately sends very large launches",
            code="lti.token_too_large",
        )
    try:
        raw = token.encode("ascii")
    except UnicodeEncodeError:
        raise _malformed("non-ASCII characters") from None
    parts = raw.split(b".")
    if len(parts) != 3 or not parts[0]:
        raise _malformed("it does not have three segments")
    try:
        header = orjson.loads(_b64decode(parts[0]))
    except (binascii.Error, ValueError):
        raise _malformed("the header is not base64url-encoded JSON") from None
    if not isinstance(header, dict):
        raise _malformed("the header is not a JSON object")
    # The algorithm is judged before anything else: "none" and HMAC tokens never reach a key.
    alg = header.get("alg")
    if alg != "RS256":
        raise LaunchRejected(
            f"the id_token is signed with algorithm {shown(alg, 20)}; LTI 1.3 launches must use "
            "RS256. Configure the platform to sign with its RSA key",
            code="lti.unsupported_alg",
        )
    if not parts[1] or not parts[2]:
        raise _malformed("the payload or the signature is empty")
    try:
        payload_bytes = _b64decode(parts[1])
        signature = _b64decode(parts[2])
    except (binascii.Error, ValueError):
        raise _malformed("a segment is not unpadded base64url") from None
    if "crit" in header:
        raise _malformed("it requires JOSE extensions (crit) the tool does not implement")
    try:
        payload = orjson.loads(payload_bytes)
    except orjson.JSONDecodeError:
        raise _malformed("the payload is not JSON") from None
    if not isinstance(payload, dict):
        raise _malformed("the payload is not a JSON object")
    try:  # nested past the document caps, a launch could be validated but never stored
        check_tree(payload, what="id_token payload", error=LaunchRejected)
    except LaunchRejected as exc:
        raise LaunchRejected(
            f"{exc.message}; the platform sends claims blendkit cannot keep",
            code="lti.token_too_complex",
        ) from None
    return ParsedToken(header, payload, parts[0] + b"." + parts[1], signature)


def verify_signature(token: ParsedToken, key: rsa.RSAPublicKey, issuer: str) -> None:
    """Check the RS256 signature; raises ``lti.bad_signature``."""
    try:
        key.verify(token.signature, token.signing_input, _PKCS1, _SHA256)
    except InvalidSignature:
        raise LaunchRejected(
            f"the id_token signature does not verify with the key published by {issuer}; the "
            "token was altered, or the registration's JWKS URL belongs to another platform",
            code="lti.bad_signature",
        ) from None
