"""Every request the Teams provider builds, checked against the Graph v1.0 subset spec."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from blendkit_teams import TeamsProvider

from blendkit.sessions import Learner, RecordingKind, Recurrence
from tests.fence import public_fence
from tests.plugins.graph_fake import (
    ORGANIZER,
    START,
    GraphFake,
    attendance_record,
    spec,
    stamp,
    teams_settings,
)
from tests.plugins.vendor_contract import Recorder, validate_exchanges


@pytest.fixture
def fake() -> GraphFake:
    return GraphFake()


@pytest.fixture
def recorder(fake: GraphFake) -> Recorder:
    return Recorder(fake)


@pytest.fixture
def provider(recorder: Recorder, fake: GraphFake) -> TeamsProvider:
    made = TeamsProvider(
        fence=public_fence(),
        settings=teams_settings(),
        client=recorder.client(),
        sleep=lambda s: None,
    )
    fake.notification_endpoint = made.handle_webhook
    return made


def test_event_lifecycle_requests_follow_the_spec(
    graph_spec: Any, provider: TeamsProvider, recorder: Recorder, fake: GraphFake
) -> None:
    one_off = provider.create_session(spec(recurrence=None))
    weekly = provider.create_session(spec())
    daily = provider.create_session(
        spec(recurrence=Recurrence(frequency="daily", until=START.date() + timedelta(days=4)))
    )
    provider.update_session(weekly.meeting_id, spec(title="Design studio (moved)"))
    provider.cancel_session(one_off.meeting_id)
    provider.cancel_session(daily.meeting_id)

    # 6 event calls; for each of the 3 sessions scheduled: the online meeting looked up by its
    # join URL and its recordings and transcripts subscribed; for each of the 2 cancelled: the
    # subscriptions listed (3 pages of 2 with six of them, 2 pages with four) and its two deleted.
    assert validate_exchanges(graph_spec, recorder.api_exchanges("graph.microsoft.com")) == 25
    assert sorted(
        (s["resource"].rsplit("/", 1)[1], httpx.URL(s["notificationUrl"]).params["meeting"])
        for s in fake.subscriptions.values()
    ) == [("recordings", weekly.meeting_id), ("transcripts", weekly.meeting_id)]
    stored = fake.events[weekly.meeting_id]
    assert stored["subject"] == "Design studio (moved)"
    assert stored["isOnlineMeeting"] is True
    assert stored["onlineMeetingProvider"] == "teamsForBusiness"
    assert stored["start"] == {
        "dateTime": "2026-03-03T10:00:00",
        "timeZone": "W. Europe Standard Time",
    }
    assert stored["recurrence"]["pattern"]["daysOfWeek"] == ["tuesday", "thursday"]
    assert stored["recurrence"]["range"]["numberOfOccurrences"] == 12
    assert set(fake.events) == {weekly.meeting_id}
    assert len(weekly.occurrences) == 12


def test_attendance_and_artifact_requests_follow_the_spec(
    graph_spec: Any, provider: TeamsProvider, recorder: Recorder, fake: GraphFake
) -> None:
    meeting = provider.create_session(spec(recurrence=None))
    link = provider.join_link(meeting.meeting_id, Learner(id="u1", email="ada@contoso.edu"))
    online = provider.online_meeting_id(meeting.meeting_id)
    people = [
        attendance_record(
            f"rec-{i}",
            name=f"Learner {i}",
            email=f"l{i}@contoso.edu",
            user_id=f"00000000-0000-4000-8000-{i:012d}",
            intervals=[
                (START, START + timedelta(minutes=30)),
                (START + timedelta(minutes=35), START + timedelta(minutes=60)),
            ],
        )
        for i in range(5)
    ]
    fake.hold(online, START, START + timedelta(minutes=60), people)
    fake.hold(online, START + timedelta(days=7), START + timedelta(days=7, minutes=55), people[:1])
    fake.recordings[online] = [
        {
            "id": "VjIjIzUzNzg",
            "meetingId": online,
            "callId": "af630fe0-04d3-4559-8cf9-91fe45e36296",
            "contentCorrelationId": "e87c6ba2-2cb0-4e0d-a0d8-d3b2bee3b4b0",
            "createdDateTime": stamp(START + timedelta(minutes=1)),
            "endDateTime": stamp(START + timedelta(minutes=59)),
            "recordingContentUrl": f"https://graph.microsoft.com/v1.0/users/{ORGANIZER}/onlineMeetings/{online}/recordings/VjIjIzUzNzg/content",
        }
    ]
    fake.transcripts[online] = [
        {
            "id": "MSMjMCMjZDAw",
            "meetingId": online,
            "callId": "af630fe0-04d3-4559-8cf9-91fe45e36296",
            "createdDateTime": stamp(START + timedelta(minutes=1)),
            "endDateTime": stamp(START + timedelta(minutes=59)),
            "transcriptContentUrl": f"https://graph.microsoft.com/v1.0/users/{ORGANIZER}/onlineMeetings/{online}/transcripts/MSMjMCMjZDAw/content",
        }
    ]
    records = provider.fetch_attendance(meeting.meeting_id)
    recordings = provider.list_recordings(meeting.meeting_id)
    subscription = provider.subscribe(meeting.meeting_id)
    assert provider.subscriptions is not None
    provider.subscriptions.renew(subscription)
    provider.subscriptions.unsubscribe(subscription.id)
    # A provider that has not seen the event yet reads its join URL from Graph.
    other = TeamsProvider(fence=public_fence(), settings=teams_settings(), client=recorder.client())
    assert other.join_link(meeting.meeting_id, Learner(id="u2")).url == meeting.join_url

    assert validate_exchanges(graph_spec, recorder.api_exchanges("graph.microsoft.com")) >= 12
    assert link.url == meeting.join_url
    assert link.registrant_id is None
    assert len(records) == 12  # 5 people x 2 intervals, then 1 person x 2 intervals
    assert [r.kind for r in recordings] == [RecordingKind.VIDEO, RecordingKind.TRANSCRIPT]
    assert recordings[0].duration_seconds == 58 * 60
    assert len(fake.validations) == 3  # two when the session was scheduled
    assert sorted(fake.subscriptions) == sorted(meeting.extras["subscriptions"])  # type: ignore[arg-type]
    assert subscription.notification_url == (
        f"https://tool.example.edu/webhooks/teams?meeting={quote(meeting.meeting_id, safe='')}"
        "&artifact=recordings&organizer=teacher%40contoso.edu"
    )
    assert subscription.organizer == "teacher@contoso.edu"
    assert subscription.meeting_id == meeting.meeting_id


def test_cancelling_one_occurrence_by_its_start_time_deletes_only_that_instance(
    graph_spec: Any, provider: TeamsProvider, recorder: Recorder, fake: GraphFake
) -> None:
    weekly = provider.create_session(spec())
    second = weekly.occurrences[1].start_utc
    kept = fake.hold_instance(weekly.meeting_id, weekly.occurrences[0].start_utc)
    dropped = fake.hold_instance(weekly.meeting_id, second)

    provider.cancel_session(weekly.meeting_id, second.isoformat())

    assert dropped not in fake.events
    assert kept in fake.events
    assert weekly.meeting_id in fake.events, "the series itself stays"
    graph = recorder.api_exchanges("graph.microsoft.com")
    # The spec subset has no /events/{id}/instances path: check that request by hand (Graph
    # requires both bounds, ISO 8601) and the create and delete against the spec.
    (lookup,) = [e for e in graph if e.request.url.path.endswith("/instances")]
    assert lookup.request.method == "GET"
    bounds = (second - timedelta(minutes=1), second + timedelta(minutes=1))
    assert [lookup.request.url.params[k] for k in ("startDateTime", "endDateTime")] == [
        f"{b:%Y-%m-%dT%H:%M:%S}Z" for b in bounds
    ]
    others = [e for e in graph if e is not lookup]
    deletes = [e for e in others if e.request.method == "DELETE"]
    assert len(deletes) == 1
    assert validate_exchanges(graph_spec, others) == 5  # with the scheduling's subscriptions


def test_cancelling_an_occurrence_that_does_not_exist_names_it(
    provider: TeamsProvider, fake: GraphFake
) -> None:
    from blendkit.errors import NotFound

    weekly = provider.create_session(spec())
    with pytest.raises(NotFound) as info:
        provider.cancel_session(weekly.meeting_id, "2031-01-01T10:00:00+00:00")
    assert "no occurrence starting at 2031-01-01T10:00:00+00:00" in info.value.message
    assert weekly.meeting_id in fake.events


def test_moving_one_occurrence_patches_its_instance_into_an_exception(
    graph_spec: Any, provider: TeamsProvider, recorder: Recorder, fake: GraphFake
) -> None:
    weekly = provider.create_session(spec())
    first, second = (o.start_utc for o in weekly.occurrences[:2])
    kept = fake.hold_instance(weekly.meeting_id, first)
    target = fake.hold_instance(weekly.meeting_id, second)
    later = second + timedelta(hours=3)

    moved = provider.move_occurrence(weekly.meeting_id, second.isoformat(), later, 30)
    # From now on the instance id finds it (its original start no longer does, as in Graph).
    again = provider.move_occurrence(weekly.meeting_id, moved, later + timedelta(hours=1), 30)

    assert moved == again == target
    assert fake.events[target]["type"] == "exception"
    assert fake.events[target]["start"] == {
        "dateTime": (later + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S"),
        "timeZone": "UTC",
    }
    assert fake.events[target]["end"]["dateTime"] == (
        later + timedelta(hours=1, minutes=30)
    ).strftime("%Y-%m-%dT%H:%M:%S")
    assert fake.instances[weekly.meeting_id][kept] == first
    assert "start" not in fake.events[kept]
    assert fake.events[weekly.meeting_id]["recurrence"]["range"]["numberOfOccurrences"] == 12
    graph = recorder.api_exchanges("graph.microsoft.com")
    others = [
        e
        for e in graph
        if "/events" in e.request.url.path and not e.request.url.path.endswith("/instances")
    ]
    assert [e.request.method for e in others] == ["POST", "PATCH", "PATCH"]
    assert validate_exchanges(graph_spec, others) == 3
    from blendkit.errors import NotFound

    with pytest.raises(NotFound, match="no occurrence starting at"):
        provider.move_occurrence(weekly.meeting_id, second.isoformat(), later, 30)
