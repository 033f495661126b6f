"""The Advantage entry point: services for a validated launch, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest

from blendkit.config import Settings
from blendkit.errors import NotFound, ServiceError
from blendkit.lti._advantage import Advantage
from blendkit.lti._ags import AGSScore, LineItem
from blendkit.lti._deep_linking import ResourceLinkItem
from blendkit.lti._keys import KeySet
from blendkit.lti._launch import Launch
from blendkit.lti._platforms import Platform, StorePlatformRegistry
from blendkit.store import Store
from tests.encryption import ENCRYPTION
from tests.fence import loopback_fence
from tests.lti.advantage_platform import LINEITEM, SCORE, PlatformState, run_platform

CLIENT_ID = "tool-client-1"
ISSUER = "https://lms.example.edu"


@pytest.fixture
def platform_state(sqlite_store: Store) -> Iterator[PlatformState]:
    state = PlatformState(
        client_id=CLIENT_ID,
        tool_jwks=KeySet(sqlite_store, encryption=ENCRYPTION).jwks,
        members=[{"user_id": "s1", "roles": ["Learner"]}],
    )
    yield from run_platform(state)


@pytest.fixture
def advantage(sqlite_store: Store, platform_state: PlatformState) -> Iterator[Advantage]:
    StorePlatformRegistry(sqlite_store).add(
        Platform(
            issuer=ISSUER,
            client_id=CLIENT_ID,
            deployment_ids=("1",),
            auth_login_url=platform_state.base_url + "/auth",
            auth_token_url=platform_state.token_url,
            jwks_url=platform_state.base_url + "/jwks",
        )
    )
    with httpx.Client() as http:
        yield Advantage.from_store(sqlite_store, Settings(), http=http, fence=loopback_fence())


def launch(state: PlatformState, **claims: Any) -> Launch:
    return Launch.model_validate(
        {
            "message_type": "LtiResourceLinkRequest",
            "version": "1.3.0",
            "issuer": ISSUER,
            "client_id": CLIENT_ID,
            "deployment_id": "1",
            "user": {"sub": "s1"},
            "target_link_uri": "https://tool.example.edu/lti/launch",
            **claims,
        }
    )


def test_grades_and_roster_for_a_launch(
    advantage: Advantage, platform_state: PlatformState
) -> None:
    ags_claim = {"scope": [LINEITEM, SCORE], "lineitems": platform_state.base_url + "/lineitems"}
    nrps_claim = {"context_memberships_url": platform_state.base_url + "/memberships"}
    current = launch(platform_state, ags=ags_claim, nrps=nrps_claim)
    service = advantage.ags(current)
    item = service.create_line_item(LineItem(label="Quiz", score_maximum=5))
    service.post_score(
        AGSScore(
            user_id=current.user.sub,
            score_given=4,
            score_maximum=5,
            activity_progress="Completed",
            grading_progress="FullyGraded",
        ),
        item,
    )
    assert platform_state.scores[0][2]["userId"] == "s1"
    assert [m.user_id for m in advantage.nrps(current).members()] == ["s1"]
    # one token for the AGS scopes, one for NRPS: never one per call
    assert platform_state.token_requests == 2
    assert {a["sub"] for a in platform_state.assertions} == {CLIENT_ID}


def test_launch_without_service_claims_is_explained(
    advantage: Advantage, platform_state: PlatformState
) -> None:
    current = launch(platform_state)
    with pytest.raises(ServiceError) as caught:
        advantage.ags(current)
    assert caught.value.code == "lti.no_ags"
    with pytest.raises(ServiceError) as caught:
        advantage.nrps(current)
    assert caught.value.code == "lti.no_nrps"


def test_launch_from_an_unregistered_platform(
    advantage: Advantage, platform_state: PlatformState
) -> None:
    stranger = launch(platform_state, client_id="other", ags={"scope": [SCORE]})
    with pytest.raises(NotFound):
        advantage.ags(stranger)


def test_deep_linking_answer_is_signed_with_the_tool_key(
    advantage: Advantage, platform_state: PlatformState, sqlite_store: Store
) -> None:
    settings = {
        "deep_link_return_url": "https://lms.example.edu/dl/return",
        "accept_types": ["ltiResourceLink"],
        "accept_presentation_document_targets": ["iframe"],
    }
    current = launch(
        platform_state, message_type="LtiDeepLinkingRequest", deep_linking_settings=settings
    )
    response = advantage.deep_linking_response(current, [ResourceLinkItem(title="Quiz")])
    (jwk,) = KeySet(sqlite_store, encryption=ENCRYPTION).jwks()["keys"]
    claims = jwt.decode(response.jwt, jwt.PyJWK(jwk).key, algorithms=["RS256"], audience=ISSUER)
    assert claims["iss"] == CLIENT_ID


def test_configuration_problems_are_client_errors_not_upstream_failures(
    advantage: Advantage, platform_state: PlatformState
) -> None:
    with pytest.raises(ServiceError) as caught:
        advantage.ags(launch(platform_state))
    assert caught.value.http_status == 400
    scoped = launch(platform_state, ags={"scope": [LINEITEM], "lineitem": "https://x.example/li"})
    with pytest.raises(ServiceError) as caught:
        advantage.ags(scoped).post_score(
            AGSScore(user_id="s1", activity_progress="Started", grading_progress="NotReady")
        )
    assert (caught.value.code, caught.value.http_status) == ("lti.scope_not_granted", 403)
