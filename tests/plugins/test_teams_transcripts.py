"""Teams transcripts: listed page by page, content read as WebVTT through Graph with the token."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from blendkit_teams import TeamsProvider

from blendkit.errors import NotFound, ProviderError, ProviderRateLimited
from blendkit.http import RetryPolicy
from blendkit.sessions import Recording, RecordingKind, TranscriptSource
from tests.plugins.graph_fake import GRAPH, ORGANIZER, START, GraphFake, spec, stamp
from tests.plugins.test_teams_http import make
from tests.plugins.vendor_contract import Recorder, json_response, validate_exchanges

pytest.importorskip("webvtt")


def held_with_transcripts(fake: GraphFake, provider: TeamsProvider, count: int) -> str:
    meeting = provider.create_session(spec(recurrence=None))
    online = provider.online_meeting_id(meeting.meeting_id)
    fake.transcripts[online] = []
    for n in range(count):
        tid = f"MSMjMCMj{n:04d}"
        fake.transcripts[online].append(
            {
                "id": tid,
                "meetingId": online,
                "callId": "af630fe0-04d3-4559-8cf9-91fe45e36296",
                "createdDateTime": stamp(START + timedelta(minutes=n)),
                "endDateTime": stamp(START + timedelta(minutes=n + 1)),
                "transcriptContentUrl": (
                    f"{GRAPH}/users/{ORGANIZER}/onlineMeetings/{online}/transcripts/{tid}/content"
                ),
            }
        )
        fake.transcript_content[tid] = (
            f"WEBVTT\n\n00:00:0{n}.000 --> 00:00:0{n}.900\n<v Ada Lovelace>Part {n}.</v>\n"
        )
    return meeting.meeting_id


def transcript_file(provider: TeamsProvider, meeting_id: str) -> Recording:
    file = transcript_file(provider, meeting_id)
    return file


def content_calls(recorder: Recorder) -> list[httpx.Request]:
    return [e.request for e in recorder.exchanges if e.request.url.path.endswith("/content")]


def test_every_transcript_page_is_listed_and_each_read_as_webvtt(graph_spec: Any) -> None:
    fake = GraphFake(page_size=2)
    provider, recorder, _ = make(fake)
    assert isinstance(provider, TranscriptSource)
    meeting_id = held_with_transcripts(fake, provider, 5)

    files = [r for r in provider.list_recordings(meeting_id) if r.kind is RecordingKind.TRANSCRIPT]
    transcripts = [provider.fetch_transcript(meeting_id, f) for f in files]

    assert [t.cues[0].text for t in transcripts] == [f"Part {n}." for n in range(5)]
    assert {t.cues[0].speaker for t in transcripts} == {"Ada Lovelace"}
    pages = [e.request for e in recorder.exchanges if e.request.url.path.endswith("/transcripts")]
    assert [r.url.params.get("$skiptoken") for r in pages] == [None, "2", "4"]
    calls = content_calls(recorder)
    assert len(calls) == 5
    assert all(c.url.params["$format"] == "text/vtt" for c in calls)
    assert all(c.headers["accept"] == "text/vtt" for c in calls)
    # The subset spec lists transcripts and each transcript entity but not its /content media
    # path: every other request is validated, and each content request addresses a listed entity.
    others = [
        e for e in recorder.api_exchanges("graph.microsoft.com")
        if not e.request.url.path.endswith("/content")
        and "$skiptoken" not in e.request.url.params
    ]  # fmt: skip
    assert validate_exchanges(graph_spec, others) >= 3
    for call in calls:
        entity = httpx.Request("GET", str(call.url.copy_with(query=None)).removesuffix("/content"))
        assert validate_exchanges(graph_spec, [_Exchange(entity)]) == 1


class _Exchange:
    """A request to validate on its own (its answer is not checked)."""

    def __init__(self, request: httpx.Request) -> None:
        self.request = request
        self.response = httpx.Response(404)


def test_an_expired_token_is_refreshed_once_for_the_content() -> None:
    fake = GraphFake()
    provider, recorder, _ = make(fake)
    meeting_id = held_with_transcripts(fake, provider, 1)
    (file,) = [
        r for r in provider.list_recordings(meeting_id) if r.kind is RecordingKind.TRANSCRIPT
    ]
    fake.revoke_tokens()
    assert provider.fetch_transcript(meeting_id, file).cues[0].text == "Part 0."
    statuses = [e.response.status_code for e in recorder.exchanges][-3:]
    assert statuses == [401, 200, 200]


def test_429_on_the_content_honours_retry_after_then_gives_up() -> None:
    throttled = json_response(
        429, {"error": {"code": "TooManyRequests", "message": "retry"}}, {"Retry-After": "4"}
    )
    fake = GraphFake()
    provider, _, waits = make(fake, retry=RetryPolicy(max_retries=1))
    meeting_id = held_with_transcripts(fake, provider, 1)
    (file,) = [
        r for r in provider.list_recordings(meeting_id) if r.kind is RecordingKind.TRANSCRIPT
    ]
    fake.faults += [throttled]
    assert provider.fetch_transcript(meeting_id, file).cues[0].text == "Part 0."
    assert waits == [4.0]
    fake.faults += [throttled, throttled]
    with pytest.raises(ProviderRateLimited):
        provider.fetch_transcript(meeting_id, file)


def test_a_deleted_transcript_is_not_found_and_a_video_is_refused() -> None:
    fake = GraphFake()
    provider, _, _ = make(fake)
    meeting_id = held_with_transcripts(fake, provider, 1)
    (file,) = [
        r for r in provider.list_recordings(meeting_id) if r.kind is RecordingKind.TRANSCRIPT
    ]
    fake.transcript_content.clear()
    with pytest.raises(NotFound):
        provider.fetch_transcript(meeting_id, file)
    with pytest.raises(ProviderError, match="not a Teams transcript"):
        provider.fetch_transcript(meeting_id, file.model_copy(update={"kind": RecordingKind.VIDEO}))
