"""After ``[teams] organizer`` changes, the sessions made under the earlier organizer stay in
that organizer's calendar: with the earlier one in ``former_organizers`` every call for them
(join link, update, cancel, moving an occurrence, attendance, recordings, state, subscribing)
goes to the calendar that holds them, found once per session; new sessions go to today's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from blendkit.errors import NotFound
from blendkit.sessions import Learner
from tests.plugins.graph_fake import ORGANIZER, START, GraphFake, spec
from tests.plugins.test_teams_renewal import process
from tests.plugins.vendor_contract import Recorder, validate_exchanges

NEW = "new.teacher@contoso.edu"
LEARNER = Learner(id="learner-1", name="Ada", email="ada@example.edu")


@pytest.fixture
def fake() -> GraphFake:
    made = GraphFake()
    made.organizers.add(NEW)
    return made


@pytest.fixture
def recorder(fake: GraphFake) -> Recorder:
    return Recorder(fake)


def _users(recorder: Recorder) -> list[str]:
    """The user of every Graph calendar call, in order."""
    return [
        exchange.request.url.path.split("/")[3]
        for exchange in recorder.api_exchanges("graph.microsoft.com")
        if "/users/" in exchange.request.url.path
    ]


def test_without_former_organizers_an_earlier_organizers_session_is_not_found(
    recorder: Recorder, fake: GraphFake
) -> None:
    before = process(recorder, fake).create_session(spec())
    after = process(recorder, fake, organizer=NEW)
    with pytest.raises(NotFound):
        after.join_link(before.meeting_id, LEARNER)


def test_former_organizers_sessions_are_served_from_their_calendar(
    graph_spec: Any, recorder: Recorder, fake: GraphFake
) -> None:
    old = process(recorder, fake).create_session(spec())
    online = process(recorder, fake).online_meeting_id(old.meeting_id)
    fake.hold(online, START, START + timedelta(minutes=60), [])
    fake.recordings[online] = []
    first, second = old.occurrences[0].start_utc, old.occurrences[1].start_utc
    fake.hold_instance(old.meeting_id, first)
    fake.hold_instance(old.meeting_id, second)
    calls = len(_users(recorder))

    provider = process(recorder, fake, organizer=NEW, former_organizers=[ORGANIZER])
    link = provider.join_link(old.meeting_id, LEARNER)
    assert link.url == old.join_url
    assert provider.fetch_attendance(old.meeting_id) == []
    assert provider.list_recordings(old.meeting_id) == []
    updated = provider.update_session(old.meeting_id, spec(title="Design studio (kept)"))
    assert updated.meeting_id == old.meeting_id
    provider.move_occurrence(old.meeting_id, first.isoformat(), first + timedelta(hours=2), 60)
    provider.cancel_session(old.meeting_id, second.isoformat())
    assert provider.session_state(old.meeting_id, datetime(2026, 1, 1, tzinfo=UTC)) == "active"
    subscription = provider.subscribe(old.meeting_id, artifact="transcripts")
    assert subscription.organizer == ORGANIZER  # judged by that calendar at renewal
    old_calls = _users(recorder)[calls:]
    new = provider.create_session(spec(title="A new session"))
    new_calls = _users(recorder)[calls + len(old_calls) :]
    assert fake.owners[new.meeting_id] == NEW
    assert fake.events[old.meeting_id]["subject"] == "Design studio (kept)"
    # One look in today's calendar (404) and one in the earlier one find the session; every
    # later call for it goes to the earlier organizer's calendar, and the new session (created
    # and its online meeting found for its subscriptions) to today's, with no look-up.
    assert old_calls[:2] == [NEW, ORGANIZER]
    assert set(old_calls[2:]) == {ORGANIZER}
    assert new_calls == [NEW, NEW]
    # Each call as Graph's spec says (the spec's subset here has no ``/instances``).
    checked = [
        e
        for e in recorder.api_exchanges("graph.microsoft.com")
        if not e.request.url.path.endswith("/instances")
    ]
    assert validate_exchanges(graph_spec, checked) == len(checked)


def test_a_session_in_no_known_calendar_is_not_found_and_named(
    recorder: Recorder, fake: GraphFake
) -> None:
    provider = process(recorder, fake, organizer=NEW, former_organizers=[ORGANIZER])
    with pytest.raises(NotFound):
        provider.join_link("AAMkAGI2TG93AAA9999=", LEARNER)
    # today's organizer in the list too changes nothing: it is asked first anyway
    again = process(recorder, fake, organizer=NEW, former_organizers=[NEW, ORGANIZER])
    assert again.former_organizers == (ORGANIZER,)
