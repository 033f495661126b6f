"""Zoom transcripts: the TRANSCRIPT file downloaded with the account's token, on Zoom hosts only."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from blendkit_zoom import ZoomProvider

from blendkit.errors import NotFound, ProviderError, ProviderRateLimited
from blendkit.http import RetryPolicy
from blendkit.sessions import Recording, RecordingKind, TranscriptSource
from tests.fence import public_fence
from tests.plugins.test_zoom_contract import recording_object
from tests.plugins.test_zoom_http import make
from tests.plugins.vendor_contract import Recorder, json_response, validate_exchanges
from tests.plugins.zoom_data import START, UUID_PLAIN, weekly_spec, zoom_settings
from tests.plugins.zoom_fake import API_HOST, ZoomFake

pytest.importorskip("webvtt")

VTT = (
    b"WEBVTT\n\n1\n00:00:01.000 --> 00:00:04.000\nAda Lovelace: Welcome back.\n\n"
    b"2\n00:00:04.500 --> 00:00:09.000\nAlan Turing: Shall we start with the proof?\n"
)


def transcript_file(fake: ZoomFake, provider: ZoomProvider) -> tuple[str, Recording]:
    meeting = provider.create_session(weekly_spec(recurrence=None))
    mid = int(meeting.meeting_id)
    fake.hold(mid, UUID_PLAIN, START, [])
    fake.recordings[UUID_PLAIN] = recording_object(mid, UUID_PLAIN)
    fake.downloads["f-vtt"] = VTT
    (found,) = [
        r
        for r in provider.list_recordings(meeting.meeting_id)
        if r.kind is RecordingKind.TRANSCRIPT
    ]
    return meeting.meeting_id, found


def downloads(recorder: Recorder) -> list[httpx.Request]:
    return [e.request for e in recorder.exchanges if e.request.url.host == "us02web.zoom.us"]


def test_the_transcript_is_downloaded_with_the_token_through_zoom_redirect(
    zoom_spec: Any,
) -> None:
    fake = ZoomFake()
    provider, recorder, _ = make(fake)
    assert isinstance(provider, TranscriptSource)
    meeting_id, file = transcript_file(fake, provider)

    transcript = provider.fetch_transcript(meeting_id, file)

    assert [(c.speaker, c.text) for c in transcript.cues] == [
        ("Ada Lovelace", "Welcome back."),
        ("Alan Turing", "Shall we start with the proof?"),
    ]
    (first,) = downloads(recorder)
    assert str(first.url) == "https://us02web.zoom.us/rec/download/f-vtt"
    assert first.headers["authorization"].startswith("Bearer tok-")
    hops = [e.request.url.host for e in recorder.exchanges][-2:]
    assert hops == ["us02web.zoom.us", "ssrweb.zoom.us"]
    # The API calls around it still follow Zoom's spec (downloads are not API paths).
    assert validate_exchanges(zoom_spec, recorder.api_exchanges(API_HOST)) >= 3


def test_a_revoked_token_is_refreshed_once_for_the_download() -> None:
    fake = ZoomFake(redirect_downloads=False)
    provider, recorder, _ = make(fake)
    meeting_id, file = transcript_file(fake, provider)
    fake.revoke_tokens()
    transcript = provider.fetch_transcript(meeting_id, file)
    assert len(transcript.cues) == 2
    assert [e.response.status_code for e in recorder.exchanges][-3:] == [401, 200, 200]
    assert fake.token_requests == 2


def test_429_on_the_download_waits_then_succeeds_and_gives_up_when_it_persists() -> None:
    busy = json_response(
        429, {"code": 429, "message": "rate limit"}, {"retry-after": "3", "x-ratelimit-type": "QPS"}
    )
    fake = ZoomFake(redirect_downloads=False)
    provider, _, waits = make(fake, retry=RetryPolicy(max_retries=2))
    meeting_id, file = transcript_file(fake, provider)
    fake.faults += [busy]
    assert len(provider.fetch_transcript(meeting_id, file).cues) == 2
    assert waits == [3.0]
    fake.faults += [busy, busy, busy]
    with pytest.raises(ProviderRateLimited) as caught:
        provider.fetch_transcript(meeting_id, file)
    assert "recording download" in caught.value.message


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example.com/rec/download/f-vtt",
        "https://zoom.us.evil.example.com/rec/download/f-vtt",
        "http://us02web.zoom.us/rec/download/f-vtt",
        "https://user:pw@us02web.zoom.us/rec/download/f-vtt",
    ],
)
def test_a_download_url_off_zoom_is_refused_before_the_token_is_sent(url: str) -> None:
    fake = ZoomFake()
    provider, recorder, _ = make(fake)
    meeting_id, file = transcript_file(fake, provider)
    before = len(recorder.exchanges)
    with pytest.raises(ProviderError) as caught:
        provider.fetch_transcript(meeting_id, file.model_copy(update={"download_url": url}))
    assert caught.value.code == "sessions.provider_unexpected"
    assert "not an https URL on a Zoom host" in caught.value.message
    assert len(recorder.exchanges) == before


def test_a_redirect_off_zoom_is_not_followed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "zoom.us":
            return json_response(200, {"access_token": "t1", "expires_in": 3599})
        return httpx.Response(302, headers={"location": "https://collector.example.net/x"})

    recorder = Recorder(handler)
    provider = ZoomProvider(
        fence=public_fence(), settings=zoom_settings(), client=recorder.client()
    )
    file = Recording(
        provider_id="f-vtt", meeting_id="1", kind=RecordingKind.TRANSCRIPT,
        download_url="https://us02web.zoom.us/rec/download/f-vtt",
    )  # fmt: skip
    with pytest.raises(ProviderError, match=r"collector\.example\.net"):
        provider.fetch_transcript("1", file)
    assert all(e.request.url.host != "collector.example.net" for e in recorder.exchanges)


def test_a_missing_file_and_a_video_file_are_reported() -> None:
    fake = ZoomFake(redirect_downloads=False)
    provider, _, _ = make(fake)
    meeting_id, file = transcript_file(fake, provider)
    del fake.downloads["f-vtt"]
    with pytest.raises(NotFound):
        provider.fetch_transcript(meeting_id, file)
    with pytest.raises(ProviderError, match="not a transcript"):
        provider.fetch_transcript(meeting_id, file.model_copy(update={"kind": RecordingKind.VIDEO}))


def test_a_file_that_is_not_webvtt_is_a_transcript_error() -> None:
    fake = ZoomFake(redirect_downloads=False)
    provider, _, _ = make(fake)
    meeting_id, file = transcript_file(fake, provider)
    fake.downloads["f-vtt"] = b"<html>Sign in</html>"
    with pytest.raises(ProviderError) as caught:
        provider.fetch_transcript(meeting_id, file)
    assert caught.value.code == "sessions.transcript_invalid"
