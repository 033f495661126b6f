"""The accessibility findings of the example app, each checked on the rendered HTML.

Reflow, axe-core and focus visibility need a browser: ``test_a11y_browser.py`` and
``test_keyboard_browser.py``. These checks read the markup the pages send.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, ClassVar

import pytest

from blendkit.courses import FunnelStep
from blendkit.sessions import RecordingKind
from tests.app.conftest import INSTRUCTOR, Tool
from tests.app.contrast import ratio
from tests.app.test_learner_pages import _answers

# Elements whose own role lets them carry a name (aria-label/aria-labelledby); a div or span
# needs an explicit role (group, region…) first.
NAMEABLE = {"section", "nav", "main", "aside", "form", "table", "iframe", "svg", "ul", "ol",
            "fieldset", "input", "select", "textarea", "button", "a", "video", "audio", "dialog",
            "article", "header", "footer", "figure", "details", "img", "output"}  # fmt: skip
SCROLLER = "table-scroll"


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    text: list[str] = field(default_factory=list)
    parents: list[Node] = field(default_factory=list)


class Markup(HTMLParser):
    """Buttons, header cells, tables and named elements of one page, with their ancestors."""

    VOID: ClassVar[set[str]] = {
        "input",
        "br",
        "img",
        "meta",
        "link",
        "hr",
        "source",
        "track",
        "col",
        "wbr",
    }

    def __init__(self, html: str) -> None:
        super().__init__()
        self.stack: list[Node] = []
        self.nodes: list[Node] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs}, parents=list(self.stack))
        self.nodes.append(node)
        if tag not in self.VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index].tag == tag:
                del self.stack[index:]
                break

    def handle_data(self, data: str) -> None:
        for node in self.stack:
            node.text.append(data)

    def all(self, tag: str) -> list[Node]:
        return [n for n in self.nodes if n.tag == tag]

    def by_id(self, ident: str) -> Node | None:
        return next((n for n in self.nodes if n.attrs.get("id") == ident), None)

    def name(self, node: Node) -> str:
        """The accessible name as a screen reader computes it for these simple cases."""
        if node.attrs.get("aria-labelledby"):
            parts = [self.by_id(i) for i in node.attrs["aria-labelledby"].split()]
            return " ".join(" ".join("".join(p.text).split()) for p in parts if p)
        if node.attrs.get("aria-label"):
            return node.attrs["aria-label"].strip()
        return " ".join("".join(node.text).split())


@dataclass
class Demo:
    client: Any
    launch: dict[str, str]

    def page(self, path: str, role: str = "instructor") -> Markup:
        joiner = "&" if "?" in path else "?"
        response = self.client.get(f"{path}{joiner}launch={self.launch[role]}" if role else path)
        assert response.status_code == 200, path
        return Markup(response.get_data(as_text=True))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    from blendkit.integrations.flask import Blendkit
    from blendkit.lti import Context, Launch, MessageType, ResourceLink, UserIdentity
    from blendkit_examples.flask_app.demo import build_demo
    from blendkit_examples.flask_app.demo_lms import (
        ADMIN,
        CLIENT_ID,
        CONTEXT_ID,
        CONTEXT_TITLE,
        DEPLOYMENT_ID,
        LEARNER,
    )  # fmt: skip

    app, _ = build_demo(tmp_path_factory.mktemp("demo"), host="127.0.0.1", port=5000)
    lms = app.extensions["blendkit_demo_lms"]
    launches = {}
    for role, sub, roles in (
        ("learner", "demo-kofi", LEARNER),
        ("instructor", "demo-rivera", [INSTRUCTOR]),
        ("admin", "demo-admin", ADMIN),
    ):
        launch = Launch(
            message_type=MessageType.RESOURCE_LINK, version="1.3.0", issuer=lms.issuer,
            client_id=CLIENT_ID, deployment_id=DEPLOYMENT_ID,
            user=UserIdentity(sub=sub, name=sub, email=f"{sub}@demo.example.edu"),
            roles=tuple(roles), context=Context(id=CONTEXT_ID, title=CONTEXT_TITLE),
            resource_link=ResourceLink(id="demo-rl-1", title="Week 1"),
            target_link_uri=lms.launch_url, custom={"timezone": "Europe/London"},
        )  # fmt: skip
        with app.app_context():
            launches[role] = Blendkit.state().launches.save(launch)
    return Demo(app.test_client(), launches)


PLANNER = "/teach/sessions?plan=1&duration=60&per_week=1"


def test_every_header_cell_has_a_name(demo: Demo) -> None:
    for path, role in (("/admin", "admin"), (PLANNER, "instructor")):
        page = demo.page(path, role)
        cells = page.all("th")
        assert cells, path
        empty = [c.attrs for c in cells if not page.name(c)]
        assert empty == [], f"{path}: header cells without text over a column"


def test_buttons_in_rows_name_their_row(demo: Demo) -> None:
    for path, role, word in (
        ("/admin", "admin", "Remove"),
        (PLANNER, "instructor", "Schedule"),
    ):
        page = demo.page(path, role)
        names = [page.name(b) for b in page.all("button")]
        assert any(word in n for n in names), (path, names)
        repeated = sorted({n for n in names if names.count(n) > 1})
        assert repeated == [], f"{path}: several buttons share a name: {repeated}"
    planner = demo.page(PLANNER)
    slots = [page_name for page_name in map(planner.name, planner.all("button"))
             if page_name.startswith("Schedule")]  # fmt: skip
    assert len(slots) > 1
    assert all(re.search(r"\d\d:\d\d", s) for s in slots), slots


def test_names_sit_on_elements_that_can_carry_them(demo: Demo) -> None:
    for path, role in (("/demo-lms", ""), ("/admin", "admin"), ("/teach", "instructor")):
        page = demo.page(path, role)
        wrong = [
            (n.tag, n.attrs.get("aria-labelledby") or n.attrs.get("aria-label"))
            for n in page.nodes
            if (n.attrs.get("aria-labelledby") or n.attrs.get("aria-label"))
            and n.tag not in NAMEABLE
            and not n.attrs.get("role")
        ]
        assert wrong == [], f"{path}: a name on an element without a role: {wrong}"


def test_demo_lms_starts_with_a_skip_link_to_its_main_content(demo: Demo) -> None:
    page = demo.page("/demo-lms", "")
    links = page.all("a")
    assert links, "the demo LMS has links"
    first = links[0]
    assert first.attrs.get("href", "").startswith("#"), "the first link skips to the content"
    target = page.by_id(first.attrs["href"][1:])
    assert target is not None
    assert target.tag == "main"
    focusables = [n for n in page.nodes if n.tag in {"a", "button", "input", "select"}
                  and n.attrs.get("type") != "hidden"]  # fmt: skip
    assert focusables[0] is first, "the skip link comes before every other control"


def test_every_table_sits_in_a_labelled_focusable_scroll_region(demo: Demo) -> None:
    for path, role in (
        ("/teach", "instructor"), ("/teach/learners", "instructor"), (PLANNER, "instructor"),
        ("/teach/sessions", "instructor"), ("/teach/quizzes", "instructor"),
        ("/teach/learners/demo-mei", "instructor"), ("/admin", "admin"),
    ):  # fmt: skip
        page = demo.page(path, role)
        for table in page.all("table"):
            region = next((p for p in reversed(table.parents) if p.attrs.get("role") == "region"),
                          None)  # fmt: skip
            assert region is not None, f"{path}: a table outside a scroll region"
            assert SCROLLER in region.attrs.get("class", "").split(), path
            assert region.attrs.get("tabindex") == "0", f"{path}: keyboard users can scroll it"
            assert page.name(region), f"{path}: the region is named"


def test_watched_figure_is_announced_when_it_changes(demo: Demo) -> None:
    page = demo.page("/item/prework-video", "learner")
    figure = page.by_id("watched")
    assert figure is not None
    live = [n for n in (*figure.parents, figure) if n.attrs.get("aria-live")]
    assert live
    assert live[-1].attrs["aria-live"] == "polite"


def test_long_values_may_break_anywhere() -> None:
    css = (Path(__file__).resolve().parents[2] / "examples/flask_app/static/app.css").read_text()
    rule = re.search(r"(^|\n)code[^{]*\{([^}]*)\}", css)
    assert rule is not None
    assert "overflow-wrap: anywhere" in rule.group(2), "code and URLs break at 320 px"


def test_counts_on_every_funnel_bar_reach_4_5_to_1() -> None:
    from blendkit_examples.flask_app.charts import funnel_svg

    step = FunnelStep(
        item="q", title="Quiz", kind="quiz", completed=5, open=5, locked=5, overdue=5, learners=20
    )
    svg = str(funnel_svg([step]))
    bars = re.findall(r'<rect [^>]*fill="(#[0-9a-f]{6})"><title>[^<]*</title></rect>'
                      r'<text [^>]*fill="(#[0-9a-f]{6})">(\d+)</text>', svg)  # fmt: skip
    assert len(bars) == 4, "one count on each of the four bars"
    for bar, text, _count in bars:
        assert ratio(bar, text) >= 4.5, (bar, text)
        assert ratio(bar, "#ffffff") >= 3, "each bar stands out from the white chart"


def test_counts_on_every_milestone_bar_reach_4_5_to_1() -> None:
    from blendkit.progression import MilestoneCount
    from blendkit_examples.flask_app.charts import milestones_svg

    row = MilestoneCount(
        id="w1", title="Week 1", due=None, due_after_enrolment_days=7,
        counts={"missed": 5, "behind": 5, "on_track": 5, "done": 5},
    )  # fmt: skip
    svg = str(milestones_svg([row]))
    bars = re.findall(r'<rect [^>]*fill="(#[0-9a-f]{6})"><title>[^<]*</title></rect>'
                      r'<text [^>]*fill="(#[0-9a-f]{6})">(\d+)</text>', svg)  # fmt: skip
    assert len(bars) == 4, "one count on each of the four bars"
    for bar, text, _count in bars:
        assert ratio(bar, text) >= 4.5, (bar, text)
        assert ratio(bar, "#ffffff") >= 3, "each bar stands out from the white chart"
    assert "Week 1: 5 done, 5 on track, 5 behind, 5 missed" in svg, "every number in words"


def _recorded_session(tool: Tool, *kinds: RecordingKind) -> str:
    teacher = tool.launch("teach", roles=(INSTRUCTOR,), name="Dr T")
    tool.launch()  # a learner enrols
    start = datetime.now(UTC) - timedelta(days=1)
    tool.post("/teach/sessions", teacher, {
        "title": "Week 1", "date": start.strftime("%Y-%m-%d"), "time": start.strftime("%H:%M"),
        "time_zone": "UTC", "duration": "60", "item": "live-session",
    })  # fmt: skip
    page = tool.get("/teach/sessions", teacher).get_data(as_text=True)
    session_id = re.search(r"/teach/sessions/([0-9a-f]+)\?", page).group(1)  # type: ignore[union-attr]
    meeting = next(iter(tool.provider._meetings))  # type: ignore[attr-defined]
    for kind in kinds:
        tool.provider.add_recording(meeting, kind, start=start, duration_seconds=600)
    assert tool.post(f"/teach/sessions/{session_id}/import", teacher).status_code in (200, 302, 303)
    ana = tool.launch()
    tool.post("/item/prework-video/progress", ana, {"percent": "100"})
    tool.post("/item/readiness-quiz/quiz", ana, _answers(1, 1, 0))  # the right answers
    return tool.get("/item/live-session", ana).get_data(as_text=True)


CAPTIONS = b"WEBVTT\n\n00:00:00.000 --> 00:00:04.000\nDr T: Welcome.\n"


def _player(tool: Tool, *, captions: bool) -> str:
    """The player page of a recorded session's video, with or without a caption track."""
    _recorded_session(tool, RecordingKind.VIDEO)
    teacher = tool.launch("teach", roles=(INSTRUCTOR,), name="Dr T")
    page = tool.get("/teach/sessions", teacher).get_data(as_text=True)
    session_id = re.search(r"/teach/sessions/([0-9a-f]+)\?", page).group(1)  # type: ignore[union-attr]
    detail = tool.get(f"/teach/sessions/{session_id}", teacher).get_data(as_text=True)
    rid = re.search(r"/teach/recordings/(\d+)/media", detail).group(1)  # type: ignore[union-attr]
    tool.post(f"/teach/recordings/{rid}/media", teacher,
              {"media_url": "https://media.example.edu/w1.mp4", "minutes": "10"})  # fmt: skip
    if captions:
        tool.post(f"/teach/sessions/{session_id}/captions", teacher,
                  {"transcript": (io.BytesIO(CAPTIONS), "t.vtt"), "language": "en",
                   "label": "English"}, content_type="multipart/form-data")  # fmt: skip
    return tool.get(f"/item/live-session/recording/{rid}", tool.launch()).get_data(as_text=True)


