"""Suspicion 13: stored script links in the pages learners open.

A path item's ``url`` (from the instructor's path document, a template, or a Canvas export's
``external_url``) is rendered as the item's "Open the material" link and its video source; a
recording's media URL is the player's source and "Download it" link. Before the fix a path
accepted ``javascript:``, ``data:`` or ``vbscript:`` links (the test below failed there), and a
media URL starting with ``//`` or ``/\\`` passed as "a path on this site" while it names
another host. Only the page's CSP stood between the link and the learner.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from blendkit import CourseInputInvalid
from blendkit.courses import Course
from blendkit.progression import Item
from tests.app import conftest as app
from tests.app.conftest import Tool
from tests.security.test_gate_invariant_stateful import World, build_world

tool = app.tool  # the example tool launched on a real SQLite store (a fixture)

SCRIPT_SCHEMES = ["javascript", "JavaScript", "vbscript", "data", "file", "blob"]
# Spellings a browser still reads as that scheme: a leading space or control character, and
# tabs or line breaks inside the scheme (the URL parser removes them).
SPELLINGS = st.sampled_from(["{s}:", " {s}:", "\x00{s}:", "\t{s}:", "{h}\t{t}:", "{h}\n{t}:"])


def _spelled(spelling: str, scheme: str) -> str:
    half = len(scheme) // 2
    return spelling.format(s=scheme, h=scheme[:half], t=scheme[half:])


@given(
    scheme=st.sampled_from(SCRIPT_SCHEMES),
    spelling=SPELLINGS,
    rest=st.sampled_from(["alert(document.domain)", "text/html,<script>alert(1)</script>", "x"]),
)
def test_a_path_item_never_links_to_a_script(scheme: str, spelling: str, rest: str) -> None:
    with pytest.raises(ValidationError):
        Item(id="reading-1", kind="reading", url=_spelled(spelling, scheme) + rest)


@pytest.mark.parametrize("url", ["//evil.example/x", "/\\evil.example/x", "https:evil.example"])
def test_a_path_item_link_without_a_scheme_names_no_other_host(url: str) -> None:
    with pytest.raises(ValidationError):
        Item(id="reading-1", kind="reading", url=url)


@pytest.mark.parametrize(
    "url",
    ["https://media.example.edu/week1.mp4", "http://example.org/a?b=1#c", "/media/recording.mp4",
     "materials/week1.pdf", "HTTPS://Example.org/"],
)  # fmt: skip
def test_ordinary_links_are_kept_as_given(url: str) -> None:
    assert Item(id="reading-1", kind="reading", url=url).url == url


def _recording_of(tool: Tool, world: World) -> tuple[Course, int]:
    from blendkit_examples.flask_app.app import services

    with tool.app.app_context():
        svc = services()
    for rid in world.recordings[:-1]:
        try:
            svc.recordings.recording(world.course, rid)
        except Exception:  # another course's recording
            continue
        return world.course, rid
    raise AssertionError("the world has a recording of its course")


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "//evil.example/x.mp4", "/\\evil.example/x.mp4", "data:,x"]
)
def test_a_recording_media_url_is_http_or_a_path_on_this_site(tool: Tool, url: str) -> None:
    from blendkit_examples.flask_app.app import services

    world = build_world(tool)
    course, rid = _recording_of(tool, world)
    with tool.app.app_context():
        recordings = services().recordings
    with pytest.raises(CourseInputInvalid):
        recordings.set_media(course, rid, url, duration_seconds=60)
    kept = recordings.set_media(course, rid, "/media/ok.mp4", duration_seconds=60)
    assert kept.media_url == "/media/ok.mp4"


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "data:text/html,x", "/j/123", "//evil.example/j", " https://x"]
)
def test_a_meeting_providers_links_are_absolute_http_never_a_script(url: str) -> None:
    from blendkit.sessions import JoinLink, ProviderMeeting, Recording, RecordingKind

    with pytest.raises(ValidationError):
        ProviderMeeting(provider="zoom", meeting_id="1", join_url=url)
    with pytest.raises(ValidationError):
        JoinLink(meeting_id="1", learner_id="ana", url=url)
    with pytest.raises(ValidationError):
        Recording(provider_id="r", meeting_id="1", kind=RecordingKind.VIDEO, play_url=url)
    kept = ProviderMeeting(provider="zoom", meeting_id="1", join_url="https://zoom.us/j/1?pwd=a")
    assert kept.join_url == "https://zoom.us/j/1?pwd=a"
