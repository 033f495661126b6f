"""Rubric text round trips, file type recognition, and the settings the peer-workshop template
starts from."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blendkit import CourseInputInvalid
from blendkit.progression import peer_workshop
from blendkit.review import (
    Criterion,
    Level,
    Rubric,
    check_link,
    display_name,
    rubric_from_text,
    rubric_to_text,
    sniff,
    starter_settings,
)

words = st.text(
    st.characters(
        min_codepoint=33,
        max_codepoint=0x2FF,
        # Space separators (U+00A0 …) are whitespace to str.strip: a word is never blank.
        exclude_categories=("Cc", "Zs"),
        exclude_characters="#[]:",
    ),
    min_size=1,
    max_size=12,
)
descriptions = st.lists(words, min_size=1, max_size=4).map(" ".join)
levels = st.builds(Level, points=st.integers(0, 100).map(float), description=descriptions)
criteria = st.builds(
    Criterion,
    id=st.from_regex(r"[a-z0-9][a-z0-9_-]{0,10}", fullmatch=True),
    title=descriptions,
    levels=st.lists(levels, min_size=2, max_size=5).map(tuple),
    comment=st.booleans(),
)
rubrics = st.builds(
    Rubric,
    criteria=st.lists(criteria, min_size=1, max_size=4, unique_by=lambda c: c.id).map(tuple),
    general_comment=st.booleans(),
)


@settings(max_examples=60, deadline=None)
@given(rubrics)
def test_rubric_text_round_trips(rubric: Rubric) -> None:
    assert rubric_from_text(rubric_to_text(rubric)) == rubric


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_rubric_text_never_crashes(text: str) -> None:
    """Any text gives a rubric or a refusal naming a line, never another exception."""
    refused: CourseInputInvalid | None = None
    try:
        rubric = rubric_from_text(text)
    except CourseInputInvalid as exc:
        refused = exc
    if refused is None:
        assert rubric.criteria
    else:
        assert refused.code == "courses.review_rubric"
        assert refused.message.startswith("rubric line ")


def test_rubric_refusal_names_the_line() -> None:
    with pytest.raises(CourseInputInvalid, match="rubric line 3"):
        rubric_from_text("criterion a: A\n  0: none\nnonsense\n")
    with pytest.raises(CourseInputInvalid, match="rubric line 1"):
        rubric_from_text("criterion a: A\n  0: only one level\n")


def _docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"%PDF-1.7\n", "pdf"),
        (b"\x89PNG\r\n\x1a\n....", "png"),
        (b"\xff\xd8\xff\xe0....", "jpeg"),
        (_docx(), "docx"),
        ("Plain words, ünïcode too.".encode(), "txt"),
        (b"<!DOCTYPE html><p>hi", None),
        (b"  <script>alert(1)</script>", None),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
        (b"<?xml version='1.0'?><a/>", None),
        (b"PK\x03\x04not really a zip", None),
        (b"text\x00with a NUL", None),
        (b"\xff\xfe\x00bad utf-8", None),
    ],
)
def test_type_comes_from_the_bytes(data: bytes, kind: str | None) -> None:
    assert sniff(data) == kind


@given(st.text(max_size=300))
def test_display_names_are_safe(uploaded: str) -> None:
    name = display_name(uploaded, "pdf")
    assert name.endswith(".pdf")
    assert "/" not in name
    assert "\\" not in name
    assert not name.startswith(".")
    assert len(name) <= 84


@pytest.mark.parametrize(
    "link", ["javascript:alert(1)", "data:text/html,x", "//evil.org", "https://", "mailto:a@b.c"]
)
def test_links_must_be_http(link: str) -> None:
    with pytest.raises(CourseInputInvalid):
        check_link(link)


def test_starter_settings_follow_the_peer_workshop_template() -> None:
    start = datetime(2031, 1, 6, 9, tzinfo=UTC)
    path = peer_workshop(start, reviews=3, submit_days=5)
    settings = starter_settings(path, "reviews")
    assert settings.reviewers == 3
    assert settings.submit_item == "submission"
    assert settings.submit_by == start + timedelta(days=5)
    assert settings.review_by == start + timedelta(days=12)


def test_moodle_export_says_it_cannot_carry_the_review_gate() -> None:
    from blendkit import MoodleFormatError
    from blendkit.progression import export_moodle

    feedback = peer_workshop(datetime(2031, 1, 6, tzinfo=UTC)).item("feedback")
    assert feedback.conditions is not None
    with pytest.raises(MoodleFormatError, match="'peer_reviews' has no Moodle"):
        export_moodle(feedback.conditions)
