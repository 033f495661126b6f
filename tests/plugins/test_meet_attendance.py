"""Meet attendance: conference records → participants → sessions → blendkit's attendance report.

Expected minutes are worked out by hand from the timelines written next to each case; every
request is checked against Google's discovery documents by the fake.
"""

from __future__ import annotations

import functools
import itertools
import logging
from datetime import timedelta
from typing import Any

import httpx
import pytest
from blendkit_meet._attendance import (
    CachedLookup,
    ConferenceRecord,
    DirectoryLookup,
    LookupProblem,
    MeetAttendance,
    PeopleLookup,
    UserEmail,
    conference_for,
    parse_google_time,
    user_lookup,
)
from hypothesis import given
from hypothesis import strategies as st

from blendkit.sessions import (
    Learner,
    MatchKey,
    Occurrence,
    ParticipantRecord,
    SessionRecords,
    UnmatchedReason,
    build_attendance_report,
    import_attendance,
)
from blendkit.store import Store
from tests.plugins import meet_records_data as data
from tests.plugins.google_discovery import shaped

OCCURRENCE = Occurrence(
    index=0,
    start_utc=data.START,
    end_utc=data.START + timedelta(minutes=90),
    occurrence_id="2026-11-02T15:00:00+00:00",
)
ADA = Learner(id="ada", name="Ada Lovelace", email="ada@school.edu")
BOB = Learner(id="bob", name="Bob Byte", email="bob@school.edu")


def _directory(fake: data.MeetRecordsFake, users: dict[str, str]) -> None:
    for user_id, email in users.items():
        fake.objects[f"/admin/directory/v1/users/{user_id}"] = data.directory_user(email, user_id)


def _attendance(fake: data.MeetRecordsFake) -> MeetAttendance:
    api = fake.api()
    return MeetAttendance(api, CachedLookup(DirectoryLookup(api)))


def test_three_sessions_on_two_devices_are_one_learner_with_merged_minutes() -> None:
    fake = data.MeetRecordsFake(page_size=2)
    ada = data.signed_in("p1", "111", "Ada L.")
    bob = data.signed_in("p2", "222", "Bob")
    people = [
        # Ada: laptop 0-40, phone 30-60 (overlap), laptop again 70-100 (clipped at 90) → 80.
        (ada, [(0, 40), (30, 60), (70, 100)]),
        # Bob: joins at 5, no end reported; the sitting ended at 80 → 75.
        (bob, [(5, None)]),
        (data.anonymous("p3", "Visitor"), [(0, 20)]),
        (data.phone("p4", "+1 555-***-**12"), [(10, 30), (40, 50)]),
    ]
    data.serve_meeting(fake, people, [data.conference(end=80)])
    _directory(fake, {"111": "Ada@School.edu", "222": "bob@school.edu"})

    records = _attendance(fake).fetch(data.CODE, OCCURRENCE.occurrence_id)
    report = build_attendance_report(records, [ADA, BOB], OCCURRENCE, meeting_id="ev1")

    assert len(records) == 7
    assert {r.occurrence_id for r in records} == {OCCURRENCE.occurrence_id}
    minutes = {a.learner_id: round(a.minutes_present, 6) for a in report.attendance}
    assert minutes == {"ada": 80.0, "bob": 75.0}
    assert {a.learner_id: a.matched_by for a in report.attendance} == {
        "ada": MatchKey.EMAIL,
        "bob": MatchKey.EMAIL,
    }
    ada_attendance = report.for_learner("ada")
    assert ada_attendance is not None
    assert [(i.start, i.end) for i in ada_attendance.intervals] == [
        (data.START, data.START + timedelta(minutes=60)),
        (data.START + timedelta(minutes=70), OCCURRENCE.end_utc),
    ]
    unmatched = sorted((u.display_name, u.reason, u.minutes_present) for u in report.unmatched)
    assert unmatched == [
        ("+1 555-***-**12", UnmatchedReason.PHONE, pytest.approx(30)),
        ("Visitor", UnmatchedReason.ANONYMOUS, pytest.approx(20)),
    ]
    # Every list was read past its first page; the conference was found by its meeting code.
    assert any(r.url.params.get("pageToken") for r in fake.requests)
    (listing, *_) = [r for r in fake.requests if r.url.path == "/v2/conferenceRecords"]
    assert listing.url.params["filter"] == f'space.meeting_code = "{data.CODE}"'


