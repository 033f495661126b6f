"""A meeting's transcript in provider-neutral values, and the providers that can download one.

Zoom delivers its audio transcript as WebVTT whose cue text starts with ``Speaker: ``; Microsoft
Graph delivers a Teams transcript as WebVTT with ``<v Speaker>`` voice spans. Both read into the
same :class:`Transcript` (parsed with webvtt-py) and write back as plain WebVTT with voice spans.
Sans-IO: the caller brings the text.
"""

from __future__ import annotations

import html
import io
import math
import re
from collections.abc import Callable
from typing import Literal, Protocol, Self, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from blendkit.errors import ConfigError, ProviderError
from blendkit.sessions._models import Recording

__all__ = ["Transcript", "TranscriptCue", "TranscriptSource"]

MAX_TRANSCRIPT_CHARS = 5_000_000
"""Above this a transcript is refused (a day-long meeting's transcript is about 2 MB)."""

_FROZEN = ConfigDict(frozen=True, extra="forbid")
_TIMESTAMP = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{3})$")
_ZOOM_SPEAKER = re.compile(r"^([^:\n<>]{1,80}):\s+(.+)$", re.DOTALL)


class TranscriptCue(BaseModel):
    """One spoken line: when it is said (seconds from the recording's start), by whom (when the
    transcript says) and what."""

    model_config = _FROZEN

    start: float = Field(ge=0)
    end: float
    text: str = Field(min_length=1)
    speaker: str | None = None

    @field_validator("start", "end")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("a cue's time must be a finite number of seconds")
        return value

    @field_validator("text")
    @classmethod
    def _has_text(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a cue's text must not be blank")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end < self.start:
            raise ValueError(f"a cue ends ({self.end}) before it starts ({self.start})")
        return self


class Transcript(BaseModel):
    """A meeting recording's transcript: its cues in order, and its language when known."""

    model_config = _FROZEN

    cues: tuple[TranscriptCue, ...]
    language: str | None = None

    @classmethod
    def from_webvtt(cls, text: str, *, language: str | None = None) -> Transcript:
        """Read a WebVTT transcript (Zoom's ``Speaker: text`` or Graph's ``<v Speaker>``).

        Raises :class:`~blendkit.errors.ProviderError` (``sessions.transcript_invalid``) for
        text that is not WebVTT, a cue ending before it starts, or no cue with text.
        """

        def fail(reason: str) -> ProviderError:
            return ProviderError(
                f"the provider's transcript is not usable WebVTT: {reason}; download it again "
                "or upload the .vtt file by hand",
                code="sessions.transcript_invalid",
            )

        return cls(cues=tuple(read_cues(text, form="vtt", fail=fail)), language=language)

    def to_webvtt(self) -> str:
        """The transcript as WebVTT, speakers as ``<v Speaker>`` voice spans."""
        return write_webvtt(self.cues)


@runtime_checkable
class TranscriptSource(Protocol):
    """A meeting provider that can download the transcript of a recording it listed (a
    :class:`~blendkit.sessions.Recording` of kind ``transcript``)."""

    def fetch_transcript(self, meeting_id: str, recording: Recording) -> Transcript:
        """Download and read the transcript file ``recording`` of meeting ``meeting_id``."""
        ...


def _webvtt() -> object:
    try:
        import webvtt  # an extra: only needed where transcripts are read
    except ImportError:
        raise ConfigError(
            "reading transcripts needs webvtt-py: pip install 'blendkit[captions]'"
        ) from None
    return webvtt


def _seconds(stamp: str, fail: Callable[[str], Exception]) -> float:
    found = _TIMESTAMP.match(stamp.strip())
    if found is None:
        raise fail(f"the timestamp {stamp[:20]!r} is not HH:MM:SS.mmm")
    hours, minutes, seconds, millis = found.groups()
    total = ((int(hours or 0) * 60 + int(minutes)) * 60 + int(seconds)) * 1000 + int(millis)
    return total / 1000  # whole milliseconds divided once: 1.269 reads as 1.269


def _stamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def read_cues(
    content: str, *, form: Literal["vtt", "srt"], fail: Callable[[str], Exception]
) -> list[TranscriptCue]:
    """The cues of a WebVTT (or SubRip) text; ``fail(reason)`` builds the error raised."""
    if len(content) > MAX_TRANSCRIPT_CHARS:
        raise fail(f"it is {len(content)} characters, above {MAX_TRANSCRIPT_CHARS}")
    webvtt = _webvtt()
    try:
        parsed = webvtt.from_buffer(io.StringIO(content), format=form)  # type: ignore[attr-defined]
    except Exception as exc:  # the library raises its own MalformedFileError and ValueErrors
        raise fail(f"{type(exc).__name__}: {str(exc)[:120]}") from None
    cues: list[TranscriptCue] = []
    for caption in parsed.captions:
        start, end = _seconds(caption.start, fail), _seconds(caption.end, fail)
        if end < start:
            raise fail(f"a cue ends ({caption.end}) before it starts ({caption.start})")
        lines = (line.strip() for line in caption.text.splitlines())
        text = html.unescape(" ".join(line for line in lines if line)).strip()
        voice = getattr(caption, "voice", None)
        speaker = html.unescape(voice).strip() or None if voice else None
        if speaker is None and (named := _ZOOM_SPEAKER.match(text)):
            speaker, text = named.group(1).strip() or None, named.group(2).strip()
        if text:
            cues.append(TranscriptCue(start=start, end=end, text=text, speaker=speaker))
    if not cues:
        raise fail("it has no cue with text")
    return cues


def write_webvtt(cues: tuple[TranscriptCue, ...] | list[TranscriptCue]) -> str:
    """WebVTT text of ``cues``, numbered, speakers as voice spans."""
    blocks = ["WEBVTT", ""]
    for n, cue in enumerate(cues, start=1):
        text = html.escape(" ".join(cue.text.split()), quote=False)
        if cue.speaker:
            speaker = html.escape(" ".join(cue.speaker.split()), quote=False)
            text = f"<v {speaker}>{text}"
        blocks += [str(n), f"{_stamp(cue.start)} --> {_stamp(cue.end)}", text, ""]
    return "\n".join(blocks)
