"""A tiny scripted browser for end-to-end tests: cookies, redirects and auto-submitting forms.

It follows what a real browser does with an LTI launch page (a form posted by script on load),
over real HTTP with httpx. Pages that need JavaScript beyond that are tested in Chromium.
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin

import httpx


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str]
    element_id: str | None


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._current: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._current = Form(
                action=values.get("action", ""),
                method=values.get("method", "get").lower(),
                fields={},
                element_id=values.get("id"),
            )
            self.forms.append(self._current)
        elif tag in {"input", "textarea"} and self._current is not None and values.get("name"):
            if values.get("type") in {"radio", "checkbox"} and "checked" not in values:
                return
            self._current.fields[values["name"]] = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def forms(page: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(page)
    return parser.forms


class FormBrowser:
    """Cookies + redirects (httpx) + submitting the page's auto-submit form."""

    def __init__(self) -> None:
        self.client = httpx.Client(follow_redirects=True, timeout=15)

    def close(self) -> None:
        self.client.close()

    def get(self, url: str) -> httpx.Response:
        return self.client.get(url)

    def submit(
        self, response: httpx.Response, form_index: int = 0, **overrides: str
    ) -> httpx.Response:
        form = forms(response.text)[form_index]
        fields = dict(form.fields, **overrides)
        target = urljoin(str(response.url), form.action)
        if form.method == "post":
            return self.client.post(target, data=fields)
        return self.client.get(target, params=fields)

    def auto_submit(self, response: httpx.Response, max_hops: int = 5) -> httpx.Response:
        """Submit script-posted forms (``<script>…submit()</script>``) until a real page appears."""
        for _ in range(max_hops):
            if ".submit()" not in response.text or not forms(response.text):
                return response
            response = self.submit(response)
        return response