def test_a_session_still_open_in_a_running_sitting_counts_to_the_occurrence_end() -> None:
    fake = data.MeetRecordsFake()
    ada = data.signed_in("p1", "111", "Ada")
    data.serve_meeting(fake, [(ada, [(30, None)])], [data.conference(end=None)])
    _directory(fake, {"111": "ada@school.edu"})
    records = _attendance(fake).fetch(data.CODE)
    assert records[0].leave_time is None
    report = build_attendance_report(records, [ADA], OCCURRENCE, meeting_id="ev1")
    assert report.attendance[0].minutes_present == pytest.approx(60)


def test_display_names_never_match_a_learner() -> None:
    fake = data.MeetRecordsFake()
    data.serve_meeting(fake, [(data.anonymous("p1", "Ada Lovelace"), [(0, 90)])])
    records = _attendance(fake).fetch(data.CODE)
    report = build_attendance_report(records, [ADA], OCCURRENCE, meeting_id="ev1")
    assert report.attendance[0].minutes_present == 0
    assert [u.reason for u in report.unmatched] == [UnmatchedReason.ANONYMOUS]
    assert records[0].occurrence_id == data.RECORD  # untagged import: the sitting's name


@pytest.mark.parametrize(
    ("status", "problem", "advice", "reason"),
    [
        (
            404,
            LookupProblem.NOT_FOUND,
            "outside the Workspace domain",
            UnmatchedReason.UNKNOWN_ACCOUNT,
        ),
        (403, LookupProblem.DENIED, "admin.directory.user.readonly", UnmatchedReason.LOOKUP_DENIED),
    ],
)
def test_a_directory_refusal_leaves_the_account_unmatched_with_advice(
    status: int,
    problem: LookupProblem,
    advice: str,
    reason: UnmatchedReason,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = data.MeetRecordsFake()
    data.serve_meeting(fake, [(data.signed_in("p1", "999", "Stranger"), [(0, 30)])])
    path = "/admin/directory/v1/users/999"
    fake.failures.append(
        lambda r: (
            httpx.Response(status, json={"error": {"code": status}}) if r.url.path == path else None
        )
    )
    api = fake.api()
    lookup = DirectoryLookup(api)

    with caplog.at_level(logging.WARNING, logger="blendkit_meet.attendance"):
        records = MeetAttendance(api, lookup).fetch(data.CODE)
    report = build_attendance_report(records, [ADA], OCCURRENCE, meeting_id="ev1")

    assert [(r.provider_user_id, r.email) for r in records] == [("999", None)]
    assert [(u.display_name, u.reason) for u in report.unmatched] == [("Stranger", reason)]
    assert problem.value in caplog.text
    assert advice in caplog.text


def test_a_google_id_known_to_the_roster_matches_without_a_lookup() -> None:
    fake = data.MeetRecordsFake()
    data.serve_meeting(fake, [(data.signed_in("p1", "111", "Ada"), [(0, 45)])])
    records = MeetAttendance(fake.api(), None).fetch(data.CODE)
    known = ADA.model_copy(update={"provider_user_ids": ("111",), "email": None})
    report = build_attendance_report(records, [known], OCCURRENCE, meeting_id="ev1")
    assert report.attendance[0].matched_by is MatchKey.PROVIDER_USER_ID
    assert report.attendance[0].minutes_present == pytest.approx(45)
    assert not any("admin" in path for path in fake.paths())


class _CountingLookup:
    def __init__(self, answers: dict[str, UserEmail]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    def email_for(self, user_id: str) -> UserEmail:
        self.asked.append(user_id)
        return self.answers[user_id]


def test_cached_lookup_hits_expires_evicts_and_never_keeps_refusals() -> None:
    now = [0.0]
    inner = _CountingLookup(
        {
            "1": UserEmail("1", email="a@school.edu"),
            "2": UserEmail("2", problem=LookupProblem.NOT_FOUND),
            "3": UserEmail("3", problem=LookupProblem.DENIED),
        }
    )
    cache = CachedLookup(inner, ttl_seconds=60, capacity=2, clock=lambda: now[0])
    for _ in range(3):
        assert cache.email_for("1").email == "a@school.edu"
        assert cache.email_for("2").problem is LookupProblem.NOT_FOUND
    assert inner.asked == ["1", "2"]
    cache.email_for("3")
    cache.email_for("3")
    assert inner.asked == ["1", "2", "3", "3"]  # a refusal is asked again next time
    now[0] = 61.0
    cache.email_for("1")
    assert inner.asked[-1] == "1"  # expired
    cache.email_for("2")
    cache.email_for("1")  # "2" and "1" are the two kept
    assert inner.asked.count("1") == 2
    with pytest.raises(ValueError, match="positive"):
        CachedLookup(inner, capacity=0)


def test_the_directory_is_asked_once_per_account_across_imports() -> None:
    fake = data.MeetRecordsFake()
    ada = data.signed_in("p1", "111", "Ada")
    data.serve_meeting(fake, [(ada, [(0, 10), (20, 30), (40, 50)])])
    _directory(fake, {"111": "ada@school.edu"})
    attendance = _attendance(fake)
    attendance.fetch(data.CODE)
    attendance.fetch(data.CODE)
    assert fake.paths().count("/admin/directory/v1/users/111") == 1


def test_people_lookup_takes_the_primary_address() -> None:
    fake = data.MeetRecordsFake()
    source = shaped("people.v1.json", "FieldMetadata", primary=True)
    other = shaped("people.v1.json", "FieldMetadata", primary=False)
    fake.objects["/v1/people/111"] = shaped(
        "people.v1.json",
        "Person",
        resourceName="people/111",
        emailAddresses=[
            shaped("people.v1.json", "EmailAddress", value="old@home.org", metadata=other),
            shaped("people.v1.json", "EmailAddress", value="ada@school.edu", metadata=source),
        ],
    )
    lookup = PeopleLookup(fake.api())
    assert lookup.email_for("111") == UserEmail("111", email="ada@school.edu")
    assert fake.requests[0].url.params["personFields"] == "emailAddresses"
    missing = lookup.email_for("404")
    assert missing.problem is LookupProblem.NOT_FOUND


def test_throttling_and_busy_answers_are_waited_out() -> None:
    fake = data.MeetRecordsFake()
    data.serve_meeting(fake, [(data.signed_in("p1", "111", "Ada"), [(0, 30)])])
    _directory(fake, {"111": "ada@school.edu"})
    participants = f"/v2/{data.RECORD}/participants"
    fake.failures += [
        lambda r: (
            httpx.Response(429, headers={"Retry-After": "7"})
            if r.url.path == participants
            else None
        ),
        lambda r: httpx.Response(503) if r.url.path == participants else None,
    ]
    records = _attendance(fake).fetch(data.CODE)
    assert [r.email for r in records] == ["ada@school.edu"]
    assert fake.sleeps[0] == 7
    assert len(fake.sleeps) == 2
    assert fake.paths().count(participants) == 3


def test_an_expired_token_on_page_two_is_refreshed_and_the_import_continues() -> None:
    fake = data.MeetRecordsFake(page_size=1)
    people = [(data.signed_in(f"p{i}", f"{i}", f"P{i}"), [(i, i + 10)]) for i in range(3)]
    data.serve_meeting(fake, people)
    _directory(fake, {f"{i}": f"p{i}@school.edu" for i in range(3)})
    participants = f"/v2/{data.RECORD}/participants"
    fake.expire_after[participants] = 1  # every token issued so far dies after page one

    records = _attendance(fake).fetch(data.CODE)

    assert sorted(r.email or "" for r in records) == [f"p{i}@school.edu" for i in range(3)]
    assert len(fake.google.grants) == 2  # one new JWT grant after the 401
    page_two = [
        r for r in fake.requests if r.url.path == participants and r.url.params.get("pageToken")
    ]
    first, retried = (r.headers["authorization"] for r in page_two[:2])
    assert first != retried
    assert [r.url.params["pageToken"] for r in page_two] == ["1", "1", "2"]


def test_the_sitting_is_chosen_by_name_start_or_calendar_instance() -> None:
    first = ConferenceRecord("conferenceRecords/a", data.START, None)
    week_two = data.START + timedelta(days=7)
    second = ConferenceRecord("conferenceRecords/b", week_two + timedelta(minutes=3), None)
    sittings = [first, second]
    assert conference_for(sittings, "conferenceRecords/a") is first
    assert conference_for(sittings, week_two.isoformat()) is second
    assert conference_for(sittings, "ev123_20261109T150000Z") is second
    assert conference_for(sittings, (data.START + timedelta(days=3)).isoformat()) is None
    assert conference_for(sittings, "not-a-time") is None


def test_an_occurrence_reads_only_its_own_sitting() -> None:
    fake = data.MeetRecordsFake()
    other = data.conference("conferenceRecords/rec-0", start=-7 * 24 * 60, end=-7 * 24 * 60 + 90)
    data.serve_meeting(
        fake, [(data.signed_in("p1", "111", "Ada"), [(0, 30)])], [other, data.conference()]
    )
    _directory(fake, {"111": "ada@school.edu"})
    records = _attendance(fake).fetch(data.CODE, "ev1_20261102T150000Z")
    assert len(records) == 1
    assert not any("rec-0" in path for path in fake.paths())
    assert _attendance(fake).fetch(data.CODE, "2025-01-01T00:00:00Z") == []


def test_google_timestamps_with_nanoseconds_parse() -> None:
    assert parse_google_time("2026-11-02T15:00:00.123456789Z") == data.START.replace(
        microsecond=123456
    )
    assert parse_google_time("2026-11-02T15:00:00Z") == data.START
    assert parse_google_time("yesterday") is None
    assert parse_google_time(None) is None


@functools.cache
def _property_fake() -> tuple[data.MeetRecordsFake, MeetAttendance]:
    """One fake for every example: its token and the directory answer are reused."""
    fake = data.MeetRecordsFake(page_size=3)
    _directory(fake, {"111": "ada@school.edu"})
    return fake, _attendance(fake)


_SPANS = st.lists(
    st.tuples(st.integers(0, 120), st.integers(0, 60)).map(lambda p: (p[0], p[0] + p[1])),
    min_size=1,
    max_size=8,
)


@given(spans=_SPANS, data_=st.data())
def test_merged_minutes_are_the_union_of_sessions_in_any_order(
    spans: list[tuple[int, int]], data_: Any
) -> None:
    fake, attendance = _property_fake()
    ordered = data_.draw(st.permutations(spans))
    data.serve_meeting(fake, [(data.signed_in("p1", "111", "Ada"), ordered)])
    records = attendance.fetch(data.CODE)
    report = build_attendance_report(records, [ADA], OCCURRENCE, meeting_id="ev1")

    covered = {minute for start, end in spans for minute in range(start, min(end, 90))}
    assert report.attendance[0].minutes_present == pytest.approx(len(covered))
    intervals = report.attendance[0].intervals
    assert all(a.end < b.start for a, b in itertools.pairwise(intervals))


def test_the_lookup_setting_picks_directory_people_or_none() -> None:
    fake = data.MeetRecordsFake()
    _directory(fake, {"111": "ada@school.edu"})
    fake.objects["/v1/people/111"] = shaped(
        "people.v1.json",
        "Person",
        emailAddresses=[shaped("people.v1.json", "EmailAddress", value="ada@home.org")],
    )
    api = fake.api()
    directory, people = user_lookup("directory", api), user_lookup("people", api)
    assert directory is not None
    assert people is not None
    assert directory.email_for("111").email == "ada@school.edu"
    assert people.email_for("111").email == "ada@home.org"
    assert user_lookup("none", api) is None


class _Sessions:
    """The two members import_attendance uses, delegating as MeetProvider does."""

    name = "meet"

    def __init__(self, attendance: MeetAttendance) -> None:
        self.attendance = attendance

    def fetch_attendance(
        self, meeting_id: str, occurrence_id: str | None = None
    ) -> list[ParticipantRecord]:
        del meeting_id
        return self.attendance.fetch(data.CODE, occurrence_id)


def test_reimporting_a_calendar_instance_through_the_store_counts_nothing_twice(
    store: Store,
) -> None:
    fake = data.MeetRecordsFake()
    data.serve_meeting(fake, [(data.signed_in("p1", "111", "Ada"), [(0, 40), (30, 60)])])
    _directory(fake, {"111": "ada@school.edu"})
    occurrence = OCCURRENCE.model_copy(update={"occurrence_id": "ev1_20261102T150000Z"})
    provider: Any = _Sessions(_attendance(fake))
    records = SessionRecords(store)

    reports = [
        import_attendance(provider, "ev1", occurrence, [ADA], records=records) for _ in range(2)
    ]

    assert reports[0] == reports[1]
    assert reports[0].attendance[0].minutes_present == pytest.approx(60)
    stored = records.participants("meet", "ev1", occurrence.occurrence_id)
    assert len(stored) == 2
