"""Suspicion 13: open redirects through reminder links (held; kept as a regression guard).

``/courses/<id>/items/<item>`` redirects a browser whose launch is for that course to the item's
page. Whatever the item id spells (``//host``, a backslash, an encoded scheme, a line break), the
redirect stays on the tool: same origin, the item page's path, no header of the sender's choosing.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import pytest
from sqlalchemy import select

from blendkit.store._tables_courses import course_courses
from tests.app import conftest as app
from tests.app.conftest import Tool

tool = app.tool  # the example tool launched on a real SQLite store (a fixture)

ITEM_IDS = [
    "//evil.example", "/\\evil.example", "\\\\evil.example", "https://evil.example",
    "javascript:alert(1)", "%2F%2Fevil.example", "x\r\nSet-Cookie: a=b", "..", "@evil",
]  # fmt: skip


@pytest.mark.parametrize("item", ITEM_IDS)
def test_a_reminder_link_redirects_only_to_the_tools_own_item_page(tool: Tool, item: str) -> None:
    ana = tool.launch("ana")
    tool.get("/course", ana)
    with tool.store.transaction() as s:
        course_id = s.execute(select(course_courses.c.id)).scalar_one()
    answer = tool.client.get(
        f"/courses/{course_id}/items/{quote(item, safe='')}", query_string={"launch": ana}
    )
    # 308: the router joins doubled slashes first (on this site); 303: the item page.
    assert answer.status_code in (303, 308, 404), answer.status_code
    if answer.status_code in (303, 308):
        target = urlsplit(answer.headers["Location"])
        assert target.scheme in ("", "http")
        assert target.netloc in ("", "localhost", "tool.test")
        assert target.path.startswith("/item/" if answer.status_code == 303 else "/courses/")
        assert "\\" not in target.path
        assert "Set-Cookie" not in answer.headers
