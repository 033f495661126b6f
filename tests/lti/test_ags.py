"""Assignment and Grade Services against a local platform over real HTTP."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from blendkit.errors import ServiceError
from blendkit.lti._access_tokens import AccessTokens
from blendkit.lti._ags import AGSScore, AssignmentGradeService, LineItem
from blendkit.lti._claims import AGSClaim
from blendkit.lti._keys import KeySet
from blendkit.lti._platforms import Platform
from blendkit.lti._services import ServiceSession
from blendkit.store import Store
from tests.encryption import ENCRYPTION
from tests.fence import loopback_fence
from tests.lti.advantage_platform import LINEITEM, RESULT_RO, SCORE, PlatformState, run_platform

CLIENT_ID = "tool-client-1"


@pytest.fixture
def platform_state(sqlite_store: Store) -> Iterator[PlatformState]:
    keys = KeySet(sqlite_store, encryption=ENCRYPTION)
    yield from run_platform(PlatformState(client_id=CLIENT_ID, tool_jwks=keys.jwks))


@pytest.fixture
def session(sqlite_store: Store, platform_state: PlatformState) -> Iterator[ServiceSession]:
    platform = Platform(
        issuer="https://lms.example.edu",
        client_id=CLIENT_ID,
        auth_login_url=platform_state.base_url + "/auth",
        auth_token_url=platform_state.token_url,
        jwks_url=platform_state.base_url + "/jwks",
    )
    with httpx.Client() as http:
        yield ServiceSession(
            platform,
            AccessTokens(
                KeySet(sqlite_store, encryption=ENCRYPTION), http=http, fence=loopback_fence()
            ),
        )


def ags(state: PlatformState, session: ServiceSession, *scopes: str) -> AssignmentGradeService:
    claim = AGSClaim.model_validate(
        {
            "scope": list(scopes or (LINEITEM, RESULT_RO, SCORE)),
            "lineitems": state.base_url + "/lineitems",
        }
    )
    return AssignmentGradeService.from_claim(session, claim)


def test_line_items_are_created_listed_across_pages_and_filtered(
    platform_state: PlatformState, session: ServiceSession
) -> None:
    service = ags(platform_state, session)
    created = [
        service.create_line_item(
            LineItem(
                label=f"Quiz {n}",
                score_maximum=10 * n,
                resource_link_id="rl-1" if n % 2 else "rl-2",
                tag="quiz",
            )
        )
        for n in range(1, 6)
    ]
    assert all(item.id and item.id.startswith(platform_state.base_url) for item in created)
    listed = list(service.line_items())
    assert [item.label for item in listed] == [f"Quiz {n}" for n in range(1, 6)]
    pages = [r for r in platform_state.service_requests if r[:2] == ("GET", "/lineitems")]
    assert len(pages) == 3  # five items, two per page
    assert {r[2] for r in pages} == {"application/vnd.ims.lis.v2.lineitemcontainer+json"}
    odd = list(service.line_items(resource_link_id="rl-1"))
    assert [item.score_maximum for item in odd] == [10, 30, 50]
    assert list(service.line_items(tag="other")) == []
    assert platform_state.token_requests == 1  # one token served every call


def test_line_item_get_update_delete(
    platform_state: PlatformState, session: ServiceSession
) -> None:
    service = ags(platform_state, session)
    item = service.create_line_item(LineItem(label="Essay", score_maximum=20))
    assert item.id is not None
    renamed = service.update_line_item(item.model_copy(update={"label": "Essay (final)"}))
    assert renamed.label == "Essay (final)"
    assert service.get_line_item(item.id).label == "Essay (final)"
    service.delete_line_item(item.id)
    with pytest.raises(ServiceError) as caught:
        service.get_line_item(item.id)
    assert caught.value.code == "lti.service_not_found"


def test_score_is_posted_as_score_json_and_read_back_as_result(
    platform_state: PlatformState, session: ServiceSession
) -> None:
    service = ags(platform_state, session)
    item = service.create_line_item(LineItem(label="Quiz", score_maximum=10))
    moment = datetime(2026, 11, 22, 3, 4, 5, 678901, tzinfo=UTC)
    for user, given_score in (("u1", 7.5), ("u2", 9.0)):
        service.post_score(
            AGSScore(
                user_id=user,
                score_given=given_score,
                score_maximum=10,
                comment="well done",
                activity_progress="Completed",
                grading_progress="FullyGraded",
                timestamp=moment,
            ),
            item,
        )
    posts = [r for r in platform_state.service_requests if r[1].endswith("/scores")]
    assert {r[2] for r in posts} == {"application/vnd.ims.lis.v1.score+json"}
    _, _, body = platform_state.scores[0]
    assert body["timestamp"] == "2026-11-22T03:04:05.678+00:00"
    assert body["activityProgress"] == "Completed"
    assert body["gradingProgress"] == "FullyGraded"
    results = list(service.results(item))
    assert [(r.user_id, r.result_score, r.result_maximum) for r in results] == [
        ("u1", 7.5, 10),
        ("u2", 9.0, 10),
    ]
    assert [r.user_id for r in service.results(item, user_id="u2")] == ["u2"]


def test_launch_line_item_with_query_string_keeps_it_for_scores(
    platform_state: PlatformState, session: ServiceSession
) -> None:
    creator = ags(platform_state, session)
    item = creator.create_line_item(LineItem(label="Quiz", score_maximum=10))
    claim = AGSClaim(scope=(SCORE,), lineitem=f"{item.id}?type_id=1")  # Moodle-style URL
    service = AssignmentGradeService.from_claim(session, claim)
    service.post_score(
        AGSScore(user_id="u1", activity_progress="Started", grading_progress="NotReady")
    )
    item_id, query, body = platform_state.scores[-1]
    assert (item_id, query) == (item.id, "type_id=1")
    assert "scoreGiven" not in body  # absent values are left out, not sent as null


def test_a_scope_the_launch_did_not_grant_is_refused_before_any_request(
    platform_state: PlatformState, session: ServiceSession
) -> None:
    service = ags(platform_state, session, RESULT_RO)
    with pytest.raises(ServiceError) as caught:
        service.post_score(
            AGSScore(user_id="u1", activity_progress="Started", grading_progress="NotReady"),
            platform_state.base_url + "/lineitems/1",
        )
    assert caught.value.code == "lti.scope_not_granted"
    assert SCORE in caught.value.message
    assert platform_state.token_requests == 0


def test_a_scope_the_token_endpoint_withholds_is_refused(
    platform_state: PlatformState, session: ServiceSession
) -> None:
    platform_state.allowed_scopes = {LINEITEM}
    service = ags(platform_state, session)  # the launch claims all AGS scopes
    with pytest.raises(ServiceError) as caught:
        list(service.results(platform_state.base_url + "/lineitems/1"))
    assert caught.value.code == "lti.scope_not_granted"


def test_missing_urls_are_explained(session: ServiceSession) -> None:
    service = AssignmentGradeService.from_claim(session, AGSClaim(scope=(SCORE,)))
    with pytest.raises(ServiceError) as caught:
        service.post_score(
            AGSScore(user_id="u1", activity_progress="Started", grading_progress="NotReady")
        )
    assert caught.value.code == "lti.no_lineitem"
    with pytest.raises(ServiceError) as caught:
        list(service.line_items())
    assert caught.value.code == "lti.no_lineitems_url"


def test_an_invalid_container_from_the_platform_is_reported() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 60})
        return httpx.Response(200, json={"not": "a list"})

    platform = Platform(
        issuer="https://lms.example.edu",
        client_id="c",
        auth_login_url="https://lms.example.edu/a",
        auth_token_url="https://lms.example.edu/token",
        jwks_url="https://lms.example.edu/jwks",
    )

    class NoSigner:
        def sign(self, claims: object, headers: object = None) -> str:
            return "assertion"

    http = httpx.Client(transport=httpx.MockTransport(handler))
    session = ServiceSession(platform, AccessTokens(NoSigner(), fence=loopback_fence(), http=http))
    service = AssignmentGradeService(session, lineitems_url="https://lms.example.edu/li")
    with pytest.raises(ServiceError) as caught:
        list(service.line_items())
    assert caught.value.code == "lti.service_response_invalid"


# --- the values themselves -------------------------------------------------------------------


def test_score_given_needs_a_maximum() -> None:
    with pytest.raises(ValidationError, match="scoreMaximum"):
        AGSScore(
            user_id="u1",
            score_given=5,
            activity_progress="Completed",
            grading_progress="FullyGraded",
        )
    with pytest.raises(ValidationError):
        AGSScore(user_id="u1", activity_progress="Done", grading_progress="FullyGraded")  # type: ignore[arg-type]


@settings(max_examples=200)
@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30))]),
    )
)
def test_score_timestamps_have_milliseconds_and_an_offset(moment: datetime) -> None:
    body = AGSScore(
        user_id="u", activity_progress="Completed", grading_progress="FullyGraded", timestamp=moment
    ).to_json()
    text = body["timestamp"]
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$", text)
    parsed = datetime.fromisoformat(text)
    assert abs(parsed - moment) < timedelta(milliseconds=1)


def test_line_item_round_trips_platform_extensions() -> None:
    raw = {
        "id": "https://canvas.example/api/lti/courses/1/line_items/2",
        "scoreMaximum": 100,
        "label": "Essay",
        "https://canvas.instructure.com/lti/submission_type": {"type": "external_tool"},
    }
    item = LineItem.model_validate(raw)
    assert item.to_json() == raw
