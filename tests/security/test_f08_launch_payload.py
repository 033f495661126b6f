"""Finding 8, launch side: an id_token whose claims nest past the document caps is refused with
an ``lti.*`` code while it is parsed, instead of failing with a 500 when the launch is stored."""

from __future__ import annotations

import base64

import orjson
import pytest

from blendkit import LaunchRejected
from blendkit.lti._jws import parse_token


def _segment(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def token_with_claim_depth(levels: int) -> str:
    value = b'{"x":' * levels + b'"end"' + b"}" * levels
    payload = b'{"iss":"https://lms.example.edu","https://example.org/claim":' + value + b"}"
    header = orjson.dumps({"alg": "RS256", "typ": "JWT", "kid": "k1"})
    return f"{_segment(header)}.{_segment(payload)}.{_segment(b'signature')}"


@pytest.mark.parametrize("levels", [80, 300, 1000])
def test_deeply_nested_claims_are_refused_while_parsing(levels: int) -> None:
    with pytest.raises(LaunchRejected) as refused:
        parse_token(token_with_claim_depth(levels), max_bytes=65_536)
    assert refused.value.code == "lti.token_too_complex"
    assert "https://example.org/claim" in refused.value.message


def test_claims_within_the_caps_still_parse() -> None:
    parsed = parse_token(token_with_claim_depth(20), max_bytes=65_536)
    assert parsed.payload["iss"] == "https://lms.example.edu"
