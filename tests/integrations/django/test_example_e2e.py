"""The example plugin app mounted under /blendkit/ (as Open edX mounts it), launched over real
HTTP by the independent platform; and a chunked body on a real socket."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest, HttpResponse
from django.test.utils import override_settings
from django.urls import include, path

from blendkit.integrations.django import close_runtime, install_runtime
from tests.e2e.conftest import registered_tool
from tests.e2e.form_browser import FormBrowser
from tests.e2e.lti_platform import LTIPlatform
from tests.e2e.servers import ThreadedServer

pytestmark = pytest.mark.e2e

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "django_app"
if str(EXAMPLE) not in sys.path:
    sys.path.append(str(EXAMPLE))

urlpatterns = [path("blendkit/", include(("blendkit_openedx.urls", "blendkit_openedx")))]


class _Handler(WSGIHandler):
    def __init__(self, urlconf: str) -> None:
        super().__init__()
        self.urlconf = urlconf

    def get_response(self, request: HttpRequest) -> HttpResponse:
        request.urlconf = self.urlconf  # type: ignore[attr-defined]
        return super().get_response(request)  # type: ignore[return-value]


@pytest.fixture
def example(tmp_path: Path) -> Iterator[tuple[str, LTIPlatform]]:
    server = ThreadedServer()
    base = f"{server.url}/blendkit"
    platform = LTIPlatform()
    platform.configure_tool(base)
    settings, store = registered_tool(tmp_path, platform, base)
    handler = override_settings(BLENDKIT_LAUNCH_HANDLER="blendkit_openedx.views.launched")
    handler.enable()
    install_runtime(settings=settings, store=store)
    server.start(_Handler(__name__))
    platform.start()
    try:
        yield base, platform
    finally:
        platform.stop()
        server.stop()
        close_runtime()
        handler.disable()
        store.dispose()


def test_a_launch_under_the_plugin_prefix_opens_the_course_page(
    example: tuple[str, LTIPlatform],
) -> None:
    base, platform = example
    browser = FormBrowser()
    try:
        page = browser.auto_submit(
            browser.get(platform.launch_url(user="teacher-1", role="instructor"))
        )
        assert page.status_code == 200, page.text
        assert str(page.url).startswith(f"{base}/course?launch=")
        assert "Biology 101: Cells" in page.text
        assert "Role: <strong class='role'>Instructor</strong>" in page.text
        launch_id = str(page.url).split("launch=")[1]
        assert browser.get(f"{base}/instructor?launch={launch_id}").status_code == 200
        learner = browser.auto_submit(
            browser.get(platform.launch_url(user="student-1", role="learner"))
        )
        learner_id = str(learner.url).split("launch=")[1]
        refused = browser.get(f"{base}/instructor?launch={learner_id}")
        assert refused.status_code == 403
        assert "lti.role_required" in refused.text
    finally:
        browser.close()


def test_deep_linking_from_the_plugin_is_accepted(example: tuple[str, LTIPlatform]) -> None:
    base, platform = example
    browser = FormBrowser()
    try:
        answer = browser.auto_submit(
            browser.get(
                platform.launch_url(user="teacher-1", role="instructor", message="deeplink")
            )
        )
        assert "Platform received 1 item(s): blendkit course page" in answer.text
        (item,) = platform.records.content_items
        assert item["url"] == f"{base}/lti/launch"
    finally:
        browser.close()


def test_a_chunked_body_is_not_read_past_its_declared_length(
    example: tuple[str, LTIPlatform],
) -> None:
    """No Content-Length: Django reads nothing of a WSGI body, so nothing unbounded is read."""
    base, _ = example
    parts = urlsplit(base)
    assert parts.hostname is not None
    assert parts.port is not None
    chunk = b"x" * 4096
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as conn:
        conn.sendall(
            b"POST /blendkit/lti/launch HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            + b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(8))
            + b"0\r\n\r\n"
        )
        answer = b""
        while b"</html>" not in answer and (data := conn.recv(65536)):
            answer += data
    assert b" 400 " in answer.split(b"\r\n", 1)[0]
    assert b"lti.missing_id_token" in answer
