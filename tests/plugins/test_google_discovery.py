"""The discovery-document contract checks the Meet plugin's tests rely on: they must refuse
what Google's documents do not allow, and pass what they do."""

from __future__ import annotations

import httpx
import pytest

from tests.plugins import google_discovery
from tests.plugins.google_discovery import ContractError, check_request, shaped

CALENDAR = "https://www.googleapis.com/calendar/v3"
EVENT = {
    "summary": "Design studio",
    "start": {"dateTime": "2026-03-03T10:00:00", "timeZone": "Europe/Berlin"},
    "end": {"dateTime": "2026-03-03T11:00:00", "timeZone": "Europe/Berlin"},
    "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=3;BYDAY=TU"],
    "attendees": [{"email": "learner@school.example.edu"}],
    "conferenceData": {
        "createRequest": {
            "requestId": "r-1",
            "conferenceSolutionKey": {"type": "hangoutsMeet"},
        }
    },
}


@pytest.fixture(autouse=True)
def _specs() -> None:
    google_discovery.require_specs()


def insert(body: object, **params: str) -> httpx.Request:
    return httpx.Request(
        "POST",
        f"{CALENDAR}/calendars/teacher%40school.example.edu/events",
        params={"conferenceDataVersion": "1", **params},
        json=body,
    )


def test_a_valid_event_insert_passes_and_names_its_method() -> None:
    assert check_request(insert(EVENT, sendUpdates="all")) == "calendar.events.insert"


def test_an_unknown_body_field_fails() -> None:
    with pytest.raises(ContractError, match="unknown field 'subject'"):
        check_request(insert({**EVENT, "subject": "Teams' name for it"}))


def test_an_unknown_nested_field_fails() -> None:
    body = {**EVENT, "conferenceData": {"createRequest": {"requestId": "r", "type": "meet"}}}
    with pytest.raises(ContractError, match=r"createRequest: unknown field 'type'"):
        check_request(insert(body))


def test_a_wrong_type_fails() -> None:
    with pytest.raises(ContractError, match="expected a string"):
        check_request(insert({**EVENT, "summary": 5}))
    with pytest.raises(ContractError, match="expected an array"):
        check_request(insert({**EVENT, "recurrence": "RRULE:FREQ=DAILY;COUNT=2"}))


def test_query_parameters_are_checked() -> None:
    with pytest.raises(ContractError, match="unknown query parameter 'conferenceVersion'"):
        check_request(insert(EVENT, conferenceVersion="1"))
    with pytest.raises(ContractError, match="not one of"):
        check_request(insert(EVENT, sendUpdates="everyone"))
    with pytest.raises(ContractError, match="not an integer"):
        check_request(insert(EVENT, conferenceDataVersion="one"))


def test_an_unknown_path_or_method_fails() -> None:
    with pytest.raises(ContractError, match="no discovery method"):
        check_request(httpx.Request("PUT", "https://meet.googleapis.com/v2/spaces/abc"))
    with pytest.raises(ContractError, match="no discovery method"):
        check_request(httpx.Request("GET", f"{CALENDAR}/calendars/c/meetings"))
    with pytest.raises(ContractError, match="no Google discovery document"):
        check_request(httpx.Request("GET", "https://example.org/v2/spaces/abc"))


def test_a_body_on_a_method_without_one_fails() -> None:
    request = httpx.Request("GET", "https://meet.googleapis.com/v2/spaces/abc", json={"a": 1})
    with pytest.raises(ContractError, match="takes no body"):
        check_request(request)


def test_enums_in_bodies_are_checked() -> None:
    url = "https://meet.googleapis.com/v2/spaces/abc"
    good = httpx.Request(
        "PATCH",
        url,
        params={"updateMask": "config.accessType"},
        json={"config": {"accessType": "TRUSTED"}},
    )
    assert check_request(good) == "meet.spaces.patch"
    bad = httpx.Request("PATCH", url, json={"config": {"accessType": "PUBLIC"}})
    with pytest.raises(ContractError, match="not one of"):
        check_request(bad)


def test_the_most_specific_path_wins() -> None:
    request = httpx.Request(
        "POST", "https://meet.googleapis.com/v2/spaces/abc:endActiveConference", json={}
    )
    assert check_request(request) == "meet.spaces.endActiveConference"


def test_shaped_answers_are_checked_against_the_schema() -> None:
    space = shaped("meet", "Space", name="spaces/abc", meetingCode="abc-defg-hij")
    assert space == {"name": "spaces/abc", "meetingCode": "abc-defg-hij"}
    with pytest.raises(ContractError, match="unknown field 'joinUrl'"):
        shaped("meet", "Space", name="spaces/abc", joinUrl="https://meet.google.com/x")
    with pytest.raises(ContractError, match="expected an array"):
        shaped("calendar", "Events", items={"id": "x"})


def test_the_fake_checks_every_request() -> None:
    from tests.plugins.google_fake import GoogleFake

    fake = GoogleFake()
    with fake.client() as client:
        with pytest.raises(ContractError, match="unknown field 'subject'"):
            client.send(insert({**EVENT, "subject": "x"}))
        answer = client.send(insert(EVENT))
    assert answer.status_code == 401  # no token: Google's answer, after the contract passed
    assert fake.calls == ["calendar.events.insert"]
