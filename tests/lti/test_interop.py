"""An independent platform implementation (lti1p3platform) accepts what blendkit signs."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.registration import Registration

from blendkit.lti._access_tokens import CLIENT_ASSERTION_TYPE, AccessTokens
from blendkit.lti._claims import DeepLinkingSettings
from blendkit.lti._deep_linking import LinkItem, ResourceLinkItem, build_deep_linking_response
from blendkit.lti._keys import KeySet
from blendkit.lti._platforms import Platform
from blendkit.store import Store
from tests.encryption import ENCRYPTION

ISSUER = "https://lms.example.edu"
CLIENT_ID = "interop-client"


@pytest.fixture
def keys(sqlite_store: Store) -> KeySet:
    return KeySet(sqlite_store, encryption=ENCRYPTION)


@pytest.fixture
def platform_config(keys: KeySet) -> LTI1P3PlatformConfAbstract:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    registration = (
        Registration()
        .set_iss(ISSUER)
        .set_client_id(CLIENT_ID)
        .set_deployment_id("1")
        .set_platform_private_key(
            private.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ).decode()
        )
        .set_platform_public_key(
            private.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
        .set_tool_key_set(keys.jwks())  # type: ignore[arg-type]
    )

    class Config(LTI1P3PlatformConfAbstract):
        def init_platform_config(self, **kwargs: Any) -> None:
            return None

        def get_registration_by_params(self, **kwargs: Any) -> Registration:
            return registration

    config = Config()
    config.get_registration()
    return config


def test_client_assertion_is_accepted_by_the_token_endpoint(
    keys: KeySet, platform_config: LTI1P3PlatformConfAbstract
) -> None:
    platform = Platform(
        issuer=ISSUER,
        client_id=CLIENT_ID,
        auth_login_url=ISSUER + "/auth",
        auth_token_url=ISSUER + "/token",
        jwks_url=ISSUER + "/jwks",
    )
    scope = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
    answer = platform_config.get_access_token(
        {
            "grant_type": "client_credentials",
            "client_assertion_type": CLIENT_ASSERTION_TYPE,
            "client_assertion": AccessTokens(keys).client_assertion(platform),
            "scope": scope,
        }
    )
    assert answer["scope"] == scope
    assert answer["access_token"]


def test_deep_linking_response_is_accepted(
    keys: KeySet, platform_config: LTI1P3PlatformConfAbstract
) -> None:
    settings = DeepLinkingSettings(
        deep_link_return_url=ISSUER + "/dl/return",
        accept_types=("ltiResourceLink", "link"),
        accept_presentation_document_targets=("iframe", "window"),
        accept_multiple=True,
    )
    response = build_deep_linking_response(
        signer=keys,
        issuer=ISSUER,
        client_id=CLIENT_ID,
        deployment_id="1",
        settings=settings,
        items=[
            ResourceLinkItem(title="Quiz", url="https://tool.example.edu/lti/launch"),
            LinkItem(url="https://example.org/reading", title="Reading"),
        ],
    )
    platform_config.set_accepted_deeplinking_types(["ltiResourceLink", "link"])
    items = platform_config.validate_deeplinking_resp({"JWT": response.jwt})
    assert [(i["type"], i["title"]) for i in items] == [
        ("ltiResourceLink", "Quiz"),
        ("link", "Reading"),
    ]
