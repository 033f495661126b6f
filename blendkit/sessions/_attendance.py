"""Attendance: merge join/leave intervals and tie participants to roster learners (no I/O).

Rules (documented in docs/sessions/overview.md):

- Intervals are clipped to the occurrence; a record without a leave time counts until the end of
  the occurrence. Rejoins, several devices and overlaps are merged, so nobody is present for more
  than the occurrence lasts.
- A participant is tied to a learner by registrant id (from the learner's personal join link),
  then by provider user id, then by e-mail address from the LTI roster (trimmed, case-insensitive).
  Display names are never used: a participant no identifier ties to a learner is reported as
  unmatched, with the reason.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from operator import itemgetter

from blendkit.sessions._models import (
    Attendance,
    AttendanceReport,
    Interval,
    JoinLink,
    Learner,
    MatchKey,
    Occurrence,
    ParticipantRecord,
    UnmatchedParticipant,
    UnmatchedReason,
)

__all__ = ["LearnerRoster", "build_attendance_report", "merge_intervals", "normalise_email"]

_Span = tuple[float, float, datetime, datetime]
"""Seconds from the occurrence start to the span's start and end, then the same two instants."""
_BOUNDS = itemgetter(0, 1)


def normalise_email(email: str | None) -> str | None:
    """The form e-mail addresses are compared in: trimmed and case-folded (None when blank)."""
    if email is None:
        return None
    key = email.strip().casefold()
    return key or None


def _merge_spans(spans: list[_Span]) -> list[_Span]:
    """Union of non-empty half-open spans, sorted, without overlapping or touching pieces."""
    spans.sort(key=_BOUNDS)
    merged: list[_Span] = []
    for span in spans:
        if merged and span[0] <= merged[-1][1]:
            if span[1] > merged[-1][1]:
                last = merged[-1]
                merged[-1] = (last[0], span[1], last[2], span[3])
        else:
            merged.append(span)
    return merged


def _clipped_spans(records: Iterable[ParticipantRecord], occurrence: Occurrence) -> list[_Span]:
    """Each record's interval cut to the occurrence (open ones end with it); empty ones dropped."""
    start, end = occurrence.start_utc, occurrence.end_utc
    length = (end - start).total_seconds()
    spans: list[_Span] = []
    for record in records:
        joined, joined_at = (record.join_time - start).total_seconds(), record.join_time
        if joined < 0:
            joined, joined_at = 0.0, start
        leave = record.leave_time
        if leave is None:
            left, left_at = length, end
        else:
            left, left_at = (leave - start).total_seconds(), leave
            if left > length:
                left, left_at = length, end
        if left > joined:
            spans.append((joined, left, joined_at, left_at))
    return spans


def _as_intervals(spans: list[_Span]) -> tuple[Interval, ...]:
    return tuple(Interval(start=s[2], end=s[3]) for s in spans)


def merge_intervals(
    records: Iterable[ParticipantRecord], occurrence: Occurrence
) -> tuple[Interval, ...]:
    """The union of the records' intervals inside ``occurrence`` (open records end with it)."""
    return _as_intervals(_merge_spans(_clipped_spans(records, occurrence)))


class LearnerRoster:
    """Lookup tables from provider identifiers to learner ids, built once per report."""

    def __init__(self, learners: Iterable[Learner], join_links: Iterable[JoinLink] = ()) -> None:
        self.learners: dict[str, Learner] = {}
        self.by_user_id: dict[str, str] = {}
        emails: dict[str, set[str]] = defaultdict(set)
        for learner in learners:
            self.learners[learner.id] = learner
            for user_id in learner.provider_user_ids:
                self.by_user_id[user_id] = learner.id
            email = normalise_email(learner.email)
            if email is not None:
                emails[email].add(learner.id)
        self.by_registrant: dict[str, str] = {
            link.registrant_id: link.learner_id
            for link in join_links
            if link.registrant_id and link.learner_id in self.learners
        }
        self.by_email = {email: ids for email, ids in emails.items() if len(ids) == 1}
        self.ambiguous_emails = {email for email, ids in emails.items() if len(ids) > 1}

    def match(self, record: ParticipantRecord) -> tuple[str, MatchKey] | UnmatchedReason:
        """The learner id and the key that tied it, or the reason nothing did."""
        if record.registrant_id is not None and record.registrant_id in self.by_registrant:
            return self.by_registrant[record.registrant_id], MatchKey.REGISTRANT_ID
        if record.provider_user_id is not None and record.provider_user_id in self.by_user_id:
            return self.by_user_id[record.provider_user_id], MatchKey.PROVIDER_USER_ID
        email = normalise_email(record.email)
        if email is not None:
            learner_ids = self.by_email.get(email)
            if learner_ids is not None:
                return next(iter(learner_ids)), MatchKey.EMAIL
            if email in self.ambiguous_emails:
                return UnmatchedReason.AMBIGUOUS_EMAIL
        if record.unidentified is not None:
            return record.unidentified
        if record.registrant_id is None and record.provider_user_id is None and email is None:
            return UnmatchedReason.NO_IDENTIFIER
        return UnmatchedReason.NOT_IN_ROSTER


