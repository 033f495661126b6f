"""The ``webhook`` notifier: a real HTTP server on loopback for delivery, httpx.MockTransport for
faults (429 with Retry-After, 5xx, 4xx, a network failure), and the fence."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from blendkit.config import Settings
from blendkit.errors import ConfigError
from blendkit.notify import (
    Delivered,
    Message,
    PermanentFailure,
    Recipient,
    RetryableFailure,
    WebhookNotifier,
    load_notifier,
)
from tests.fence import public_resolver

SECRET_PATH = "/services/T000/B000/XXXXsecretXXXX"


def message() -> Message:
    return Message(
        recipient=Recipient(address="@ada", name="Ada <Lovelace>"),
        subject="Recording ready",
        text="The recording of Monday's session is ready: https://example.org/r/1",
        html="<p>ignored by webhooks</p>",
        key="learner-7:recording-3:v1",
    )


def settings(url: str, allowed: tuple[str, ...] = ("127.0.0.1",)) -> Settings:
    return Settings(http={"allowed_hosts": list(allowed)}, webhook={"url": url})


class _Hook(BaseHTTPRequestHandler):
    received: list[tuple[str, dict[str, str], bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.received.append((self.path, headers, body))
        self.send_response(200)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        del format, args


@pytest.fixture
def hook_server() -> Iterator[tuple[str, list[tuple[str, dict[str, str], bytes]]]]:
    received: list[tuple[str, dict[str, str], bytes]] = []
    handler = type("Hook", (_Hook,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{SECRET_PATH}", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_message_is_posted_as_json(
    hook_server: tuple[str, list[tuple[str, dict[str, str], bytes]]],
) -> None:
    url, received = hook_server
    outcome = load_notifier("webhook", settings(url)).send(message())
    assert outcome == Delivered(detail="HTTP 200")
    ((path, headers, body),) = received
    assert path == SECRET_PATH
    assert headers["content-type"] == "application/json"
    assert headers["idempotency-key"] == "learner-7:recording-3:v1"
    posted = json.loads(body)
    assert posted["text"].startswith("Recording ready\n\nThe recording of Monday's session")
    assert posted["recipient"] == "@ada"
    assert posted["recipient_name"] == "Ada <Lovelace>"
    assert posted["key"] == "learner-7:recording-3:v1"
    assert "html" not in posted


def faulty(answers: list[httpx.Response | Exception]) -> tuple[WebhookNotifier, list[float]]:
    waits: list[float] = []
    queue = list(answers)

    def handle(request: httpx.Request) -> httpx.Response:
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    client = httpx.Client(transport=httpx.MockTransport(handle))
    config = settings("https://hooks.example.org" + SECRET_PATH, allowed=())
    notifier = WebhookNotifier(config, client=client, resolver=public_resolver, sleep=waits.append)
    return notifier, waits


def test_429_is_retried_after_the_advised_wait_then_reported_retryable() -> None:
    notifier, waits = faulty([httpx.Response(429, headers={"retry-after": "7"}, text="slow down")])
    outcome = notifier.send(message())
    assert waits == [7.0, 7.0]  # two retries ([webhook] retry default), then the queue decides
    assert outcome == RetryableFailure(reason="HTTP 429: slow down", retry_after=7.0)


def test_a_busy_server_then_success_is_delivered() -> None:
    notifier, waits = faulty(
        [httpx.Response(503, headers={"retry-after": "1"}), httpx.Response(204)]
    )
    assert notifier.send(message()) == Delivered(detail="HTTP 204")
    assert waits == [1.0]


def test_a_long_retry_after_is_handed_to_the_queue_without_waiting() -> None:
    notifier, waits = faulty([httpx.Response(503, headers={"retry-after": "3600"})])
    outcome = notifier.send(message())
    assert waits == []
    assert isinstance(outcome, RetryableFailure)
    assert outcome.retry_after == 3600.0


def test_a_500_is_not_repeated_within_a_send_but_is_retryable() -> None:
    notifier, waits = faulty([httpx.Response(500, text="internal error")])
    assert notifier.send(message()) == RetryableFailure(reason="HTTP 500: internal error")
    assert waits == []


@pytest.mark.parametrize("status", [400, 403, 404, 410])
def test_client_errors_are_permanent(status: int) -> None:
    notifier, _ = faulty([httpx.Response(status, text="no_such_channel")])
    assert notifier.send(message()) == PermanentFailure(reason=f"HTTP {status}: no_such_channel")


def test_a_network_failure_is_retryable() -> None:
    notifier, waits = faulty([httpx.ConnectError("refused")])
    outcome = notifier.send(message())
    assert isinstance(outcome, RetryableFailure)
    assert "ConnectError" in outcome.reason
    assert len(waits) == 2


def test_loopback_is_refused_unless_allowed(
    hook_server: tuple[str, list[tuple[str, dict[str, str], bytes]]],
) -> None:
    url, received = hook_server
    outcome = WebhookNotifier(settings(url, allowed=())).send(message())
    assert isinstance(outcome, PermanentFailure)
    assert "allowed_hosts" in outcome.reason
    assert SECRET_PATH not in outcome.reason
    assert received == []


def test_a_refused_webhook_never_shows_its_secret_path(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    url = "https://hooks.example.org" + SECRET_PATH
    notifier = WebhookNotifier(settings(url, allowed=()), resolver=lambda h, p: ["10.1.2.3"])
    outcome = notifier.send(message())
    assert isinstance(outcome, PermanentFailure)
    assert "hooks.example.org" in caplog.text  # the refusal is logged, by host
    assert "secret" not in caplog.text + outcome.reason


def test_the_url_is_required() -> None:
    with pytest.raises(ConfigError, match=r"\[webhook\] needs url"):
        WebhookNotifier(Settings())
