"""Suspicion 13: deeply nested JSON in a request body crashed the route that read it.

The body cap keeps a request small, but a small body can nest deep: ``[`` fifty thousand times
is 100 KB. ``json.loads`` recurses once per level and raised ``RecursionError`` (a 500, and a
worker busy unwinding it) from every JSON route of the example tool (a poll answer, video
progress) and from the recording player's played segments (JSON in a form field). These tests
failed there; now such a body is malformed JSON (4xx) to the JSON routes, and the segments
form field goes through ``load_json`` (nesting measured before decoding).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blendkit.limits import DOCUMENT_LIMITS, json_too_deep
from tests.app import conftest as app
from tests.app.conftest import Tool
from tests.app.test_live_polls_pages import _open_poll
from tests.security.test_s13_live_edges import _live

tool = app.tool  # the example tool launched on a real SQLite store (a fixture)

DEEP = "[" * 50_000 + "]" * 50_000
DEEP_OBJECTS = '{"a":' * 30_000 + "1" + "}" * 30_000


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECTS])
def test_a_deeply_nested_json_body_is_refused_not_crashed_on(tool: Tool, body: str) -> None:
    teacher, session, asker, _peer, page = _live(tool)
    poll = _open_poll(tool, teacher, session)
    headers = {"X-Blendkit-Launch": asker, "X-CSRF-Token": tool.csrf(asker)}
    for path in (f"{page}/polls/{poll}", "/item/prework-video/progress"):
        answer = tool.client.post(path, data=body, content_type="application/json",
                                  headers=headers)  # fmt: skip
        assert 400 <= answer.status_code < 500, (path, answer.status_code)
    played = tool.post("/item/live-session/recording/1/segments", asker, {"segments": body})
    assert 400 <= played.status_code < 500


@given(depth=st.integers(min_value=1, max_value=200), brackets=st.sampled_from(["[]", "{}"]))
def test_json_deeper_than_the_cap_is_found_and_shallower_is_not(depth: int, brackets: str) -> None:
    opening, closing = brackets
    inner = '"k":1' if opening == "{" else "1"
    text = (opening + ('"k":' if opening == "{" else "")) * (depth - 1) + opening + inner
    text += closing * depth
    found = json_too_deep(text, DOCUMENT_LIMITS.max_depth)
    assert (found is not None) == (depth > DOCUMENT_LIMITS.max_depth)


def test_brackets_inside_strings_are_not_nesting() -> None:
    assert json_too_deep('["' + "[" * 500 + '"]', 8) is None
    assert json_too_deep('["\\"' + "[" * 500 + '"]', 8) is None


def test_the_apps_own_json_provider_keeps_its_settings_and_gains_the_cap() -> None:
    from flask import Flask
    from flask.json.provider import DefaultJSONProvider

    from blendkit.integrations._flask_json import guard_json_depth

    class HostJSON(DefaultJSONProvider):
        def loads(self, s: str | bytes, **kwargs: object) -> object:
            return {"host": super().loads(s, **kwargs)}

    host = Flask("host")
    host.json = HostJSON(host)
    host.json.sort_keys = False  # type: ignore[attr-defined]
    guard_json_depth(host)
    guard_json_depth(host)  # once is enough: a second call changes nothing
    assert isinstance(host.json, HostJSON)
    assert host.json.sort_keys is False  # type: ignore[attr-defined]
    assert host.json.loads("[1]") == {"host": [1]}
    with pytest.raises(ValueError, match="nests deeper than it can be decoded"):
        host.json.loads(DEEP)
    with host.test_request_context("/", data=DEEP, content_type="application/json"):
        from flask import request

        assert request.get_json(silent=True) is None


_LEAVES = st.one_of(st.integers(), st.text(alphabet='ab[]{}"\\ ', max_size=6), st.none())
DOCUMENTS = st.recursive(
    _LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.text(alphabet='k[]{}"\\', max_size=3), inner, max_size=3),
    ),
    max_leaves=30,
)


def _depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    return 0


@given(document=DOCUMENTS, cap=st.integers(min_value=0, max_value=8))
def test_the_measure_agrees_with_the_decoded_depth(document: object, cap: int) -> None:
    import json

    text = json.dumps(document)
    assert (json_too_deep(text, cap) is not None) == (_depth(document) > cap), text
