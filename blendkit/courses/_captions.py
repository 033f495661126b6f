"""Caption tracks from the meeting providers' transcripts, read and written with webvtt-py.

Zoom delivers its audio transcript and closed captions as WebVTT whose cue text starts with
``Speaker: ``; Microsoft Graph delivers a Teams transcript as WebVTT with ``<v Speaker>`` voice
spans (``$format=text/vtt``); uploads may also be SubRip. Every form becomes one plain WebVTT
track (speakers as voice spans) and a list of cues for the transcript shown beside the player.
Sans-IO: the caller brings the text.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from blendkit.errors import CourseInputInvalid
from blendkit.sessions._transcripts import Transcript, read_cues, write_webvtt

__all__ = ["CaptionTrack", "Cue", "captions_from_transcript", "cues_of"]

MAX_TRANSCRIPT_BYTES = 5_000_000
"""Above this a transcript is refused (a day-long meeting's transcript is about 2 MB)."""


class Cue(BaseModel):
    """One caption: when it shows (seconds), who speaks (when the transcript says) and what."""

    model_config = ConfigDict(frozen=True)

    start: float
    end: float
    text: str
    speaker: str | None = None


class CaptionTrack(BaseModel):
    """A WebVTT caption track and its cues."""

    model_config = ConfigDict(frozen=True)

    vtt: str
    cues: tuple[Cue, ...]


def _invalid(reason: str) -> CourseInputInvalid:
    return CourseInputInvalid(
        f"the transcript cannot become captions: {reason}",
        code="recordings.transcript_invalid",
        http_status=400,
    )


def captions_from_transcript(
    content: str | bytes | Transcript, *, form: Literal["vtt", "srt"] = "vtt"
) -> CaptionTrack:
    """Read a provider's transcript (WebVTT, or SubRip with ``form="srt"``, or a
    :class:`~blendkit.sessions.Transcript` a provider downloaded) into a track.

    Refuses (``recordings.transcript_invalid``) text that is not a transcript of that form or
    has no cue.
    """
    if isinstance(content, Transcript):
        if not content.cues:
            raise _invalid("it has no cue with text")
        found = list(content.cues)
    else:
        if isinstance(content, bytes):
            if len(content) > MAX_TRANSCRIPT_BYTES:
                raise _invalid(f"it is {len(content)} bytes, above {MAX_TRANSCRIPT_BYTES}")
            try:
                content = content.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise _invalid("it is not UTF-8 text") from None
        found = read_cues(content, form=form, fail=_invalid)
    cues = tuple(Cue(**cue.model_dump()) for cue in found)
    return CaptionTrack(vtt=write_webvtt(found), cues=cues)


def cues_of(vtt: str) -> tuple[Cue, ...]:
    """The cues of a track this module wrote (for the transcript beside the player)."""
    return captions_from_transcript(vtt).cues