def test_a_recording_with_captions_plays_them_and_shows_its_transcript(tool: Tool) -> None:
    page = Markup(_player(tool, captions=True))
    tracks = page.all("track")
    assert len(tracks) == 1
    assert tracks[0].attrs["kind"] == "captions"
    assert "/captions/en.vtt" in tracks[0].attrs["src"], "the tool's own caption file"
    assert tracks[0].attrs.get("srclang") == "en"
    assert tracks[0].attrs.get("label") == "English"
    region = next(n for n in page.nodes if n.attrs.get("class") == "transcript-panel")
    assert region.attrs.get("aria-labelledby") == "transcript-heading"
    search = next(n for n in page.all("input") if n.attrs.get("type") == "search")
    assert any(n.attrs.get("for") == search.attrs["id"] for n in page.all("label"))


def test_a_recording_without_captions_says_so(tool: Tool) -> None:
    html = _player(tool, captions=False)
    assert "<track" not in html
    assert "This recording has no captions yet" in html
    assert "No transcript has been published for this recording yet" in html


def test_the_video_player_has_a_captions_and_transcript_slot(demo: Demo) -> None:
    page = demo.page("/item/prework-video", "learner")
    region = next((n for n in page.nodes if n.attrs.get("class") == "transcript"), None)
    assert region is not None
    assert region.attrs.get("role") == "region"
    assert page.name(region)
    assert "No captions or transcript" in "".join(region.text)
