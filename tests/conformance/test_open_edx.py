"""Open edX's LTI 1.3 consumer (``lti-consumer-xblock``) launches every adapter's app, reads its
deep-linking answer with its own validation and takes a score with its own token checks.

The consumer runs standalone (Django configured by :mod:`tests.django_settings`); why the LMS's
views themselves cannot run here is told in :mod:`tests.e2e.open_edx_platform`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conformance.apps import CONFORMANCE_ITEM_TITLE
from tests.conformance.deployment import register, running_server
from tests.e2e.form_browser import Form, forms
from tests.e2e.open_edx_platform import COURSE_ID, OpenEdxPlatform

pytestmark = pytest.mark.e2e


@dataclass
class EdxDeployment:
    url: str
    platform: OpenEdxPlatform


@pytest.fixture
def edx(framework: str, tmp_path: Path) -> Iterator[EdxDeployment]:
    with running_server(framework, tmp_path) as (server, settings, store, _):
        platform = OpenEdxPlatform(server.url)
        register(store, platform.issuer, platform)
        server.start(settings, store)  # first: a Django app configures Django with its settings
        platform.start()
        try:
            yield EdxDeployment(server.url, platform)
        finally:
            platform.stop()


def _launch(
    client: httpx.Client, edx: EdxDeployment, *, user: str, role: str, deep_linking: bool = False
) -> tuple[Form, httpx.Response]:
    """The LMS frames the tool's login URL; the tool sends the browser to the launch gate,
    whose page form-posts the signed id_token back to the tool."""
    url = edx.platform.preflight_url(user=user, role=role, deep_linking=deep_linking)
    assert url.startswith(f"{edx.url}/lti/login?")
    to_gate = client.get(url)
    assert to_gate.status_code == 302, to_gate.text
    gate = client.get(to_gate.headers["location"])
    assert gate.status_code == 200, gate.text
    (form,) = forms(gate.text)
    assert form.action == f"{edx.url}/lti/launch"
    return form, client.post(form.action, data=form.fields)


@pytest.mark.parametrize(("role", "role_name"), [("student", "Learner"), ("staff", "Instructor")])
def test_open_edx_launch_is_accepted(
    edx: EdxDeployment, client: httpx.Client, role: str, role_name: str
) -> None:
    from lti_consumer.lti_1p3.constants import LTI_1P3_ROLE_MAP

    _, answer = _launch(client, edx, user="edx-learner-1", role=role)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["sub"] == "edx-learner-1"
    assert body["context_id"] == COURSE_ID
    assert body["message_type"] == "LtiResourceLinkRequest"
    assert set(body["roles"]) == set(LTI_1P3_ROLE_MAP[role])
    assert any(r.endswith(f"membership#{role_name}") for r in body["roles"])


def test_open_edx_launch_replayed_is_refused(edx: EdxDeployment, client: httpx.Client) -> None:
    form, first = _launch(client, edx, user="edx-learner-2", role="student")
    assert first.status_code == 200, first.text
    replay = client.post(form.action, data=form.fields)
    assert replay.status_code == 400
    assert "lti.state_mismatch" in replay.text


def test_open_edx_accepts_the_deep_linking_response(
    edx: EdxDeployment, client: httpx.Client
) -> None:
    _, answer = _launch(client, edx, user="edx-staff-1", role="staff", deep_linking=True)
    assert answer.status_code == 200, answer.text
    (form,) = forms(answer.text)
    assert form.action == f"{edx.platform.base_url}/deep_link_return"
    returned = client.post(form.action, data=form.fields)
    assert returned.status_code == 200, returned.text
    (item,) = edx.platform.records.content_items
    assert (item["type"], item["title"], item["url"]) == (
        "ltiResourceLink",
        CONFORMANCE_ITEM_TITLE,
        f"{edx.url}/item",
    )
    # And Open edX refuses the same response once tampered with (its check is not a no-op).
    head, payload, signature = form.fields["JWT"].split(".")
    forged = f"{head}.{payload}.{signature[::-1]}"
    refused = client.post(form.action, data={"JWT": forged})
    assert refused.status_code == 400
    assert len(edx.platform.records.content_items) == 1


def test_a_score_reaches_open_edx_on_its_access_token(
    edx: EdxDeployment, client: httpx.Client
) -> None:
    _, answer = _launch(client, edx, user="edx-learner-3", role="student")
    launch_id = answer.json()["launch_id"]
    posted = client.post(
        f"{edx.url}/conformance/score",
        params={"launch": launch_id},
        data={"score": "8", "max": "10"},
    )
    assert posted.status_code == 200, posted.text
    assert posted.json() == {"line_item": edx.platform.line_item["id"]}
    (score,) = edx.platform.records.scores
    assert (score["userId"], score["scoreGiven"], score["scoreMaximum"]) == ("edx-learner-3", 8, 10)
    assert score["lineitem"] == edx.platform.line_item["id"]
    assert edx.platform.records.tokens_issued == 1
