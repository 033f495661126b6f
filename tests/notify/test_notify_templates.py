"""The message templates: each kind renders complete text and accessible HTML, learner-provided
names are escaped in HTML only, times are the reader's local time, and the catalogs match the
templates."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import escape

from blendkit.notify import (
    AtRiskLearner,
    AtRiskNudge,
    BookingStarting,
    DeadlineApproaching,
    DigestEntry,
    InstructorDigest,
    ItemUnlocked,
    LearnerDigest,
    MessageContext,
    Recipient,
    RecordingReady,
    SessionMoved,
    SessionStarting,
    UpcomingSession,
    render_message,
)

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "blendkit" / "notify" / "locale"
NASTY = 'Zoë <script>alert("x")</script> & Co'

CONTEXTS: dict[str, MessageContext] = {
    "item_unlocked": ItemUnlocked(
        recipient_name=NASTY,
        course_title="BIO101",
        item_title="Cell membranes quiz",
        item_url="https://tool.example/items/quiz-2",
    ),
    "deadline_approaching": DeadlineApproaching(
        recipient_name=NASTY,
        course_title="BIO101",
        item_title="Pre-work: reading",
        item_url="https://tool.example/items/reading",
        due=datetime(2027, 3, 20, 22, 30, tzinfo=UTC),
        time_zone="Asia/Tokyo",
    ),
    "session_starting": SessionStarting(
        recipient_name=NASTY,
        course_title="BIO101",
        session_title="Week 3 live session",
        starts=datetime(2027, 3, 15, 17, 0, tzinfo=UTC),
        time_zone="America/New_York",
        join_url="https://meet.example/j/123?tk=personal-token&x=1",
    ),
    "booking_starting": BookingStarting(
        recipient_name=NASTY,
        course_title="BIO101",
        slot_title="Clinic: lab reports",
        host_name="Dr Rivera",
        starts=datetime(2027, 3, 15, 9, 30, tzinfo=UTC),
        time_zone="Asia/Kolkata",
        join_url="https://meet.example/j/987",
        location="Room 2.14",
    ),
    "recording_ready": RecordingReady(
        recipient_name=NASTY,
        course_title="BIO101",
        session_title="Week 3 live session",
        recording_url="https://meet.example/rec/123",
    ),
    "at_risk_nudge": AtRiskNudge(
        recipient_name=NASTY,
        course_title="BIO101",
        next_item_title="Lab report",
        next_item_url="https://tool.example/items/lab",
        days_inactive=9,
    ),
    "instructor_digest": InstructorDigest(
        recipient_name="Grace",
        course_title="BIO101",
        day=date(2027, 3, 15),
        time_zone="Asia/Kolkata",
        completions=12,
        at_risk=(AtRiskLearner(name=NASTY, reason="no activity for 9 days"),),
        upcoming=(UpcomingSession(title="Week 4", starts=datetime(2027, 3, 22, 17, tzinfo=UTC)),),
        course_url="https://tool.example/courses/bio101",
    ),
    "session_moved": SessionMoved(
        recipient_name=NASTY,
        course_title="BIO101",
        session_title="Week 3 live session",
        previous_start=datetime(2027, 3, 15, 17, 0, tzinfo=UTC),
        starts=datetime(2027, 3, 16, 23, 30, tzinfo=UTC),
        time_zone="Asia/Tokyo",
        join_url="https://meet.example/j/123?tk=personal-token&x=1",
    ),
    "learner_digest": LearnerDigest(
        recipient_name=NASTY,
        course_title="BIO101",
        entries=(
            DigestEntry(subject="New: Cell membranes quiz", text="It is open for you now."),
            DigestEntry(subject=f"Due soon: {NASTY}", text="Due on Friday."),
        ),
    ),
}

# What the reader must find in the text part alone (no HTML needed).
FACTS = {
    "item_unlocked": ["Cell membranes quiz", "BIO101", "https://tool.example/items/quiz-2"],
    "deadline_approaching": [
        "Pre-work: reading",
        "Sunday, March 21, 2027, 7:30 AM (Asia/Tokyo)",  # 22:30 UTC is the next morning there
        "https://tool.example/items/reading",
    ],
    "session_starting": [
        "Week 3 live session",
        "Monday, March 15, 2027, 1:00 PM (America/New_York)",  # EDT, after the March change
        "https://meet.example/j/123?tk=personal-token&x=1",
    ],
    "booking_starting": [
        "Clinic: lab reports",
        "Monday, March 15, 2027, 3:00 PM (Asia/Kolkata), hosted by Dr Rivera",
        "https://meet.example/j/987",
        "Where: Room 2.14",
        "cancel your booking",
    ],
    "recording_ready": ["missed", "Week 3 live session", "https://meet.example/rec/123"],
    "at_risk_nudge": ["for 9 days", "Lab report", "https://tool.example/items/lab"],
    "instructor_digest": [
        "12 items were completed",
        "1 learner is behind",
        f"{NASTY}: no activity for 9 days",
        "Week 4: Monday, March 22, 2027, 10:30 PM (Asia/Kolkata)",
        "https://tool.example/courses/bio101",
    ],
    "session_moved": [
        "Week 3 live session",
        "planned for Tuesday, March 16, 2027, 2:00 AM (Asia/Tokyo) has moved",
        "It now starts on Wednesday, March 17, 2027, 8:30 AM (Asia/Tokyo)",
        "https://meet.example/j/123?tk=personal-token&x=1",
    ],
    "learner_digest": [
        "2 updates from BIO101",
        "== New: Cell membranes quiz ==",
        "It is open for you now.",
        f"== Due soon: {NASTY} ==",
    ],
}


def spaced(text: str) -> str:
    """CLDR puts a narrow no-break space before AM/PM; the facts above use a plain one."""
    return text.replace("\u202f", " ")


def relative_luminance(hex_color: str) -> float:
    channels = [int(hex_color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, two: str) -> float:
    a, b = sorted((relative_luminance(one), relative_luminance(two)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def test_every_kind_has_a_context() -> None:
    shipped = {p.stem for p in (ROOT / "blendkit/notify/templates").glob("*.txt")}
    assert shipped == set(CONTEXTS) == set(FACTS)


@pytest.mark.parametrize("kind", sorted(CONTEXTS))
def test_the_text_part_is_complete_on_its_own(kind: str) -> None:
    rendered = render_message(CONTEXTS[kind])
    for fact in FACTS[kind]:
        assert fact in spaced(rendered.text), (kind, fact)
    assert "<" not in rendered.text.replace(NASTY, "")  # no markup leaks into plain text
    assert "&amp;" not in rendered.text
    assert rendered.subject
    assert "\n" not in rendered.subject


@pytest.mark.parametrize("kind", sorted(CONTEXTS))
def test_the_html_part_is_accessible_and_escaped(kind: str) -> None:
    html = render_message(CONTEXTS[kind]).html
    assert re.search(r'<html lang="en">', html)
    assert len(re.findall(r"<h1\b", html)) == 1
    assert "<table" not in html
    assert "<script>" not in html
    assert str(escape(NASTY)) in html
    colours = set(re.findall(r"(?<![-\w])color:(#[0-9a-f]{6})", html))
    assert colours
    background = re.findall(r"background-color:(#[0-9a-f]{6})", html)
    assert background == ["#ffffff"]
    for colour in colours:  # WCAG 2 AA for normal text
        assert contrast(colour, background[0]) >= 4.5, colour
    for url in re.findall(r"https://[^\s\"<]+", render_message(CONTEXTS[kind]).text):
        assert f'href="{escape(url)}"' in html  # every link of the text is a link here
    assert not re.search(r">\s*(click here|here|link)\s*<", html, re.IGNORECASE)


def test_the_session_message_carries_the_personal_join_link() -> None:
    rendered = render_message(CONTEXTS["session_starting"])
    assert spaced(rendered.subject) == "Live session Mar 15, 2027, 1:00 PM: Week 3 live session"
    message = rendered.to_message(Recipient(address="zoe@example.org"), key="k-1")
    assert "https://meet.example/j/123?tk=personal-token&x=1" in message.text
    assert message.html is not None
    assert "tk=personal-token&amp;x=1" in message.html


def test_a_booking_in_a_room_has_no_meeting_link() -> None:
    context = CONTEXTS["booking_starting"].model_copy(update={"join_url": None})
    rendered = render_message(context)
    assert spaced(rendered.subject) == "Office hours Mar 15, 2027, 3:00 PM: Clinic: lab reports"
    assert "Join the meeting" not in rendered.text
    assert "https://" not in rendered.text
    assert "Where: Room 2.14" in rendered.text


def test_local_times_follow_daylight_saving() -> None:
    before, after = (
        spaced(
            render_message(
                SessionStarting(
                    recipient_name="Ada",
                    course_title="BIO101",
                    session_title="Live",
                    starts=moment,
                    time_zone="America/New_York",
                    join_url="https://meet.example/j/1",
                )
            ).text
        )
        for moment in (datetime(2027, 3, 8, 17, tzinfo=UTC), datetime(2027, 3, 15, 17, tzinfo=UTC))
    )
    assert "12:00 PM (America/New_York)" in before  # EST, UTC-5
    assert "1:00 PM (America/New_York)" in after  # EDT, UTC-4


def test_half_and_quarter_hour_zones() -> None:
    for zone, shown in (("Asia/Kathmandu", "10:45 PM"), ("Australia/Adelaide", "3:30 AM")):
        text = render_message(
            DeadlineApproaching(
                recipient_name="Ada",
                course_title="BIO101",
                item_title="Essay",
                item_url="https://tool.example/e",
                due=datetime(2027, 3, 15, 17, tzinfo=UTC),
                time_zone=zone,
            )
        ).text
        assert f"{shown} ({zone})" in spaced(text)


@given(st.text(min_size=1, max_size=60).filter(lambda s: s.strip()))
def test_any_learner_name_is_escaped_in_html_and_kept_in_text(name: str) -> None:
    rendered = render_message(
        ItemUnlocked(
            recipient_name=name,
            course_title="BIO101",
            item_title="Quiz",
            item_url="https://tool.example/q",
        )
    )
    assert f"<p>Hello {escape(name)},</p>" in rendered.html
    assert f"Hello {name}," in rendered.text


@pytest.mark.parametrize("asked", ["en", "en_GB", "en-US", "fr", "zz"])
def test_languages_without_a_catalog_fall_back_to_english(asked: str) -> None:
    rendered = render_message(CONTEXTS["recording_ready"], locale=asked)
    assert rendered.locale == "en"
    assert rendered.subject == "Recording ready: Week 3 live session"


def test_the_catalogs_hold_every_template_string() -> None:
    method_map = [("**.txt", "jinja2"), ("**.html", "jinja2")]
    options = {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}
    found = {
        message
        for _, _, message, _, _ in extract_from_dir(
            str(ROOT / "blendkit/notify/templates"),
            method_map=method_map,
            options_map={"**.txt": options, "**.html": options},
        )
    }
    with (LOCALE / "messages.pot").open("rb") as pot:
        template = {m.id for m in read_po(pot) if m.id}
    with (LOCALE / "en/LC_MESSAGES/messages.po").open("rb") as po:
        english = [m for m in read_po(po, locale="en") if m.id]
    assert template == found, "messages.pot is stale: see blendkit/notify/locale/babel.cfg"
    assert {m.id for m in english} == template
    assert all(
        m.string and all(m.string if isinstance(m.string, tuple) else [m.string]) for m in english
    )


def _fresh(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_importing_notify_loads_neither_jinja2_nor_babel() -> None:
    result = _fresh(
        """
        import sys
        import blendkit.notify
        print(sorted(m for m in ("jinja2", "babel") if m in sys.modules))
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["[]"]


def test_rendering_without_the_extra_names_it() -> None:
    result = _fresh(
        """
        import sys
        sys.modules["jinja2"] = None  # as if it were not installed
        from blendkit.notify import RecordingReady, render_message
        context = RecordingReady(recipient_name="A", course_title="C", session_title="S",
                                 recording_url="https://r.example/1")
        try:
            render_message(context)
        except ModuleNotFoundError as exc:
            print(exc.name, "|", exc)
        """
    )
    assert result.stdout.startswith("jinja2 |"), result.stderr
    assert "pip install 'blendkit[notify]'" in result.stdout
