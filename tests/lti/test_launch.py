"""Accepted launches: the typed Launch, clock leeway, deep linking, platform-storage bridge."""

from __future__ import annotations

import html
import re

import pytest
from pydantic import ValidationError

from blendkit.config import LTISettings
from blendkit.errors import LaunchRejected, NotFound
from blendkit.lti import HttpRequest, Launch, MessageType, error_response
from tests.lti.launch_kit import (
    CLIENT_ID,
    DEPLOYMENT_ID,
    DROP,
    ISSUER,
    LTI,
    TARGET,
    Kit,
    canvas_claims,
    sign,
)

DL = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"


def test_canvas_teacher_launch_is_typed() -> None:
    kit = Kit()
    launch = kit.tool.launch(kit.good_request())
    assert launch.message_type is MessageType.RESOURCE_LINK
    assert launch.version == "1.3.0"
    assert (launch.issuer, launch.client_id, launch.deployment_id) == (
        ISSUER,
        CLIENT_ID,
        DEPLOYMENT_ID,
    )
    assert launch.user.sub == "535fa085f22b4655f48cd5a36a9215f64c062838"
    assert launch.user.given_name == "Ada"
    assert launch.user.email == "ada@example.edu"
    assert launch.user.locale == "en"
    assert launch.context is not None
    assert launch.context.title == "Biology 101"
    assert launch.resource_link is not None
    assert launch.resource_link.title == "Week 3: live seminar"
    assert launch.target_link_uri == TARGET
    assert launch.launch_presentation is not None
    assert launch.launch_presentation.width == 800
    assert launch.custom == {"canvas_course_id": "12", "section": "A"}
    assert launch.lis is not None
    assert launch.lis.person_sourcedid == "SIS-4711"
    assert launch.ags is not None
    assert launch.ags.lineitems is not None
    assert launch.ags.lineitem is None
    assert launch.nrps is not None
    assert launch.nrps.service_versions == ("2.0",)
    assert launch.tool_platform is not None
    assert launch.tool_platform.product_family_code == "canvas"
    assert launch.deep_linking_settings is None
    assert launch.claims["https://www.instructure.com/placement"] == "course_navigation"
    # A Canvas teacher carries institution Student and system User too: still not a learner.
    assert launch.is_instructor
    assert not launch.is_learner
    assert not launch.is_institution_admin
    with pytest.raises(ValidationError):
        launch.issuer = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    "times",
    [
        {"iat": 59},  # issued slightly in the future: within the 60 s leeway
        {"iat": -300, "exp": -59},  # expired a moment ago: within leeway
        {"nbf": 59},
        {"iat": -659},  # just under max age + leeway
    ],
)
def test_clock_skew_within_leeway_is_accepted(times: dict[str, int]) -> None:
    kit = Kit()
    now = int(kit.clock.now)
    launch = kit.tool.launch(kit.good_request(**{k: now + v for k, v in times.items()}))
    assert launch.user.sub


def test_leeway_is_configurable() -> None:
    kit = Kit(settings=LTISettings(leeway_seconds=0))
    with pytest.raises(LaunchRejected) as info:
        kit.tool.launch(kit.good_request(iat=int(kit.clock.now) + 5))
    assert info.value.code == "lti.iat_in_future"


def test_single_audience_list_without_azp_is_accepted() -> None:
    kit = Kit()
    launch = kit.tool.launch(kit.good_request(aud=[CLIENT_ID], azp=DROP))
    assert launch.client_id == CLIENT_ID


def test_multi_audience_with_matching_azp_is_accepted() -> None:
    kit = Kit()
    launch = kit.tool.launch(kit.good_request(aud=[CLIENT_ID, "other"], azp=CLIENT_ID))
    assert launch.client_id == CLIENT_ID


def _deep_linking(**settings: object) -> dict[str, object]:
    return {
        LTI + "message_type": "LtiDeepLinkingRequest",
        LTI + "resource_link": DROP,
        LTI + "target_link_uri": DROP,
        DL: {
            "deep_link_return_url": "https://canvas.example.edu/courses/12/deep_linking_response",
            "accept_types": ["ltiResourceLink"],
            "accept_presentation_document_targets": ["iframe", "window"],
            "accept_multiple": True,
            **settings,
        },
    }


def test_deep_linking_without_data_keeps_data_none() -> None:
    kit = Kit()
    launch = kit.tool.launch(kit.good_request(**_deep_linking()))
    assert launch.is_deep_linking
    settings = launch.deep_linking_settings
    assert settings is not None
    assert settings.data is None
    assert settings.accept_types == ("ltiResourceLink",)
    assert launch.target_link_uri == TARGET  # taken from the login when the token has none


