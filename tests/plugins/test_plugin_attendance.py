"""Attendance end to end: vendor participant pages → plugin records → blendkit's merge and mapping.

Expected minutes are worked out by hand from the timelines written next to each case.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from blendkit_teams import TeamsProvider
from blendkit_zoom import ZoomProvider

from blendkit.sessions import (
    Learner,
    MatchKey,
    UnmatchedReason,
    build_attendance_report,
)
from tests.fence import public_fence
from tests.plugins import graph_fake, zoom_data, zoom_fake
from tests.plugins.vendor_contract import Recorder

ZOOM_UUID = zoom_data.UUID_WITH_SLASHES


def test_zoom_participants_pages_become_attendance_per_learner() -> None:
    fake = zoom_fake.ZoomFake()
    provider = ZoomProvider(
        fence=public_fence(), settings=zoom_data.zoom_settings(), client=Recorder(fake).client()
    )
    meeting = provider.create_session(zoom_data.weekly_spec(recurrence=None))
    (occurrence,) = meeting.occurrences  # 15:00-16:30 UTC, 90 minutes
    ada = Learner(id="ada", name="Ada Lovelace", email="ada@example.edu")
    bob = Learner(id="bob", name="Bob Byte", email="bob@example.edu")
    cyd = Learner(id="cyd", name="Cyd Charisse", email="cyd@example.edu")
    dee = Learner(id="dee", name="Dee Dee", email="dee@example.edu")
    links = [provider.join_link(meeting.meeting_id, who) for who in (ada, cyd, dee)]
    reg = {link.learner_id: link.registrant_id or "" for link in links}

    def at(minutes: float) -> datetime:
        return zoom_data.START + timedelta(minutes=minutes)

    row = zoom_data.participant_row
    rows = [
        # Ada: laptop 0-40, phone 30-60 (overlap), rejoins 70-100 (clipped at 90) → 60 + 20 = 80.
        row(name="Ada", join=at(0), leave=at(40), registrant_id=reg["ada"], connection="1"),
        row(
            name="Ada (phone)", join=at(30), leave=at(60), registrant_id=reg["ada"], connection="2"
        ),
        row(name="Ada", join=at(70), leave=at(100), registrant_id=reg["ada"], connection="3"),
        row(
            name="Ada",
            join=at(-10),
            leave=at(0),
            registrant_id=reg["ada"],
            status="in_waiting_room",
        ),
        # Bob registered nowhere; his Zoom email differs only in case → matched by email, 5-35.
        row(name="Bob", join=at(5), leave=at(35), email="Bob@Example.EDU", connection="4"),
        # A dial-in guest with no identifier, and someone outside the roster.
        row(name="Phone 555", join=at(0), leave=at(20), connection="5"),
        row(name="Visitor", join=at(10), leave=at(15), email="visitor@else.org", connection="6"),
    ]
    # Dee reconnects 300 times in ten-second pieces from 0 to 50 minutes: more than one page.
    rows += [
        row(
            name="Dee",
            join=at(i / 6),
            leave=at((i + 1) / 6),
            registrant_id=reg["dee"],
            connection=f"d{i}",
        )
        for i in range(300)
    ]
    fake.hold(int(meeting.meeting_id), ZOOM_UUID, zoom_data.START, rows)

    records = provider.fetch_attendance(meeting.meeting_id, ZOOM_UUID)
    report = build_attendance_report(
        records, [ada, bob, cyd, dee], occurrence, meeting_id=meeting.meeting_id, join_links=links
    )

    assert len(records) == len(rows) - 1  # the waiting-room row is not attendance
    minutes = {a.learner_id: round(a.minutes_present, 6) for a in report.attendance}
    assert minutes == {"ada": 80.0, "bob": 30.0, "cyd": 0.0, "dee": 50.0}
    by = {a.learner_id: a.matched_by for a in report.attendance}
    assert by == {
        "ada": MatchKey.REGISTRANT_ID,
        "bob": MatchKey.EMAIL,
        "cyd": None,
        "dee": MatchKey.REGISTRANT_ID,
    }
    ada_attendance = report.for_learner("ada")
    assert ada_attendance is not None
    assert ada_attendance.percent_present == pytest.approx(100 * 80 / 90)
    reasons = sorted((u.display_name, u.reason) for u in report.unmatched)
    assert reasons == [
        ("Phone 555", UnmatchedReason.NO_IDENTIFIER),
        ("Visitor", UnmatchedReason.NOT_IN_ROSTER),
    ]


def test_teams_attendance_records_become_attendance_per_learner() -> None:
    fake = graph_fake.GraphFake(page_size=2)
    provider = TeamsProvider(
        fence=public_fence(), settings=graph_fake.teams_settings(), client=Recorder(fake).client()
    )
    meeting = provider.create_session(graph_fake.spec(recurrence=None))
    (occurrence,) = meeting.occurrences  # 09:00-10:00 UTC, 60 minutes
    online = provider.online_meeting_id(meeting.meeting_id)
    ada_id = "3f1b2c4d-0000-4000-8000-00000000ada0"
    ada = Learner(id="ada", email="ada@contoso.edu", provider_user_ids=(ada_id,))
    bob = Learner(id="bob", email="bob@contoso.edu")
    cyd = Learner(id="cyd", email="cyd@contoso.edu")

    def at(minutes: float) -> datetime:
        return graph_fake.START + timedelta(minutes=minutes)

    record = graph_fake.attendance_record
    people = [
        # Ada, signed in (identity id known to the roster), leaves and rejoins: 0-25 + 30-60 = 55.
        record(
            "r1",
            name="Ada",
            user_id=ada_id,
            email="ADA@contoso.edu",
            intervals=[(at(0), at(25)), (at(30), at(65))],
        ),
        # Bob, signed in with an id the roster does not know, matched by email: 10-20.
        record(
            "r2",
            name="Bob",
            user_id="9d9d9d9d-0000-4000-8000-000000000b0b",
            email="bob@contoso.edu",
            intervals=[(at(10), at(20))],
        ),
        # An anonymous guest and an external user.
        record("r3", name="Guest (Unverified)", intervals=[(at(0), at(60))]),
        record(
            "r4",
            name="Partner",
            user_id="ext-1",
            email="p@fabrikam.com",
            intervals=[(at(5), at(6))],
        ),
    ]
    report_id = fake.hold(online, at(0), at(60), people)

    records = provider.fetch_attendance(meeting.meeting_id, report_id)
    report = build_attendance_report(
        records, [ada, bob, cyd], occurrence, meeting_id=meeting.meeting_id
    )

    minutes = {a.learner_id: round(a.minutes_present, 6) for a in report.attendance}
    assert minutes == {"ada": 55.0, "bob": 10.0, "cyd": 0.0}
    by = {a.learner_id: a.matched_by for a in report.attendance}
    assert by == {"ada": MatchKey.PROVIDER_USER_ID, "bob": MatchKey.EMAIL, "cyd": None}
    reasons = sorted((u.display_name, u.reason) for u in report.unmatched)
    assert reasons == [
        ("Guest (Unverified)", UnmatchedReason.NO_IDENTIFIER),
        ("Partner", UnmatchedReason.NOT_IN_ROSTER),
    ]
