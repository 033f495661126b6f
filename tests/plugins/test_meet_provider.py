"""MeetProvider scheduling on the fake Google: every request is checked against Google's
discovery documents by the fake, and answers are shaped from the same documents."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from blendkit_meet import SPACE_PROPERTY, MeetProvider

from blendkit.sessions import (
    Learner,
    MeetingProvider,
    ParticipationSource,
    Recurrence,
    TranscriptSource,
    expand_occurrences,
)
from tests.fence import public_fence
from tests.plugins import google_discovery
from tests.plugins.google_fake import GoogleFake, meet_settings, write_key
from tests.plugins.graph_fake import START, spec


@pytest.fixture
def fake() -> GoogleFake:
    return GoogleFake()


def make(tmp_path: Path, fake: GoogleFake, **meet: Any) -> MeetProvider:
    return MeetProvider(
        meet_settings(write_key(tmp_path), **meet),
        client=fake.client(),
        fence=public_fence(),
        sleep=lambda seconds: None,
    )


def bodies(fake: GoogleFake, method: str, fragment: str) -> list[Any]:
    import json

    return [
        json.loads(r.content) if r.content else None
        for r in fake.api_requests()
        if r.method == method and fragment in r.url.path
    ]


def test_the_provider_fulfils_the_protocols_meet_supports(tmp_path: Path, fake: GoogleFake) -> None:
    provider = make(tmp_path, fake)
    assert isinstance(provider, MeetingProvider)
    assert isinstance(provider, TranscriptSource)
    assert not isinstance(provider, ParticipationSource)  # Meet's API has no polls or Q&A
    assert provider.name == "meet"


def test_a_session_is_an_event_with_a_meet_conference(tmp_path: Path, fake: GoogleFake) -> None:
    google_discovery.require_specs()
    provider = make(tmp_path, fake)
    meeting = provider.create_session(spec(recurrence=None))
    assert fake.calls == ["calendar.events.insert", "meet.spaces.get", "calendar.events.patch"]
    insert = fake.api_requests()[0]
    assert insert.url.params["conferenceDataVersion"] == "1"
    body = bodies(fake, "POST", "/events")[0]
    assert body["conferenceData"]["createRequest"]["conferenceSolutionKey"] == {
        "type": "hangoutsMeet"
    }
    assert body["start"] == {"dateTime": "2026-03-03T10:00:00", "timeZone": "Europe/Berlin"}
    assert body["end"] == {"dateTime": "2026-03-03T11:00:00", "timeZone": "Europe/Berlin"}
    assert body["recurrence"] == []
    event = fake.events[meeting.meeting_id]
    assert meeting.join_url == event["hangoutLink"]
    assert meeting.extras["meeting_code"] == event["conferenceData"]["conferenceId"]
    assert meeting.extras["personal_join_links"] is False
    space = meeting.extras["space"]
    assert event["extendedProperties"]["private"][SPACE_PROPERTY] == space
    # the grant acted as the organiser, with the scopes the docs list
    assert fake.grants[0]["sub"] == fake.organizer
    assert "https://www.googleapis.com/auth/calendar.events" in fake.grants[0]["scope"]


def test_every_create_asks_for_a_new_conference(tmp_path: Path, fake: GoogleFake) -> None:
    provider = make(tmp_path, fake)
    first = provider.create_session(spec(recurrence=None))
    second = provider.create_session(spec(recurrence=None))
    ids = {b["conferenceData"]["createRequest"]["requestId"] for b in bodies(fake, "POST", "")}
    assert len(ids) == 2
    assert first.join_url != second.join_url


def test_a_weekly_series_keeps_local_time_across_daylight_saving(
    tmp_path: Path, fake: GoogleFake
) -> None:
    provider = make(tmp_path, fake)
    series = spec(recurrence=Recurrence(frequency="weekly", weekdays=(1, 3), count=10))
    meeting = provider.create_session(series)
    body = bodies(fake, "POST", "/events")[0]
    assert body["recurrence"] == ["RRULE:FREQ=WEEKLY;COUNT=10;BYDAY=TU,TH;WKST=MO"]
    google = [
        datetime.fromisoformat(i["start"]["dateTime"]).replace(tzinfo=series.zone)
        for i in fake._expand(fake.events[meeting.meeting_id])
    ]
    ours = [o.start_utc for o in expand_occurrences(series)]
    assert [g.astimezone(UTC) for g in google] == ours
    assert [o.start_utc for o in meeting.occurrences] == ours
    # 10:00 in Berlin before and after the change to summer time (29 March 2026)
    assert ours[0].hour == 9
    assert ours[-1].hour == 8


def test_a_series_ending_on_a_date_ends_at_its_last_sitting(
    tmp_path: Path, fake: GoogleFake
) -> None:
    provider = make(tmp_path, fake)
    rule = Recurrence(frequency="weekly", until=datetime(2026, 3, 19).date())
    provider.create_session(spec(recurrence=rule))
    body = bodies(fake, "POST", "/events")[0]
    assert body["recurrence"] == ["RRULE:FREQ=WEEKLY;UNTIL=20260317T090000Z;BYDAY=TU;WKST=MO"]


def test_the_space_is_configured_when_the_settings_ask(tmp_path: Path, fake: GoogleFake) -> None:
    provider = make(tmp_path, fake, access_type="RESTRICTED", moderation=True)
    meeting = provider.create_session(spec(recurrence=None))
    patch = [r for r in fake.api_requests() if r.url.host == "meet.googleapis.com"][-1]
    assert patch.method == "PATCH"
    assert patch.url.params["updateMask"] == "config.accessType,config.moderation"
    space = fake.spaces[meeting.extras["space"].removeprefix("spaces/")]
    assert space["config"]["accessType"] == "RESTRICTED"
    assert space["config"]["moderation"] == "ON"


def test_a_recorded_session_records_and_transcribes_automatically(
    tmp_path: Path, fake: GoogleFake
) -> None:
    provider = make(tmp_path, fake)
    meeting = provider.create_session(spec(recurrence=None, record_automatically=True))
    patch = [r for r in fake.api_requests() if r.url.host == "meet.googleapis.com"][-1]
    assert patch.url.params["updateMask"] == (
        "config.artifactConfig.recordingConfig.autoRecordingGeneration,"
        "config.artifactConfig.transcriptionConfig.autoTranscriptionGeneration"
    )
    config = fake.spaces[meeting.extras["space"].removeprefix("spaces/")]["config"]
    assert config["artifactConfig"]["recordingConfig"] == {"autoRecordingGeneration": "ON"}


def test_without_space_settings_the_space_is_left_alone(tmp_path: Path, fake: GoogleFake) -> None:
    provider = make(tmp_path, fake)
    provider.create_session(spec(recurrence=None))
    assert [r.method for r in fake.api_requests() if r.url.host == "meet.googleapis.com"] == ["GET"]


def test_update_changes_the_event_and_keeps_the_conference(
    tmp_path: Path, fake: GoogleFake
) -> None:
    provider = make(tmp_path, fake)
    meeting = provider.create_session(spec())
    updated = provider.update_session(meeting.meeting_id, spec(title="Studio II"))
    assert fake.events[meeting.meeting_id]["summary"] == "Studio II"
    assert updated.join_url == meeting.join_url
    patch = bodies(fake, "PATCH", "/events")[-1]
    assert "conferenceData" not in patch


def test_one_occurrence_is_cancelled_by_its_original_start(
    tmp_path: Path, fake: GoogleFake
) -> None:
    provider = make(tmp_path, fake)
    meeting = provider.create_session(spec())
    second = meeting.occurrences[1].start_utc
    provider.cancel_session(meeting.meeting_id, second.isoformat())
    lookup = [r for r in fake.api_requests() if r.url.path.endswith("/instances")][-1]
    assert lookup.url.params["originalStart"] == second.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert bodies(fake, "PATCH", "_")[-1] == {"status": "cancelled"}
    left = [
        i for i in fake._expand(fake.events[meeting.meeting_id]) if i.get("status") != "cancelled"
    ]
    assert len(left) == len(meeting.occurrences) - 1
    assert fake.events[meeting.meeting_id]["status"] == "confirmed"


def test_the_whole_session_is_cancelled(tmp_path: Path, fake: GoogleFake) -> None:
    provider = make(tmp_path, fake)
    meeting = provider.create_session(spec())
    provider.cancel_session(meeting.meeting_id)
    assert fake.events[meeting.meeting_id]["status"] == "cancelled"
    delete = fake.api_requests()[-1]
    assert delete.method == "DELETE"
    assert delete.url.params["sendUpdates"] == "all"


def test_an_unknown_occurrence_is_not_found(tmp_path: Path, fake: GoogleFake) -> None:
    from blendkit.errors import NotFound

    provider = make(tmp_path, fake)
    meeting = provider.create_session(spec())
    with pytest.raises(NotFound, match="no occurrence starting at"):
        provider.cancel_session(meeting.meeting_id, (START + timedelta(hours=1)).isoformat())


def test_one_occurrence_moves_and_stays_findable(tmp_path: Path, fake: GoogleFake) -> None:
    provider = make(tmp_path, fake)
    meeting = provider.create_session(spec())
    original = meeting.occurrences[2].start_utc
    later = original + timedelta(hours=3)
    moved = provider.move_occurrence(meeting.meeting_id, original.isoformat(), later, 45)
    instance = {i["id"]: i for i in fake._expand(fake.events[meeting.meeting_id])}[moved]
    assert instance["start"] == {
        "dateTime": later.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "timeZone": "UTC",
    }
    assert instance["end"]["dateTime"] == (later + timedelta(minutes=45)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    # the original start still finds the moved instance; its own id does too
    again = provider.move_occurrence(meeting.meeting_id, original.isoformat(), later, 30)
    assert again == moved
    assert provider.move_occurrence(meeting.meeting_id, moved, later, 30) == moved


def test_every_learner_gets_the_meet_link_and_is_invited(tmp_path: Path, fake: GoogleFake) -> None:
    provider = make(tmp_path, fake)
    meeting = provider.create_session(spec())
    ada = Learner(id="ada", email="Ada@School.example.edu")
    bob = Learner(id="bob", email="bob@school.example.edu")
    anon = Learner(id="anon")
    links = [provider.join_link(meeting.meeting_id, learner) for learner in (ada, bob, anon)]
    assert {link.url for link in links} == {meeting.join_url}
    assert all(link.registrant_id is None for link in links)
    guests = [a["email"] for a in fake.events[meeting.meeting_id]["attendees"]]
    assert guests == ["ada@school.example.edu", "bob@school.example.edu"]
    patches = len(bodies(fake, "PATCH", "/events"))
    provider.join_link(meeting.meeting_id, ada)  # already invited: no further call
    assert len(bodies(fake, "PATCH", "/events")) == patches
    assert provider.invite(meeting.meeting_id, [ada, bob]) == ()


def test_without_invite_roster_nobody_is_invited(tmp_path: Path, fake: GoogleFake) -> None:
    provider = make(tmp_path, fake, invite_roster=False)
    meeting = provider.create_session(spec())
    link = provider.join_link(meeting.meeting_id, Learner(id="ada", email="ada@x.edu"))
    assert link.url == meeting.join_url
    assert "attendees" not in fake.events[meeting.meeting_id]
    assert all(r.url.params.get("sendUpdates") in (None, "none") for r in fake.api_requests())


def test_a_session_is_found_again_by_its_space(tmp_path: Path, fake: GoogleFake) -> None:
    provider = make(tmp_path, fake)
    fake.page_size = 1
    meetings = [provider.create_session(spec(recurrence=None)) for _ in range(3)]
    fresh = make(tmp_path, fake)  # another process: nothing cached
    wanted = meetings[2]
    assert fresh.meeting_of_space(wanted.extras["space"]) == wanted.meeting_id
    assert fresh.meeting_of_space("spaces/unknown") is None
    assert fresh.space(wanted.meeting_id).meeting_code == wanted.extras["meeting_code"]


def test_an_event_without_meet_is_not_a_session(tmp_path: Path, fake: GoogleFake) -> None:
    from blendkit.errors import NotFound

    provider = make(tmp_path, fake)
    fake.events["plain"] = {
        "id": "plain",
        "summary": "Lunch",
        "start": {"dateTime": "2026-03-03T12:00:00", "timeZone": "UTC"},
        "end": {"dateTime": "2026-03-03T13:00:00", "timeZone": "UTC"},
    }
    with pytest.raises(NotFound, match="no Google Meet conference"):
        provider.join_link("plain", Learner(id="ada"))


def test_attendance_reads_the_conference_records_of_the_space(
    tmp_path: Path, fake: GoogleFake
) -> None:
    provider = make(tmp_path, fake)
    meeting = provider.create_session(spec(recurrence=None))
    fake.route(
        "GET",
        r"https://meet\.googleapis\.com/v2/conferenceRecords",
        lambda request, match: httpx.Response(200, json={}),
    )
    assert provider.fetch_attendance(meeting.meeting_id) == []
    assert provider.list_recordings(meeting.meeting_id) == []
    lookup = fake.api_requests()[-1]
    assert meeting.extras["meeting_code"] in lookup.url.params["filter"]


TOPIC = "projects/blendkit-test/topics/meet-events"


def test_a_new_session_is_subscribed_and_a_cancelled_one_unsubscribed(
    tmp_path: Path, fake: GoogleFake
) -> None:
    from tests.plugins.test_meet_events import WorkspaceEvents

    workspace = WorkspaceEvents(fake)
    provider = make(tmp_path, fake, pubsub_topic=TOPIC)
    meeting = provider.create_session(spec(recurrence=None))
    name = meeting.extras["subscription"]
    assert workspace.subscriptions[name]["targetResource"] == (
        f"//meet.googleapis.com/{meeting.extras['space']}"
    )
    provider.cancel_session(meeting.meeting_id)
    assert name not in workspace.subscriptions


def test_a_failed_subscription_leaves_the_session_and_says_why(
    tmp_path: Path, fake: GoogleFake, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.plugins.test_meet_events import WorkspaceEvents

    WorkspaceEvents(fake)
    fake.fail("POST", r"workspaceevents\.googleapis\.com", 403, times=1)
    provider = make(tmp_path, fake, pubsub_topic=TOPIC)
    meeting = provider.create_session(spec(recurrence=None))
    assert meeting.extras["subscription_error"] == "sessions.provider_auth"
    assert meeting.meeting_id in fake.events
    assert "import-ended" in caplog.text


def test_people_lookups_ask_for_the_directory_profile_scope(
    tmp_path: Path, fake: GoogleFake
) -> None:
    provider = make(tmp_path, fake, user_lookup="people", share_recordings=True)
    assert provider.tokens.scopes[-2:] == (
        "https://www.googleapis.com/auth/drive",
        "https://www.googleapis.com/auth/directory.readonly",
    )
