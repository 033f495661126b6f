"""Meet recordings and transcripts: finished files only, transcript cues, Drive sharing.

Every request is checked against Google's discovery documents by the fake.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from blendkit_meet._attendance import MeetAttendance, parse_google_time
from blendkit_meet._recordings import MeetRecordings, RecordingSharing, drive_file_id

from blendkit.errors import NotFound
from blendkit.sessions import Learner, Recording, RecordingKind
from tests.plugins import meet_records_data as data
from tests.plugins.google_discovery import shaped

MEET = data.MEET
TRANSCRIPT = f"{data.RECORD}/transcripts/t1"


def _recording(name: str, state: str, file_id: str, start: float, end: float) -> dict[str, Any]:
    drive = shaped(
        MEET,
        "DriveDestination",
        file=file_id,
        exportUri=f"https://drive.google.com/file/d/{file_id}/view?usp=drive_web",
    )
    return shaped(
        MEET,
        "Recording",
        name=name,
        state=state,
        driveDestination=drive,
        startTime=data.at(start),
        endTime=data.at(end),
    )


def _transcript(name: str, state: str, document: str, start: float) -> dict[str, Any]:
    docs = shaped(
        MEET,
        "DocsDestination",
        document=document,
        exportUri=f"https://docs.google.com/document/d/{document}/export?format=txt",
    )
    return shaped(
        MEET, "Transcript", name=name, state=state, docsDestination=docs, startTime=data.at(start)
    )


def _entry(index: int, participant: str, start: float, end: float, text: str) -> dict[str, Any]:
    return shaped(
        MEET,
        "TranscriptEntry",
        name=f"{TRANSCRIPT}/entries/e{index}",
        participant=participant,
        startTime=data.at(start),
        endTime=data.at(end),
        text=text,
        languageCode="en-GB",
    )


def _recordings(fake: data.MeetRecordsFake) -> MeetRecordings:
    api = fake.api()
    return MeetRecordings(api, MeetAttendance(api, None))


def test_only_generated_recordings_and_transcripts_are_listed_across_pages() -> None:
    fake = data.MeetRecordsFake(page_size=1)
    second = "conferenceRecords/rec-2"
    fake.serve_list(
        "/v2/conferenceRecords",
        "conferenceRecords",
        [data.conference(), data.conference(second, start=7 * 24 * 60, end=None)],
    )
    fake.serve_list(
        f"/v2/{data.RECORD}/recordings",
        "recordings",
        [
            _recording(f"{data.RECORD}/recordings/r1", "FILE_GENERATED", "f1", 1, 61),
            _recording(f"{data.RECORD}/recordings/r2", "ENDED", "f2", 62, 80),
        ],
    )
    fake.serve_list(
        f"/v2/{data.RECORD}/transcripts",
        "transcripts",
        [_transcript(TRANSCRIPT, "FILE_GENERATED", "doc1", 1)],
    )
    fake.serve_list(
        f"/v2/{second}/recordings",
        "recordings",
        [_recording(f"{second}/recordings/r3", "STARTED", "f3", 7 * 24 * 60, 7 * 24 * 60 + 5)],
    )
    fake.serve_list(f"/v2/{second}/transcripts", "transcripts", [])

    found = _recordings(fake).list_recordings(data.CODE, "ev1")

    assert [(r.provider_id, r.kind) for r in found] == [
        (f"{data.RECORD}/recordings/r1", RecordingKind.VIDEO),
        (TRANSCRIPT, RecordingKind.TRANSCRIPT),
    ]
    video, transcript = found
    assert video.play_url == "https://drive.google.com/file/d/f1/view?usp=drive_web"
    assert video.duration_seconds == 3600
    assert video.start_utc == data.START + timedelta(minutes=1)  # nanoseconds dropped
    assert video.occurrence_id == data.RECORD
    assert video.meeting_id == "ev1"
    assert drive_file_id(video) == "f1"
    assert drive_file_id(transcript) == "doc1"
    assert transcript.play_url is not None
    assert "doc1" in transcript.play_url


def test_transcript_entries_become_ordered_cues_with_speakers_and_times() -> None:
    fake = data.MeetRecordsFake(page_size=2)
    ada = data.signed_in("p1", "111", "Ada Lovelace")
    guest = data.anonymous("p2", "Visitor")
    fake.serve_list(f"/v2/{data.RECORD}/participants", "participants", [ada, guest])
    fake.serve_list(
        f"/v2/{TRANSCRIPT}/entries",
        "transcriptEntries",
        [
            _entry(3, guest["name"], 3, 3.5, "A question from the back."),
            _entry(1, ada["name"], 1, 2, "  Welcome, everyone.  "),
            _entry(2, ada["name"], 2, 3, "Today: attendance."),
            _entry(4, f"{data.RECORD}/participants/gone", 4, 4.25, "Someone else."),
            _entry(5, ada["name"], 5, 5.5, "   "),
        ],
    )
    recording = Recording(
        provider_id=TRANSCRIPT,
        meeting_id="ev1",
        kind=RecordingKind.TRANSCRIPT,
        start_utc=parse_google_time(data.at(1)),
        extras={"drive_file_id": "doc1"},
    )

    transcript = _recordings(fake).fetch_transcript(recording)

    assert [(c.speaker, c.text) for c in transcript.cues] == [
        ("Ada Lovelace", "Welcome, everyone."),
        ("Ada Lovelace", "Today: attendance."),
        ("Visitor", "A question from the back."),
        (None, "Someone else."),
    ]
    first, second, third, fourth = transcript.cues
    assert (first.start, first.end) == (0, 60)
    assert (second.start, second.end) == (60, 120)
    assert (third.start, third.end) == (120, 150)
    assert (fourth.start, fourth.end) == (180, 195)
    assert transcript.language == "en-GB"


def test_a_transcript_without_its_own_start_is_timed_from_the_sitting() -> None:
    fake = data.MeetRecordsFake()
    fake.objects[f"/v2/{data.RECORD}"] = data.conference()
    fake.serve_list(f"/v2/{data.RECORD}/participants", "participants", [])
    fake.serve_list(
        f"/v2/{TRANSCRIPT}/entries",
        "transcriptEntries",
        [_entry(1, f"{data.RECORD}/participants/p1", 10, 11, "Late start.")],
    )
    recording = Recording(provider_id=TRANSCRIPT, meeting_id="ev1", kind=RecordingKind.TRANSCRIPT)
    (cue,) = _recordings(fake).fetch_transcript(recording).cues
    assert (cue.start, cue.end) == (600, 660)


def test_only_a_transcript_can_be_read_as_cues() -> None:
    video = Recording(
        provider_id=f"{data.RECORD}/recordings/r1", meeting_id="ev1", kind=RecordingKind.VIDEO
    )
    with pytest.raises(NotFound, match="not a Meet transcript"):
        _recordings(data.MeetRecordsFake()).fetch_transcript(video)


def _video() -> Recording:
    return Recording(
        provider_id=f"{data.RECORD}/recordings/r1",
        meeting_id="ev1",
        kind=RecordingKind.VIDEO,
        extras={"drive_file_id": "f1"},
    )


def test_sharing_skips_who_has_access_reports_failures_and_goes_on() -> None:
    fake = data.MeetRecordsFake(page_size=1)
    path = "/drive/v3/files/f1/permissions"
    fake.serve_list(
        path,
        "permissions",
        [
            shaped("drive.v3.json", "Permission", emailAddress="organiser@school.edu"),
            shaped("drive.v3.json", "Permission", emailAddress="Ada@School.edu"),
        ],
    )
    fake.reject_create["dee@elsewhere.org"] = 403

    def once(marker: bytes, status: int) -> data.Answer:
        def answer(request: httpx.Request) -> httpx.Response | None:
            hit = request.method == "POST" and marker in request.content
            return httpx.Response(status, headers={"Retry-After": "1"}) if hit else None

        return answer

    fake.failures += [once(b"bob@", 429), once(b"cyd@", 503)]
    sharing = RecordingSharing(fake.api())
    emails = ["ada@school.edu", " bob@school.edu", "cyd@school.edu", "dee@elsewhere.org", ""]

    result = sharing.share(_video(), [*emails, "BOB@school.edu"])

    assert result.file_id == "f1"
    assert result.already == ("ada@school.edu",)
    assert result.shared == ("bob@school.edu",)  # throttled once, then shared
    # A create is not repeated after a busy answer (it may have happened): reported instead.
    assert [f.email for f in result.failed] == ["cyd@school.edu", "dee@elsewhere.org"]
    assert all(f.reason for f in result.failed)
    (created,) = fake.created
    assert created[0] == path
    assert created[1] == {"role": "reader", "type": "user", "emailAddress": "bob@school.edu"}
    assert created[2] == {"sendNotificationEmail": "false", "supportsAllDrives": "true"}
    posts = [json.loads(r.content)["emailAddress"] for r in fake.requests if r.method == "POST"]
    assert posts == ["bob@school.edu", "bob@school.edu", "cyd@school.edu", "dee@elsewhere.org"]
    assert fake.sleeps == [1.0]

    again = sharing.share(_video(), ["cyd@school.edu"])  # the next run shares the one left
    assert again.shared == ("cyd@school.edu",)


def test_learners_without_an_address_are_reported() -> None:
    fake = data.MeetRecordsFake()
    fake.serve_list("/drive/v3/files/f1/permissions", "permissions", [])
    learners = [Learner(id="ada", email="ada@school.edu"), Learner(id="bob", email=None)]
    result = RecordingSharing(fake.api()).share_with_learners(_video(), learners)
    assert result.shared == ("ada@school.edu",)
    assert [(f.learner_id, f.email) for f in result.failed] == [("bob", "")]
    assert "no e-mail address on the roster" in result.failed[0].reason


def test_sharing_twice_creates_nothing_the_second_time() -> None:
    fake = data.MeetRecordsFake()
    path = "/drive/v3/files/f1/permissions"
    fake.serve_list(path, "permissions", [])
    sharing = RecordingSharing(fake.api())
    first = sharing.share(_video(), ["ada@school.edu"])
    fake.serve_list(
        path, "permissions", [shaped("drive.v3.json", "Permission", emailAddress="ada@school.edu")]
    )
    second = sharing.share(_video(), ["ada@school.edu"])
    assert (first.shared, second.shared, second.already) == (
        ("ada@school.edu",),
        (),
        ("ada@school.edu",),
    )
    assert len(fake.created) == 1


def test_a_recording_without_a_drive_file_cannot_be_shared() -> None:
    bare = _video().model_copy(update={"extras": {}})
    with pytest.raises(NotFound, match="no Drive file"):
        RecordingSharing(data.MeetRecordsFake().api()).share(bare, ["ada@school.edu"])
