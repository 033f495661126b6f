"""Every request the Zoom provider builds, checked against Zoom's published Meetings spec.

The vendor side is ``ZoomFake`` (answers shaped after the spec's response schemas, which are
validated too); the provider runs its real code over an ``httpx.MockTransport``.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from blendkit_zoom import ZoomProvider

from blendkit.errors import ProviderError
from blendkit.sessions import Learner, Recurrence
from tests.fence import public_fence
from tests.plugins.vendor_contract import Recorder, SpecRequest, validate_exchanges
from tests.plugins.zoom_data import (
    START,
    UUID_PLAIN,
    UUID_WITH_SLASHES,
    participant_row,
    weekly_spec,
    zoom_settings,
)
from tests.plugins.zoom_fake import ACCOUNT_ID, API_HOST, ZoomFake, stamp


@pytest.fixture
def fake() -> ZoomFake:
    return ZoomFake(now=lambda: START - timedelta(days=7))


@pytest.fixture
def recorder(fake: ZoomFake) -> Recorder:
    return Recorder(fake)


@pytest.fixture
def provider(recorder: Recorder) -> ZoomProvider:
    return ZoomProvider(
        fence=public_fence(),
        settings=zoom_settings(),
        client=recorder.client(),
        sleep=lambda s: None,
    )


def test_meeting_lifecycle_requests_follow_the_spec(
    zoom_spec: Any, provider: ZoomProvider, recorder: Recorder, fake: ZoomFake
) -> None:
    one_off = provider.create_session(weekly_spec(recurrence=None, record_automatically=True))
    recurring = provider.create_session(weekly_spec())
    daily = provider.create_session(
        weekly_spec(
            recurrence=Recurrence(
                frequency="daily", interval=2, until=START.date() + timedelta(days=9)
            )
        )
    )
    provider.update_session(
        recurring.meeting_id, weekly_spec(title="Statistics seminar (room change)")
    )
    provider.cancel_session(recurring.meeting_id, recurring.occurrences[2].occurrence_id)
    provider.cancel_session(one_off.meeting_id)
    provider.occurrences(recurring.meeting_id)

    assert validate_exchanges(zoom_spec, recorder.api_exchanges(API_HOST)) == 8
    created = fake.meetings[int(recurring.meeting_id)]
    assert created["type"] == 8
    assert created["recurrence"] == {
        "repeat_interval": 1,
        "type": 2,
        "weekly_days": "2",
        "end_times": 10,
    }
    assert created["topic"] == "Statistics seminar (room change)"
    assert int(one_off.meeting_id) not in fake.meetings
    assert (
        fake.meetings[int(daily.meeting_id)]["recurrence"]["end_date_time"]
        == "2026-03-11T22:59:59Z"
    )


def test_learner_registration_and_attendance_requests_follow_the_spec(
    zoom_spec: Any, provider: ZoomProvider, recorder: Recorder, fake: ZoomFake
) -> None:
    meeting = provider.create_session(weekly_spec(recurrence=None))
    link = provider.join_link(
        meeting.meeting_id, Learner(id="u1", name="Ada Lovelace", email="ada@example.edu")
    )
    rows = [
        participant_row(
            name=f"P{i}",
            join=START + timedelta(minutes=i % 30),
            leave=START + timedelta(minutes=60),
            email=f"p{i}@example.edu",
            connection=str(16778240 + i),
        )
        for i in range(7)
    ]
    fake.hold(int(meeting.meeting_id), UUID_WITH_SLASHES, START, rows)
    fake.hold(int(meeting.meeting_id), UUID_PLAIN, START + timedelta(days=7), rows[:2])
    records = provider.fetch_attendance(meeting.meeting_id)
    fake.report_allowed = False
    fallback = provider.fetch_attendance(meeting.meeting_id, UUID_WITH_SLASHES)
    shared = provider.create_session(weekly_spec(recurrence=None, personal_join_links=False))
    shared_link = provider.join_link(shared.meeting_id, Learner(id="u2", email="bo@example.edu"))
    with pytest.raises(ProviderError) as no_email:
        provider.join_link(meeting.meeting_id, Learner(id="u3", name="No Mail"))

    assert validate_exchanges(zoom_spec, recorder.api_exchanges(API_HOST)) >= 10
    assert link.registrant_id is not None
    assert link.url != meeting.join_url
    assert (shared_link.url, shared_link.registrant_id) == (shared.join_url, None)
    assert no_email.value.code == "sessions.join_link_unavailable"
    assert len(records) == 9
    assert len(fallback) == 7
    paths = [e.request.url.raw_path.decode() for e in recorder.exchanges]
    assert any("%252FFq8Vc1HTPeY%252F%252Fgd3ms6Xw%253D%253D" in p for p in paths)


def test_recordings_polls_and_qa_requests_follow_the_spec(
    zoom_spec: Any, provider: ZoomProvider, recorder: Recorder, fake: ZoomFake
) -> None:
    meeting = provider.create_session(weekly_spec(recurrence=None))
    mid = int(meeting.meeting_id)
    fake.hold(mid, UUID_WITH_SLASHES, START, [])
    fake.recordings[UUID_WITH_SLASHES] = recording_object(mid, UUID_WITH_SLASHES)
    fake.polls[UUID_WITH_SLASHES] = {
        "id": mid,
        "uuid": UUID_WITH_SLASHES,
        "start_time": stamp(START),
        "questions": [
            {
                "name": "Ada Lovelace",
                "email": "Ada@Example.edu",
                "question_details": [
                    {
                        "answer": "42",
                        "date_time": stamp(START + timedelta(minutes=5)),
                        "polling_id": "p1",
                        "question": "Answer?",
                    }
                ],
            }
        ],
    }
    fake.qa[UUID_WITH_SLASHES] = {
        "id": mid,
        "uuid": UUID_WITH_SLASHES,
        "start_time": stamp(START),
        "questions": [
            {
                "name": "Alan",
                "email": "alan@example.edu",
                "question_details": [{"question": "Why?", "answer": "Because."}],
            }
        ],
    }
    recordings = provider.list_recordings(meeting.meeting_id)
    answers = provider.poll_answers(meeting.meeting_id)
    asked = provider.questions_asked(meeting.meeting_id, UUID_WITH_SLASHES)

    assert validate_exchanges(zoom_spec, recorder.api_exchanges(API_HOST)) >= 5
    assert [r.kind.value for r in recordings] == ["video", "audio", "transcript"]
    assert answers[0].email == "ada@example.edu"
    assert answers[0].answer == "42"
    assert asked[0].question == "Why?"


def recording_object(meeting_id: int, uuid: str) -> dict[str, Any]:
    """A cloud-recording answer shaped after Zoom's spec (one video, one audio, one transcript)."""
    begin = START + timedelta(minutes=1)
    end = START + timedelta(minutes=89)

    def file(file_id: str, file_type: str, ext: str, recording_type: str) -> dict[str, Any]:
        return {
            "id": file_id,
            "meeting_id": uuid,
            "recording_start": stamp(begin),
            "recording_end": stamp(end),
            "file_type": file_type,
            "file_extension": ext,
            "file_size": 7_340_032,
            "play_url": f"https://us02web.zoom.us/rec/play/{file_id}",
            "download_url": f"https://us02web.zoom.us/rec/download/{file_id}",
            "status": "completed",
            "recording_type": recording_type,
        }

    return {
        "account_id": ACCOUNT_ID,
        "duration": 88,
        "host_id": "KDcuGIm1QgePTO8WbOqwIQ",
        "id": meeting_id,
        "recording_count": 3,
        "start_time": stamp(START),
        "topic": "Statistics seminar",
        "total_size": 3 * 7_340_032,
        "type": "2",
        "uuid": uuid,
        "recording_play_passcode": "play-pass",
        "recording_files": [
            file("f-video", "MP4", "MP4", "shared_screen_with_speaker_view"),
            file("f-audio", "M4A", "M4A", "audio_only"),
            file("f-vtt", "TRANSCRIPT", "VTT", "audio_transcript"),
        ],
    }


