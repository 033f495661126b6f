"""Names and Role Provisioning against a local platform over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from blendkit.errors import ServiceError
from blendkit.lti._access_tokens import AccessTokens
from blendkit.lti._claims import NRPSClaim
from blendkit.lti._keys import KeySet
from blendkit.lti._nrps import Member, NamesRoleService
from blendkit.lti._platforms import Platform
from blendkit.lti._services import ServiceSession
from blendkit.store import Store
from tests.encryption import ENCRYPTION
from tests.fence import loopback_fence
from tests.lti.advantage_platform import NRPS, PlatformState, run_platform

CLIENT_ID = "tool-client-1"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"


def _members() -> list[dict[str, object]]:
    people = [
        {"user_id": "t1", "roles": [INSTRUCTOR], "name": "Ada Teacher", "links": ["rl-1"]},
        {"user_id": "s1", "roles": [LEARNER], "email": "s1@example.edu", "links": ["rl-1"]},
        {"user_id": "s2", "roles": [LEARNER], "given_name": "Bo", "family_name": "Li"},
        {"user_id": 4, "roles": [LEARNER], "status": "Inactive", "links": ["rl-1"]},
        {"user_id": "s5", "roles": [LEARNER], "lis_person_sourcedid": "SIS-5"},
    ]
    return people


@pytest.fixture
def platform_state(sqlite_store: Store) -> Iterator[PlatformState]:
    keys = KeySet(sqlite_store, encryption=ENCRYPTION)
    state = PlatformState(client_id=CLIENT_ID, tool_jwks=keys.jwks, members=_members())
    yield from run_platform(state)


@pytest.fixture
def nrps(sqlite_store: Store, platform_state: PlatformState) -> Iterator[NamesRoleService]:
    platform = Platform(
        issuer="https://lms.example.edu",
        client_id=CLIENT_ID,
        auth_login_url=platform_state.base_url + "/auth",
        auth_token_url=platform_state.token_url,
        jwks_url=platform_state.base_url + "/jwks",
    )
    claim = NRPSClaim(context_memberships_url=platform_state.base_url + "/memberships")
    with httpx.Client() as http:
        session = ServiceSession(
            platform,
            AccessTokens(
                KeySet(sqlite_store, encryption=ENCRYPTION), http=http, fence=loopback_fence()
            ),
        )
        yield NamesRoleService.from_claim(session, claim)


def test_roster_is_read_lazily_across_pages(
    nrps: NamesRoleService, platform_state: PlatformState
) -> None:
    roster = nrps.members()
    assert roster.pages_read == 0  # nothing fetched until iteration starts
    first = next(roster)
    assert first.user_id == "t1"
    assert roster.pages_read == 1
    assert roster.context is not None
    assert roster.context.title == "Biology"
    rest = list(roster)
    assert [m.user_id for m in rest] == ["s1", "s2", "4", "s5"]
    assert roster.pages_read == 3  # page size 2
    assert [m.active for m in [first, *rest]] == [True, True, True, False, True]
    assert rest[2].status == "Inactive"
    assert rest[3].lis_person_sourcedid == "SIS-5"
    assert platform_state.token_requests == 1


def test_role_and_limit_filters(nrps: NamesRoleService, platform_state: PlatformState) -> None:
    learners = list(nrps.members(role=LEARNER, limit=3))
    assert [m.user_id for m in learners] == ["s1", "s2", "4", "s5"]
    gets = [r for r in platform_state.service_requests if r[1] == "/memberships"]
    assert len(gets) == 2  # limit 3 → two pages


def test_rlid_restricts_to_the_link_and_adds_message_claims(nrps: NamesRoleService) -> None:
    members = list(nrps.members(rlid="rl-1"))
    assert [m.user_id for m in members] == ["t1", "s1", "4"]
    assert all("https://purl.imsglobal.org/spec/lti/claim/custom" in m.message[0] for m in members)


def test_differences_link_is_kept_for_the_next_read(
    nrps: NamesRoleService, platform_state: PlatformState
) -> None:
    roster = nrps.members()
    list(roster)
    assert roster.differences_url is not None
    assert roster.differences_url.endswith("/memberships?since=42")
    platform_state.member_changes = [{"user_id": "s2", "roles": [LEARNER], "status": "Deleted"}]
    changes = list(nrps.differences(roster.differences_url))
    assert [(m.user_id, m.status, m.active) for m in changes] == [("s2", "Deleted", False)]


def test_member_accepts_a_single_message_object() -> None:
    member = Member.model_validate({"user_id": "u", "message": {"a": 1}, "picture": "p"})
    assert member.message == ({"a": 1},)
    assert member.roles == ()


def test_unsupported_service_version_is_refused(nrps: NamesRoleService) -> None:
    claim = NRPSClaim(context_memberships_url="https://x.example/m", service_versions=("1.0",))
    with pytest.raises(ServiceError) as caught:
        NamesRoleService.from_claim(nrps.session, claim)
    assert caught.value.code == "lti.nrps_version"


@pytest.mark.parametrize(
    "body",
    [[], {"members": {"u": 1}}, {"members": [{"roles": []}]}],
)
def test_malformed_containers_are_reported(body: object) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 60})
        return httpx.Response(200, json=body)

    class NoSigner:
        def sign(self, claims: object, headers: object = None) -> str:
            return "assertion"

    platform = Platform(
        issuer="https://lms.example.edu",
        client_id="c",
        auth_login_url="https://lms.example.edu/a",
        auth_token_url="https://lms.example.edu/token",
        jwks_url="https://lms.example.edu/jwks",
    )
    http = httpx.Client(transport=httpx.MockTransport(handler))
    service = NamesRoleService(
        ServiceSession(platform, AccessTokens(NoSigner(), fence=loopback_fence(), http=http)),
        "https://lms.example.edu/memberships",
    )
    with pytest.raises(ServiceError) as caught:
        list(service.members())
    assert caught.value.code == "lti.service_response_invalid"


def test_roster_without_the_scope_is_refused(
    nrps: NamesRoleService, platform_state: PlatformState
) -> None:
    platform_state.allowed_scopes = {"https://purl.imsglobal.org/spec/lti-ags/scope/score"}
    with pytest.raises(ServiceError) as caught:
        list(nrps.members())
    assert caught.value.code in {"lti.token_refused", "lti.scope_not_granted"}
    assert NRPS in caught.value.message or "invalid_scope" in caught.value.message