def test_deep_linking_keeps_platform_data() -> None:
    kit = Kit()
    launch = kit.tool.launch(kit.good_request(**_deep_linking(data="csrf-abc")))
    assert launch.deep_linking_settings is not None
    assert launch.deep_linking_settings.data == "csrf-abc"


def test_submission_review_needs_ags() -> None:
    kit = Kit()
    review = {LTI + "message_type": "LtiSubmissionReviewRequest"}
    assert kit.tool.launch(kit.good_request(**review)).message_type is MessageType.SUBMISSION_REVIEW
    with pytest.raises(LaunchRejected) as info:
        kit.tool.launch(
            kit.good_request(
                **review, **{"https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": DROP}
            )
        )
    assert info.value.code == "lti.missing_claim"
    assert "lti-ags" in info.value.message


def test_minimal_launch_has_optional_parts_empty() -> None:
    kit = Kit()
    optional = [
        "name",
        "given_name",
        "family_name",
        "email",
        "picture",
        "locale",
        LTI + "context",
        LTI + "launch_presentation",
        LTI + "custom",
        LTI + "lis",
        LTI + "tool_platform",
        "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint",
        "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice",
    ]
    launch = kit.tool.launch(kit.good_request(**dict.fromkeys(optional, DROP)))
    assert launch.user.name is None
    assert launch.context is None
    assert launch.custom == {}
    assert launch.ags is None
    assert launch.nrps is None


def _storage_login(kit: Kit) -> tuple[str, str, str]:
    login = kit.login(lti_storage_target="post_message_forwarding")
    token = sign(canvas_claims(login.nonce, kit.clock.now))
    return login.state, login.cookie, token


def test_cookieless_launch_goes_through_the_platform_storage_bridge() -> None:
    kit = Kit()
    state, secret, token = _storage_login(kit)
    # The platform posts the id_token; third-party cookies are blocked, so no cookie arrives.
    first = kit.tool.handle_launch(kit.launch_request(token, state, None))
    assert not isinstance(first, Launch)
    assert first.status == 200
    assert "lti.get_data" in first.body
    assert f'data-key="blendkit_state_{state}"' in first.body
    assert 'action="https://tool.example.org/lti/launch"' in first.body
    assert first.header("Cache-Control") == "no-store"
    posted = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', first.body))
    assert html.unescape(posted["id_token"]) == token
    assert posted["state"] == state
    # The page reads the secret back from platform storage and re-posts it.
    second = kit.tool.handle_launch(
        kit.launch_request(token, state, None, lti_storage_value=secret)
    )
    assert isinstance(second, Launch)
    assert second.is_instructor


def test_storage_login_still_launches_with_the_cookie() -> None:
    kit = Kit()
    state, secret, token = _storage_login(kit)
    result = kit.tool.handle_launch(kit.launch_request(token, state, secret))
    assert isinstance(result, Launch)


def test_bridge_that_got_nothing_from_storage_is_refused() -> None:
    kit = Kit()
    state, _secret, token = _storage_login(kit)
    with pytest.raises(LaunchRejected) as info:
        kit.tool.handle_launch(kit.launch_request(token, state, None, lti_storage_value=""))
    assert info.value.code == "lti.browser_mismatch"


def test_handle_launch_without_storage_validates_directly() -> None:
    kit = Kit()
    login = kit.login()
    token = sign(canvas_claims(login.nonce, kit.clock.now))
    with pytest.raises(LaunchRejected) as info:
        kit.tool.handle_launch(kit.launch_request(token, login.state, None))
    assert info.value.code == "lti.browser_mismatch"


def test_error_response_names_code_escapes_message_and_is_not_cached() -> None:
    error = LaunchRejected("bad <script>alert(1)</script> & more", code="lti.bad_signature")
    response = error_response(error)
    assert response.status == 400
    assert "lti.bad_signature" in response.body
    assert "<script>alert" not in response.body
    assert "&lt;script&gt;" in response.body
    assert response.header("cache-control") == "no-store"
    assert error_response(NotFound("gone")).status == 404


def test_http_request_headers_are_case_insensitive() -> None:
    request = HttpRequest(headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert request.header("content-type") == "application/x-www-form-urlencoded"
    assert request.header("CONTENT-TYPE") == "application/x-www-form-urlencoded"
    assert request.header("missing") is None
