"""Zoom's poll and Q&A reports as blendkit's provider-neutral participation values: one answer
per participant and poll (Zoom sends one row per poll question), requests checked against the
published spec like every other Zoom call."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from blendkit_zoom import ZoomProvider

from blendkit.sessions import ParticipationSource
from tests.fence import public_fence
from tests.plugins.vendor_contract import Recorder, validate_exchanges
from tests.plugins.zoom_data import START, UUID_WITH_SLASHES, weekly_spec, zoom_settings
from tests.plugins.zoom_fake import API_HOST, ZoomFake, stamp


def _detail(poll: str, question: str, answer: str) -> dict[str, Any]:
    return {"answer": answer, "date_time": stamp(START + timedelta(minutes=5)),
            "polling_id": poll, "question": question}  # fmt: skip


def test_participation_keeps_one_answer_per_person_and_poll(zoom_spec: Any) -> None:
    fake = ZoomFake(now=lambda: START - timedelta(days=7))
    recorder = Recorder(fake)
    provider = ZoomProvider(
        fence=public_fence(), settings=zoom_settings(), client=recorder.client(),
        sleep=lambda s: None,
    )  # fmt: skip
    assert isinstance(provider, ParticipationSource)
    meeting = provider.create_session(weekly_spec(recurrence=None))
    mid = int(meeting.meeting_id)
    fake.hold(mid, UUID_WITH_SLASHES, START, [])
    fake.polls[UUID_WITH_SLASHES] = {
        "id": mid, "uuid": UUID_WITH_SLASHES, "start_time": stamp(START),
        "questions": [
            {"name": "Ada", "email": "Ada@Example.edu", "question_details": [
                _detail("p1", "Pace?", "fine"), _detail("p1", "Depth?", "ok"),
                _detail("p2", "Ready?", "yes"),
            ]},
            {"name": "Guest", "question_details": [_detail("p1", "Pace?", "slow")]},
        ],
    }  # fmt: skip
    fake.qa[UUID_WITH_SLASHES] = {
        "id": mid, "uuid": UUID_WITH_SLASHES, "start_time": stamp(START),
        "questions": [{"name": "Alan", "email": "alan@example.edu",
                       "question_details": [{"question": "Why?", "answer": ""}]}],
    }  # fmt: skip

    answers, questions = provider.participation(meeting.meeting_id, UUID_WITH_SLASHES)

    assert validate_exchanges(zoom_spec, recorder.api_exchanges(API_HOST)) >= 2
    assert [(a.email, a.poll_key) for a in answers] == [
        ("ada@example.edu", "p1"), ("ada@example.edu", "p2"), (None, "p1"),
    ]  # fmt: skip
    assert [(q.email, q.question) for q in questions] == [("alan@example.edu", "Why?")]
