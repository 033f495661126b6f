"""Writing a session's caption track, shared by hand imports and provider transcripts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update

from blendkit.courses._captions import CaptionTrack
from blendkit.store import Store
from blendkit.store._tables_recordings import recording_captions

__all__ = ["save_caption_track"]


def save_caption_track(
    store: Store,
    session_id: str,
    track: CaptionTrack,
    *,
    language: str,
    label: str,
    source: str,
    now: datetime,
) -> None:
    """Keep ``track`` as the session's captions in ``language`` (replacing one made before)."""
    values = {
        "label": label[:128] or language, "source": source[:32], "vtt": track.vtt,
        "cues": len(track.cues), "created_at": now,
    }  # fmt: skip
    add = store.insert_ignoring_conflicts(recording_captions, "session_id", "language")
    with store.transaction() as s:
        s.execute(
            update(recording_captions)
            .where(
                recording_captions.c.session_id == session_id,
                recording_captions.c.language == language,
            )
            .values(**values)
        )
        s.execute(add.values(session_id=session_id, language=language, **values))
