"""The demo's captioned recording: a short recap of the live session, playable offline.

Its media is a 12-second tone made here as a WAV file (no video encoder is needed, and browsers
play WAV in a ``<video>`` element); its captions come from the provider's transcript file in
Zoom's WebVTT form ("Speaker: text"), downloaded and converted when the recordings are imported,
as a real provider's would be.
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
    from blendkit_examples.flask_app.demo_lms import lecture_audio

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
    for kind in (RecordingKind.VIDEO, RecordingKind.TRANSCRIPT):
        provider.add_recording(
            record.provider_meeting_id, kind, start=start, duration_seconds=RECAP_SECONDS,
            transcript=RECAP_TRANSCRIPT,
        )  # fmt: skip
    provider.pending_webhooks()  # delivered live in production; the seed imports directly
    # Keeping the files downloads the transcript from the provider: it becomes the captions.
    kept = svc.live.import_recordings(course, record.id)
    (recording,) = [r for r in kept if r.kind == RecordingKind.VIDEO]
    svc.recordings.set_media(course, recording.id, RECAP_MEDIA_PATH, duration_seconds=RECAP_SECONDS)
    svc.recordings.set_policy(course, watched_percent=80, captions_required=True)
