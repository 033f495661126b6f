"""The demo's captioned recording: a short recap of the live session, playable offline.

Its media is a 12-second tone made here as a WAV file (no video encoder is needed, and browsers
play WAV in a ``<video>`` element); its captions come from a transcript in Zoom's WebVTT form
("Speaker: text"), converted as a real transcript would be.
"""

from __future__ import annotations

import functools
import typing as t
from datetime import datetime, timedelta

from blendkit.sessions import FakeMeetingProvider, RecordingKind

RECAP_MEDIA_PATH = "/demo-lms/media/recap.wav"
RECAP_SECONDS = 12
RECAP_TRANSCRIPT = """WEBVTT

1
00:00:00.000 --> 00:00:03.000
Dr Alex Rivera: Welcome back. This is the recap of the live session on cells.

2
00:00:03.000 --> 00:00:06.000
Dr Alex Rivera: The membrane lets some molecules through and keeps others out.

3
00:00:06.000 --> 00:00:09.000
Ana Lima: So the membrane is selectively permeable?

4
00:00:09.000 --> 00:00:12.000
Dr Alex Rivera: Exactly. Next week we look at how the nucleus controls the cell.
"""


@functools.cache
def recap_audio() -> bytes:
    """The recap's media (made once per process)."""
    from blendkit_examples.flask_app.demo import lecture_audio

    return lecture_audio(seconds=RECAP_SECONDS)


def seed_recording(
    svc: t.Any, course: t.Any, provider: FakeMeetingProvider, now: datetime, item: str
) -> None:
    """A past session linked to the live-session item, with its recording and captions."""
    start = (now - timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
    record = svc.live.schedule(
        course, title="Recap of week 1", start_utc=start, time_zone="Europe/London",
        duration_minutes=15, item=item,
    )  # fmt: skip
    provider.add_recording(
        record.provider_meeting_id, RecordingKind.VIDEO, start=start,
        duration_seconds=RECAP_SECONDS,
    )  # fmt: skip
    provider.pending_webhooks()  # delivered live in production; the seed imports directly
    (recording,) = svc.live.import_recordings(course, record.id)
    svc.recordings.set_media(course, recording.id, RECAP_MEDIA_PATH, duration_seconds=RECAP_SECONDS)
    svc.recordings.import_captions(
        course, record.id, RECAP_TRANSCRIPT, language="en", label="English", source="zoom"
    )
    svc.recordings.set_policy(course, watched_percent=80, captions_required=True)
