"""Transcript: WebVTT read with webvtt-py (Zoom's and Graph's speaker forms) and written back."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from blendkit.errors import ProviderError
from blendkit.sessions import FakeMeetingProvider, Transcript, TranscriptCue, TranscriptSource

pytest.importorskip("webvtt")

GRAPH_VTT = """WEBVTT

00:00:01.000 --> 00:00:04.500
<v Ada Lovelace>Welcome to the clinic.</v>

00:00:05.000 --> 00:00:07.250
<v Alan Turing>Thanks &amp; hello.</v>
"""

ZOOM_VTT = """WEBVTT

1
00:00:00.500 --> 00:00:03.000
Grace Hopper: Let's start with the queue.

2
01:02:03.004 --> 01:02:05.000
No speaker on this one.
"""


def test_graph_voice_tags_become_speakers() -> None:
    transcript = Transcript.from_webvtt(GRAPH_VTT, language="en")
    assert transcript.language == "en"
    assert [(c.start, c.end, c.speaker, c.text) for c in transcript.cues] == [
        (1.0, 4.5, "Ada Lovelace", "Welcome to the clinic."),
        (5.0, 7.25, "Alan Turing", "Thanks & hello."),
    ]


def test_zoom_speaker_prefix_becomes_speaker() -> None:
    cues = Transcript.from_webvtt(ZOOM_VTT).cues
    assert cues[0].speaker == "Grace Hopper"
    assert cues[0].text == "Let's start with the queue."
    assert cues[1].speaker is None
    assert cues[1].start == pytest.approx(3723.004)


def test_written_form_uses_voice_spans_and_escapes() -> None:
    vtt = Transcript.from_webvtt(GRAPH_VTT).to_webvtt()
    assert vtt.startswith("WEBVTT\n")
    assert "00:00:01.000 --> 00:00:04.500\n<v Ada Lovelace>Welcome to the clinic." in vtt
    assert "Thanks &amp; hello." in vtt


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("not a transcript", "MalformedFileError"),
        ("WEBVTT\n\n00:00:05.000 --> 00:00:01.000\nbackwards\n", "before it starts"),
        ("WEBVTT\n\n", "no cue with text"),
    ],
)
def test_malformed_webvtt_is_a_provider_error_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(ProviderError) as caught:
        Transcript.from_webvtt(text)
    assert caught.value.code == "sessions.transcript_invalid"
    assert reason in caught.value.message


@pytest.mark.parametrize(
    "values",
    [
        {"start": -1.0, "end": 2.0, "text": "x"},
        {"start": 3.0, "end": 2.0, "text": "x"},
        {"start": 0.0, "end": 2.0, "text": "  "},
        {"start": 0.0, "end": float("inf"), "text": "x"},
    ],
)
def test_cue_validation(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        TranscriptCue.model_validate(values)


def test_the_fake_provider_is_a_transcript_source() -> None:
    assert isinstance(FakeMeetingProvider(), TranscriptSource)


_WORD = st.text(
    alphabet=st.characters(
        codec="utf-8", categories=("L", "N", "P", "S"), exclude_characters=":<>-\\"
    ),
    min_size=1,
    max_size=12,
)
_LINE = st.lists(_WORD, min_size=1, max_size=6).map(" ".join)


@st.composite
def _cues(draw: st.DrawFn) -> tuple[TranscriptCue, ...]:
    count = draw(st.integers(min_value=1, max_value=8))
    at = draw(st.integers(min_value=0, max_value=10_000_000))
    cues = []
    for _ in range(count):
        length = draw(st.integers(min_value=0, max_value=600_000))
        speaker = draw(st.none() | _LINE.filter(lambda s: len(s) <= 60))
        cues.append(
            TranscriptCue(start=at / 1000, end=(at + length) / 1000, text=draw(_LINE),
                          speaker=speaker)
        )  # fmt: skip
        at += length + draw(st.integers(min_value=0, max_value=5_000))
    return tuple(cues)


@settings(max_examples=150, deadline=None)
@given(cues=_cues())
def test_webvtt_round_trip(cues: tuple[TranscriptCue, ...]) -> None:
    transcript = Transcript(cues=cues)
    again = Transcript.from_webvtt(transcript.to_webvtt())
    assert again == transcript
    assert again.to_webvtt() == transcript.to_webvtt()