def test_several_weekdays_differ_from_the_spec_only_in_weekly_days(
    zoom_spec: Any, provider: ZoomProvider, recorder: Recorder
) -> None:
    """Zoom documents comma-separated ``weekly_days`` ("2,4" = Monday and Wednesday) for several
    days a week; the sanitised spec narrows the field to one day. Everything else is checked."""
    provider.create_session(
        weekly_spec(recurrence=Recurrence(frequency="weekly", weekdays=(0, 2), count=8))
    )
    (create,) = [e for e in recorder.api_exchanges(API_HOST) if e.request.method == "POST"]
    body = json.loads(create.request.content)
    assert body["recurrence"]["weekly_days"] == "2,4"
    single = body | {"recurrence": body["recurrence"] | {"weekly_days": "2"}}
    patched = httpx.Request("POST", create.request.url, headers=create.request.headers, json=single)
    zoom_spec.validate_request(SpecRequest(patched))  # raises on any other difference


def test_moving_one_occurrence_patches_only_it_and_follows_the_spec(
    zoom_spec: Any, provider: ZoomProvider, recorder: Recorder
) -> None:
    recurring = provider.create_session(weekly_spec())
    third = recurring.occurrences[2]
    assert third.occurrence_id is not None
    later = third.start_utc + timedelta(days=1, hours=2)

    moved_id = provider.move_occurrence(recurring.meeting_id, third.occurrence_id, later, 45)
    # Named by its original start (RECURRENCE-ID) after the move, it is still found.
    fourth = recurring.occurrences[3]
    again = provider.move_occurrence(
        recurring.meeting_id, fourth.start_utc.isoformat(), fourth.start_utc, 60
    )

    assert moved_id == third.occurrence_id
    assert again == fourth.occurrence_id
    after = provider.occurrences(recurring.meeting_id)
    by_id = {o.occurrence_id: o for o in after}
    assert (by_id[moved_id].start_utc, by_id[moved_id].duration_minutes) == (later, 45)
    assert by_id[again].duration_minutes == 60
    untouched = [o for o in after if o.occurrence_id not in (moved_id, again)]
    assert [(o.start_utc, o.duration_minutes) for o in untouched] == [
        (o.start_utc, 90) for o in recurring.occurrences if o.occurrence_id not in (moved_id, again)
    ]
    patches = [e for e in recorder.api_exchanges(API_HOST) if e.request.method == "PATCH"]
    assert [e.request.url.params["occurrence_id"] for e in patches] == [moved_id, again]
    assert json.loads(patches[0].request.content) == {
        "start_time": later.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration": 45,
    }
    assert validate_exchanges(zoom_spec, recorder.api_exchanges(API_HOST)) == 5


def test_moving_an_occurrence_the_meeting_lacks_names_its_start(provider: ZoomProvider) -> None:
    from blendkit.errors import NotFound

    recurring = provider.create_session(weekly_spec())
    with pytest.raises(NotFound) as info:
        provider.move_occurrence(
            recurring.meeting_id, "2031-01-01T10:00:00+00:00", START + timedelta(days=1), 30
        )
    assert "no occurrence starting at 2031-01-01T10:00:00+00:00" in info.value.message
