"""Every page: a language, landmarks, a skip link, one h1, and a label for every form control."""

from __future__ import annotations

from html.parser import HTMLParser

from tests.app.conftest import ADMIN, INSTRUCTOR, Tool


class Audit(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.lang = None
        self.tags: list[str] = []
        self.labels_for: set[str] = set()
        self.controls: list[dict[str, str]] = []
        self.in_label = 0
        self.h1 = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self.tags.append(tag)
        if tag == "html":
            self.lang = values.get("lang")
        if tag == "h1":
            self.h1 += 1
        if tag == "label":
            self.in_label += 1
            if values.get("for"):
                self.labels_for.add(values["for"])
        if tag in {"input", "select", "textarea"} and values.get("type") not in {
            "hidden", "submit", "button",
        }:  # fmt: skip
            self.controls.append(dict(values, wrapped="1" if self.in_label else ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.in_label -= 1

    def unlabelled(self) -> list[dict[str, str]]:
        return [
            c
            for c in self.controls
            if not c.get("aria-label")
            and not c.get("wrapped")
            and c.get("id") not in self.labels_for
        ]


def _audit(html: str) -> Audit:
    audit = Audit()
    audit.feed(html)
    return audit


def test_every_page_is_labelled_and_has_landmarks(tool: Tool) -> None:
    ana = tool.launch()
    teacher = tool.launch("teach", roles=(INSTRUCTOR, ADMIN), name="Dr T")
    boss = tool.launch("boss", roles=(INSTRUCTOR,), name="Tool admin")  # [tool] admins
    dl = tool.launch(
        "teach", roles=(INSTRUCTOR,), name="Dr T",
        deep_linking={"deep_link_return_url": "https://lms.example.edu/r",
                      "accept_types": ["ltiResourceLink"],
                      "accept_presentation_document_targets": ["iframe"]},
    )  # fmt: skip
    tool.post("/item/prework-video/progress", ana, {"percent": "100"})
    pages = {
        ana: ["/course", "/item/prework-video", "/item/readiness-quiz", "/item/live-session",
              "/item/practice"],
        teacher: ["/teach", "/teach/sessions", "/teach/learners", "/teach/learners/ana",
                  "/teach/quizzes", "/teach/quizzes/readiness-quiz", "/teach/path", "/admin"],
        boss: ["/admin"],
        dl: ["/deep-link"],
    }  # fmt: skip
    for launch_id, paths in pages.items():
        for path in paths:
            response = tool.get(path, launch_id)
            assert response.status_code == 200, path
            audit = _audit(response.get_data(as_text=True))
            assert audit.lang == "en", path
            for landmark in ("header", "nav", "main", "footer"):
                assert landmark in audit.tags, (path, landmark)
            assert audit.h1 == 1, path
            assert audit.unlabelled() == [], path
    minted = tool.post("/admin/invites", boss, {"expires": "1h"})
    assert minted.status_code == 200
    audit = _audit(minted.get_data(as_text=True))
    assert audit.h1 == 1
    assert audit.unlabelled() == []
    error = _audit(tool.get("/item/ghost", ana).get_data(as_text=True))
    assert error.h1 == 1
    assert "main" in error.tags
