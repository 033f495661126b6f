"""LTI Advantage through every adapter against lti1p3platform: deep linking both ways, AGS, NRPS.

The platform checks the tool's deep-linking JWT and its client assertions against the tool's
``/lti/jwks``, fetched over HTTP; the tool reaches the platform's services through its own fence.
"""

from __future__ import annotations

import httpx
import pytest

from tests.conformance.apps import CONFORMANCE_ITEM_TITLE
from tests.conformance.deployment import NRPS_PAGE_SIZE, ToolUnderTest, launch
from tests.e2e.form_browser import forms

pytestmark = pytest.mark.e2e

DL_DATA_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/data"


@pytest.mark.parametrize("dl_data", [None, "opaque-42"])
def test_deep_linking_request_is_answered_and_the_platform_accepts_it(
    tool: ToolUnderTest, client: httpx.Client, dl_data: str | None
) -> None:
    answer = launch(
        client, tool, user="teacher-1", role="instructor", message="deeplink", dl_data=dl_data
    ).answer
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    (form,) = forms(answer.text)
    assert form.action == f"{tool.platform.base_url}/deep_link_return"
    assert set(form.fields) == {"JWT"}
    returned = client.post(form.action, data=form.fields)
    assert returned.status_code == 200, returned.text
    (item,) = tool.platform.records.content_items
    assert item["type"] == "ltiResourceLink"
    assert item["title"] == CONFORMANCE_ITEM_TITLE
    assert item["url"] == tool.path("/item")
    (claims,) = tool.platform.records.deep_link_claims
    assert claims["aud"] == tool.platform.issuer
    assert claims["iss"] == tool.platform.client_id
    if dl_data is None:
        assert DL_DATA_CLAIM not in claims
    else:
        assert claims[DL_DATA_CLAIM] == dl_data


def test_score_reaches_the_platform_through_ags(tool: ToolUnderTest, client: httpx.Client) -> None:
    launch_id = launch(client, tool, user="student-4", role="learner").json()["launch_id"]
    posted = client.post(
        tool.path("/conformance/score"),
        params={"launch": launch_id},
        data={"score": "7", "max": "10"},
    )
    assert posted.status_code == 200, posted.text
    records = tool.platform.records
    (line_item,) = records.lineitems.values()
    assert posted.json() == {"line_item": line_item["id"]}
    assert line_item["resourceId"] == "conformance"
    (score,) = records.scores
    assert (score["userId"], score["scoreGiven"], score["scoreMaximum"]) == ("student-4", 7, 10)
    assert score["lineitem"] == line_item["id"]
    # A second score goes to the same line item, found by its resourceId, on the cached token.
    again = client.post(
        tool.path("/conformance/score"),
        params={"launch": launch_id},
        data={"score": "9", "max": "10"},
    )
    assert again.json() == {"line_item": line_item["id"]}
    assert [s["scoreGiven"] for s in records.scores] == [7, 9]
    assert len(records.lineitems) == 1
    assert records.tokens_issued == 1


def test_roster_is_read_page_by_page_through_nrps(
    tool: ToolUnderTest, client: httpx.Client
) -> None:
    launch_id = launch(client, tool, user="teacher-1", role="instructor").json()["launch_id"]
    roster = client.get(tool.path("/conformance/roster"), params={"launch": launch_id})
    assert roster.status_code == 200, roster.text
    members = tool.platform.records.members
    assert roster.json() == [{"user_id": m["user_id"], "roles": m["roles"]} for m in members]
    pages = -(-len(members) // NRPS_PAGE_SIZE)
    assert pages > 1
    assert tool.platform.records.nrps_pages_served == pages