_STRENGTH = {MatchKey.REGISTRANT_ID: 0, MatchKey.PROVIDER_USER_ID: 1, MatchKey.EMAIL: 2}


def _unmatched_key(record: ParticipantRecord) -> tuple[str | None, ...]:
    identity = (record.registrant_id, record.provider_user_id, normalise_email(record.email))
    if identity == (None, None, None):
        # Nothing identifies the person: keep each connection apart rather than guess by name.
        return (None, None, None, record.connection_id or record.display_name)
    return identity


def build_attendance_report(
    records: Iterable[ParticipantRecord],
    roster: Sequence[Learner] | LearnerRoster,
    occurrence: Occurrence,
    *,
    meeting_id: str,
    join_links: Iterable[JoinLink] = (),
) -> AttendanceReport:
    """Attendance of every roster learner in ``occurrence`` plus the unmatched participants.

    Identical records (a page delivered twice) change nothing. Learners who never joined appear
    with zero minutes and ``matched_by=None``.
    ``matched_by`` is the strongest key that tied any of a learner's records.
    """
    index = roster if isinstance(roster, LearnerRoster) else LearnerRoster(roster, join_links)
    length = occurrence.duration.total_seconds()
    by_learner: dict[str, list[ParticipantRecord]] = defaultdict(list)
    keys: dict[str, MatchKey] = {}
    unmatched: dict[tuple[str | None, ...], list[ParticipantRecord]] = defaultdict(list)
    reasons: dict[tuple[str | None, ...], UnmatchedReason] = {}
    for record in records:
        matched = index.match(record)
        if isinstance(matched, UnmatchedReason):
            group = _unmatched_key(record)
            unmatched[group].append(record)
            reasons[group] = matched
            continue
        learner_id, how = matched
        by_learner[learner_id].append(record)
        if learner_id not in keys or _STRENGTH[how] < _STRENGTH[keys[learner_id]]:
            keys[learner_id] = how
    attendance = []
    for learner_id in sorted(index.learners):
        own = by_learner.get(learner_id, [])
        spans = _merge_spans(_clipped_spans(own, occurrence))
        seconds = sum(span[1] - span[0] for span in spans)
        attendance.append(
            Attendance(
                learner_id=learner_id,
                intervals=_as_intervals(spans),
                minutes_present=seconds / 60,
                percent_present=min(100.0, 100 * seconds / length),
                first_join=min((r.join_time for r in own), default=None),
                last_leave=max((r.leave_time or occurrence.end_utc for r in own), default=None),
                matched_by=keys.get(learner_id),
            )
        )
    missing = [
        _describe_unmatched(group, reasons[group], group_records, occurrence)
        for group, group_records in unmatched.items()
    ]
    missing.sort(
        key=lambda u: (
            u.reason,
            u.display_name,
            u.email or "",
            u.provider_user_id or "",
            u.registrant_id or "",
            u.minutes_present,
            u.records,
        )
    )
    return AttendanceReport(
        meeting_id=meeting_id,
        occurrence=occurrence,
        attendance=tuple(attendance),
        unmatched=tuple(missing),
    )


def _describe_unmatched(
    group: tuple[str | None, ...],
    reason: UnmatchedReason,
    records: list[ParticipantRecord],
    occurrence: Occurrence,
) -> UnmatchedParticipant:
    spans = _merge_spans(_clipped_spans(records, occurrence))
    names = sorted({r.display_name for r in records if r.display_name})
    return UnmatchedParticipant(
        display_name=", ".join(names),
        email=min((r.email for r in records if r.email), default=None),
        provider_user_id=group[1],
        registrant_id=group[0],
        reason=reason,
        minutes_present=sum(span[1] - span[0] for span in spans) / 60,
        records=len(dict.fromkeys(records)),  # a record delivered twice counts once
    )
