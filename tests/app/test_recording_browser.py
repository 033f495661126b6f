"""The demo's captioned recording in real headless Chromium: what is played counts, a seek to the
end does not, and the captions are a real text track with cues.

Skipped only when /usr/bin/chromium is absent (CI installs it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.app.test_demo_browser import CHROMIUM, _chromium_page, shot_on_failure
from tests.e2e.servers import ThreadedServer

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is not installed"),
]

PLAYER = "#recording-player"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str]]:
    from blendkit_examples.flask_app.demo import build_demo

    server = ThreadedServer()
    port = int(server.url.rsplit(":", 1)[1])
    app, url = build_demo(tmp_path_factory.mktemp("demo"), host="127.0.0.1", port=port)
    server.start(app)
    try:
        yield app, url
    finally:
        server.stop()


@pytest.fixture
def page(tmp_path: Path) -> Iterator[object]:
    yield from _chromium_page(tmp_path / "profile")


def _services(app: Any) -> tuple[Any, Any, Any]:
    from blendkit.lti import Tenant
    from blendkit_examples.flask_app.app import services
    from blendkit_examples.flask_app.demo_lms import CLIENT_ID, CONTEXT_ID, DEPLOYMENT_ID

    lms = app.extensions["blendkit_demo_lms"]
    with app.app_context():
        svc = services()
    tenant = Tenant(issuer=lms.issuer, client_id=CLIENT_ID, deployment_id=DEPLOYMENT_ID)
    course = svc.courses.ensure_course(tenant, CONTEXT_ID, title="", path=None)
    (recording,) = [r for r in svc.live.recordings(course) if r.media_url]
    return svc, course, recording


def _open_player(page: Any, demo_url: str, user: str) -> tuple[Any, Any]:
    page.goto(demo_url)
    page.click(f"button[data-user='{user}'][data-message='resource']")
    tool = page.frame_locator("#tool")
    tool.get_by_role("link", name="Live session").first.click()
    tool.get_by_role("link", name=re.compile("^Watch Recap of week 1")).click()
    tool.locator(PLAYER).wait_for()
    frame = page.frame(name="tool")
    frame.wait_for_function(f"() => document.querySelector('{PLAYER}').readyState >= 1")
    return tool, frame


def test_seeking_to_the_end_is_not_watching(page, demo) -> None:  # type: ignore[no-untyped-def]
    app, demo_url = demo
    svc, course, recording = _services(app)
    svc.courses.add_override(course, "demo-lucas", "live-session", "unlock", by="demo-rivera",
                             reason="missed the session")  # fmt: skip
    with shot_on_failure(page, "recording-seek"):
        tool, _ = _open_player(page, demo_url, "demo-lucas")
        tool.locator(PLAYER).evaluate(
            """v => new Promise(done => {
                v.muted = true;
                v.addEventListener('ended', () => done(), { once: true });
                v.addEventListener('seeked', () => v.play(), { once: true });
                v.currentTime = v.duration - 0.6;
            })"""
        )
        # the few tenths played after the jump are all that count
        tool.locator("#recording-progress").filter(
            has_text=re.compile(r"^[1-9](\.\d)?%$")
        ).wait_for()
    view = svc.recordings.view(course, recording.id, "demo-lucas")
    assert view is not None
    assert view.watched_at is None
    assert view.covered_seconds < 1.5
    assert svc.courses.evidence(course, "demo-lucas").recordings.get("live-session", 0) < 15


def test_playing_80_percent_is_watching_and_captions_are_a_track(page, demo) -> None:  # type: ignore[no-untyped-def]
    app, demo_url = demo
    svc, course, recording = _services(app)
    with shot_on_failure(page, "recording-watch"):
        tool, frame = _open_player(page, demo_url, "demo-kofi")
        # the captions: a text track of kind captions whose cues came from the transcript
        frame.wait_for_function(
            f"""() => {{ const t = document.querySelector('{PLAYER}').textTracks[0];
                        return t && t.cues && t.cues.length > 0; }}"""
        )
        track = tool.locator(PLAYER).evaluate(
            """v => { const t = v.textTracks[0];
                      return { kind: t.kind, language: t.language, label: t.label, mode: t.mode,
                               cues: Array.from(t.cues).map(c => c.text) }; }"""
        )
        assert track["kind"] == "captions"
        assert track["language"] == "en"
        assert track["mode"] == "showing", "the default track is on"
        assert len(track["cues"]) == 4
        assert "Welcome back" in track["cues"][0]
        # play at double speed and stop after 10 of the 12 seconds
        stopped = tool.locator(PLAYER).evaluate(
            """v => new Promise(done => {
                v.muted = true; v.playbackRate = 2;
                v.addEventListener('timeupdate', function at() {
                    if (v.currentTime >= 10) { v.pause(); v.removeEventListener('timeupdate', at);
                                               done(v.currentTime); }
                });
                v.play();
            })"""
        )
        assert stopped >= 10
        tool.locator("#recording-progress").filter(
            has_text=re.compile(r"^(8\d|9\d|100)(\.\d)?%$")
        ).wait_for(timeout=20_000)
        # the transcript beside it: filter as you type, a line seeks the player
        tool.get_by_label("Search the transcript").fill("nucleus")
        tool.locator("#transcript-count").filter(has_text="1 of 4 lines").wait_for()
        tool.get_by_role("button", name="Play from 0:09").click()
        position = tool.locator(PLAYER).evaluate("v => v.currentTime")
        assert 9 <= position < 12
    view = svc.recordings.view(course, recording.id, "demo-kofi")
    assert view is not None
    assert view.watched_at is not None
    assert view.percent >= 80
    assert svc.courses.evidence(course, "demo-kofi").recordings["live-session"] >= 80
