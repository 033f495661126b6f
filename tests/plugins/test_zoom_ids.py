"""Zoom meeting UUIDs in paths: encoded twice exactly when Zoom requires it."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import unquote

import pytest
from blendkit_zoom import ZoomProvider, encode_meeting_uuid
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fence import public_fence
from tests.plugins.vendor_contract import Recorder
from tests.plugins.zoom_data import (
    START,
    UUID_ONE_SLASH,
    UUID_PLAIN,
    UUID_WITH_SLASHES,
    participant_row,
    weekly_spec,
    zoom_settings,
)
from tests.plugins.zoom_fake import ZoomFake


@pytest.mark.parametrize(
    ("uuid", "encoded"),
    [
        ("/Fq8Vc1HTPeY//gd3ms6Xw==", "%252FFq8Vc1HTPeY%252F%252Fgd3ms6Xw%253D%253D"),
        ("abc//def==", "abc%252F%252Fdef%253D%253D"),
        ("4444AAAiAAAAAiAiAiiAii==", "4444AAAiAAAAAiAiAiiAii%3D%3D"),
        (UUID_ONE_SLASH, "Xk2a%2BG9%2FQY6rL7TbqIr0mA%3D%3D"),
    ],
)
def test_uuid_encoding_follows_zoom_rule(uuid: str, encoded: str) -> None:
    assert encode_meeting_uuid(uuid) == encoded


base64_text = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=", min_size=1
)


@settings(max_examples=300)
@given(base64_text)
def test_uuid_survives_the_decoding_zoom_applies(uuid: str) -> None:
    encoded = encode_meeting_uuid(uuid)
    assert "/" not in encoded
    double = uuid.startswith("/") or "//" in uuid
    once = unquote(encoded)
    assert (unquote(once) if double else once) == uuid
    if double:
        assert "/" not in once  # nothing for the edge to split or fold


@pytest.mark.parametrize("uuid", [UUID_WITH_SLASHES, UUID_ONE_SLASH, UUID_PLAIN])
def test_uuid_paths_reach_the_instance(uuid: str) -> None:
    fake = ZoomFake()
    provider = ZoomProvider(
        fence=public_fence(), settings=zoom_settings(), client=Recorder(fake).client()
    )
    meeting = provider.create_session(weekly_spec(recurrence=None))
    people = [
        participant_row(
            name=f"P{i}", join=START, leave=START + timedelta(minutes=9), connection=str(i)
        )
        for i in range(2)
    ]
    fake.hold(int(meeting.meeting_id), uuid, START, people)
    assert len(provider.fetch_attendance(meeting.meeting_id, uuid)) == 2
