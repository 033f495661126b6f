"""Platforms that deploy after registering (Canvas): new deployment ids on first launch."""

from __future__ import annotations

import pytest

from blendkit.errors import LaunchRejected
from blendkit.lti import Platform, StorePlatformRegistry
from blendkit.store import Store
from tests.lti.launch_kit import CLIENT_ID, DEPLOYMENT_ID, ISSUER, Kit, canvas_platform

DEPLOYMENT_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/deployment_id"


def test_unknown_deployment_is_refused_by_default() -> None:
    kit = Kit()
    with pytest.raises(LaunchRejected) as info:
        kit.tool.launch(kit.good_request(**{DEPLOYMENT_CLAIM: "dep-new"}))
    assert info.value.code == "lti.unknown_deployment"
    assert kit.registry.get(ISSUER, CLIENT_ID).deployment_ids == (DEPLOYMENT_ID,)


def test_opted_in_platform_records_a_new_deployment_on_its_first_valid_launch() -> None:
    kit = Kit(platforms=[canvas_platform(deployment_ids=(), accept_new_deployments=True)])
    launch = kit.tool.launch(kit.good_request(**{DEPLOYMENT_CLAIM: "dep-new"}))
    assert launch.deployment_id == "dep-new"
    assert kit.registry.get(ISSUER, CLIENT_ID).deployment_ids == ("dep-new",)
    # A second launch of the same deployment is an ordinary one.
    again = kit.tool.launch(kit.good_request(**{DEPLOYMENT_CLAIM: "dep-new"}))
    assert again.deployment_id == "dep-new"
    assert kit.registry.get(ISSUER, CLIENT_ID).deployment_ids == ("dep-new",)


def test_a_refused_launch_never_records_its_deployment() -> None:
    kit = Kit(platforms=[canvas_platform(deployment_ids=(), accept_new_deployments=True)])
    request = kit.good_request(**{DEPLOYMENT_CLAIM: "dep-evil", "aud": "someone-else"})
    with pytest.raises(LaunchRejected) as info:
        kit.tool.launch(request)
    assert info.value.code == "lti.wrong_audience"
    assert kit.registry.get(ISSUER, CLIENT_ID).deployment_ids == ()


def test_the_policy_is_stored_with_the_registration(store: Store) -> None:
    registry = StorePlatformRegistry(store)
    registry.add(canvas_platform(deployment_ids=(), accept_new_deployments=True))
    registry.add(canvas_platform(client_id="other"))
    stored = {p.client_id: p for p in registry.list()}
    assert stored[CLIENT_ID].accept_new_deployments is True
    assert stored["other"].accept_new_deployments is False
    updated = registry.add_deployment(ISSUER, CLIENT_ID, "dep-9")
    assert isinstance(updated, Platform)
    assert updated.accept_new_deployments is True
