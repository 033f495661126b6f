"""Caption tracks from the meeting providers' transcripts, read and written with webvtt-py.

Zoom delivers its audio transcript and closed captions as WebVTT whose cue text starts with
``Speaker: ``; Microsoft Graph delivers a Teams transcript as WebVTT with ``<v Speaker>`` voice
spans (``$format=text/vtt``); uploads may also be SubRip. Every form becomes one plain WebVTT
track (speakers as voice spans) and a list of cues for the transcript shown beside the player.
Sans-IO: the caller brings the text.
"""

from __future__ import annotations

import html
import io
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict

from blendkit.errors import ConfigError, CourseInputInvalid

__all__ = ["CaptionTrack", "Cue", "captions_from_transcript", "cues_of"]

MAX_TRANSCRIPT_BYTES = 5_000_000
"""Above this a transcript is refused (a day-long meeting's transcript is about 2 MB)."""

_TIMESTAMP = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{3})$")
_ZOOM_SPEAKER = re.compile(r"^([^:\n<>]{1,80}):\s+(.+)$", re.DOTALL)


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


def _seconds(stamp: str) -> float:
    found = _TIMESTAMP.match(stamp.strip())
    if found is None:
        raise _invalid(f"the timestamp {stamp[:20]!r} is not HH:MM:SS.mmm")
    hours, minutes, seconds, millis = found.groups()
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(millis) / 1000


def _stamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def _invalid(reason: str) -> CourseInputInvalid:
    return CourseInputInvalid(
        f"the transcript cannot become captions: {reason}",
        code="recordings.transcript_invalid",
        http_status=400,
    )


def _webvtt() -> object:
    try:
        import webvtt  # an extra: only needed where transcripts are imported
    except ImportError:
        raise ConfigError(
            "reading transcripts needs webvtt-py: pip install 'blendkit[captions]'"
        ) from None
    return webvtt


def captions_from_transcript(
    content: str | bytes, *, form: Literal["vtt", "srt"] = "vtt"
) -> CaptionTrack:
    """Read a provider's transcript (WebVTT, or SubRip with ``form="srt"``) into a track.

    Refuses (``recordings.transcript_invalid``) text that is not a transcript of that form or
    has no cue.
    """
    if isinstance(content, bytes):
        if len(content) > MAX_TRANSCRIPT_BYTES:
            raise _invalid(f"it is {len(content)} bytes, above {MAX_TRANSCRIPT_BYTES}")
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise _invalid("it is not UTF-8 text") from None
    if len(content) > MAX_TRANSCRIPT_BYTES:
        raise _invalid(f"it is {len(content)} characters, above {MAX_TRANSCRIPT_BYTES}")
    webvtt = _webvtt()
    try:
        parsed = webvtt.from_buffer(io.StringIO(content), format=form)  # type: ignore[attr-defined]
    except Exception as exc:  # the library raises its own MalformedFileError and ValueErrors
        raise _invalid(f"{type(exc).__name__}: {str(exc)[:120]}") from None
    cues: list[Cue] = []
    for caption in parsed.captions:
        start, end = _seconds(caption.start), _seconds(caption.end)
        if end < start:
            raise _invalid(f"a cue ends ({caption.end}) before it starts ({caption.start})")
        lines = (line.strip() for line in caption.text.splitlines())
        text = html.unescape(" ".join(line for line in lines if line))
        voice = getattr(caption, "voice", None)
        speaker = html.unescape(voice) if voice else None
        if speaker is None and (named := _ZOOM_SPEAKER.match(text)):
            speaker, text = named.group(1).strip(), named.group(2).strip()
        if text:
            cues.append(Cue(start=start, end=end, text=text, speaker=speaker))
    if not cues:
        raise _invalid("it has no cue with text")
    return CaptionTrack(vtt=_write(cues), cues=tuple(cues))


def _write(cues: list[Cue]) -> str:
    blocks = ["WEBVTT", ""]
    for n, cue in enumerate(cues, start=1):
        text = html.escape(cue.text, quote=False)
        if cue.speaker:
            text = f"<v {html.escape(cue.speaker, quote=False)}>{text}"
        blocks += [str(n), f"{_stamp(cue.start)} --> {_stamp(cue.end)}", text, ""]
    return "\n".join(blocks)


def cues_of(vtt: str) -> tuple[Cue, ...]:
    """The cues of a track this module wrote (for the transcript beside the player)."""
    return captions_from_transcript(vtt).cues
