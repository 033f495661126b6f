"""Meeting plugins: attendance import and webhook verification, against raw httpx/hmac peers.

Prints JSON lines (median of >= 5 runs, same process):
- ``zoom.participants_10k``: ``ZoomProvider.fetch_attendance`` over 10,000 participants-report
  rows in pages of 300 (served from prepared bytes by an ``httpx.MockTransport``), against the
  peer: the same pages fetched with a bare ``httpx.Client`` and turned into plain dicts;
- ``teams.attendance_10k``: ``TeamsProvider.fetch_attendance`` over 10,000 attendance records
  in pages of 100 linked by ``@odata.nextLink``, against the same kind of bare peer;
- ``zoom.webhook_1k``: verifying and parsing 1,000 signed ``meeting.participant_joined``
  deliveries, against the floor: HMAC-SHA256 + ``compare_digest`` + ``json.loads`` alone.

    .venv/bin/python benchmarks/bench_plugins.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from blendkit_teams import TeamsProvider
from blendkit_zoom import ZoomProvider

from blendkit.config import Settings
from blendkit.http import Fence, OutboundPolicy
from blendkit.sessions import MemoryEventLedger, WebhookRequest

START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
ROWS = 10_000
SECRET = "bench-secret"
GRAPH = "https://graph.microsoft.com/v1.0"
ORGANIZER = "teacher@contoso.edu"
JOIN = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_bench%40thread.v2/0"

# The vendor APIs are served by an httpx.MockTransport; their host names resolve to a public
# address here (nothing is looked up in DNS), so the production fence runs on every request.
VENDOR = Fence(OutboundPolicy(), resolver=lambda host, port: ["93.184.215.14"])


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def median_ms(func: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        func()
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def emit(figure: str, ours: float, peer: float, peer_name: str, **extra: Any) -> None:
    line = {
        "figure": figure,
        "blendkit_median_ms": round(ours, 2),
        "peer": peer_name,
        "peer_median_ms": round(peer, 2),
        "ratio_to_peer": round(ours / peer, 2),
    }
    print(json.dumps(line | extra))


def token_answer() -> httpx.Response:
    return httpx.Response(200, json={"access_token": "t", "expires_in": 3599})


def zoom_pages() -> dict[str | None, bytes]:
    """Page bytes by the next_page_token that asks for them (None: the first page)."""
    rows = [
        {
            "id": f"u{i % 4000}",
            "user_id": str(16_000_000 + i),
            "participant_user_id": f"u{i % 4000}",
            "name": f"Learner {i % 4000}",
            "user_email": f"l{i % 4000}@example.edu",
            "join_time": stamp(START + timedelta(seconds=i % 3000)),
            "leave_time": stamp(START + timedelta(seconds=i % 3000 + 1200)),
            "duration": 1200,
            "registrant_id": f"r{i % 4000}",
            "status": "in_meeting",
        }
        for i in range(ROWS)
    ]
    pages: dict[str | None, bytes] = {}
    for n, offset in enumerate(range(0, ROWS, 300)):
        nxt = f"tok{n + 1}" if offset + 300 < ROWS else ""
        body = {
            "page_size": 300,
            "next_page_token": nxt,
            "participants": rows[offset : offset + 300],
        }
        pages[f"tok{n}" if n else None] = json.dumps(body).encode()
    return pages


def graph_pages(online: str) -> dict[str, bytes]:
    """Page bytes by URL (the first page and every @odata.nextLink)."""
    base = (
        f"{GRAPH}/users/{ORGANIZER}/onlineMeetings/{online}/attendanceReports/r1/attendanceRecords"
    )
    records = [
        {
            "id": f"rec{i}",
            "emailAddress": f"l{i}@contoso.edu",
            "totalAttendanceInSeconds": 1800,
            "role": "Attendee",
            "identity": {"id": f"id-{i}", "displayName": f"Learner {i}"},
            "attendanceIntervals": [
                {
                    "joinDateTime": f"{stamp(START)[:-1]}.1234567Z",
                    "leaveDateTime": f"{stamp(START + timedelta(minutes=30))[:-1]}.7654321Z",
                    "durationInSeconds": 1800,
                }
            ],
        }
        for i in range(ROWS)
    ]
    pages: dict[str, bytes] = {}
    for offset in range(0, ROWS, 100):
        url = base if offset == 0 else f"{base}?$skiptoken={offset}"
        body: dict[str, Any] = {"value": records[offset : offset + 100]}
        if offset + 100 < ROWS:
            body["@odata.nextLink"] = f"{base}?$skiptoken={offset + 100}"
        pages[url] = json.dumps(body).encode()
    return pages


def bench_zoom(repeats: int) -> None:
    pages = zoom_pages()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "zoom.us":
            return token_answer()
        return httpx.Response(200, content=pages[request.url.params.get("next_page_token")])

    settings = Settings(zoom={"account_id": "a", "client_id": "c", "client_secret": "s"})
    client = httpx.Client(transport=httpx.MockTransport(handler))
    provider = ZoomProvider(settings, client=client, fence=VENDOR)

    def peer() -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            params = {"page_size": "300", **({"next_page_token": token} if token else {})}
            body = client.get(
                "https://api.zoom.us/v2/report/meetings/1/participants", params=params
            ).json()
            out += [
                {"join": r["join_time"], "leave": r["leave_time"], "email": r["user_email"]}
                for r in body["participants"]
            ]
            token = body["next_page_token"] or None
            if token is None:
                return out

    assert len(provider.fetch_attendance("1", "abc==")) == len(peer()) == ROWS
    emit(
        "zoom.participants_10k",
        median_ms(lambda: provider.fetch_attendance("1", "abc=="), repeats),
        median_ms(peer, repeats),
        "bare httpx paging + json to plain dicts (no validation)",
        rows=ROWS,
        pages=len(pages),
    )


def bench_teams(repeats: int) -> None:
    online = "MSo1bench"
    pages = graph_pages(online)
    report = json.dumps({"value": [{"id": "r1", "meetingStartDateTime": stamp(START)}]}).encode()
    meetings = json.dumps({"value": [{"id": online, "joinWebUrl": JOIN}]}).encode()
    event = json.dumps({"id": "e1", "onlineMeeting": {"joinUrl": JOIN}}).encode()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "login.microsoftonline.com":
            return token_answer()
        url = str(request.url)
        path = request.url.path
        if url in pages:
            return httpx.Response(200, content=pages[url])
        if path.endswith("/attendanceReports"):
            return httpx.Response(200, content=report)
        if path.endswith("/onlineMeetings"):
            return httpx.Response(200, content=meetings)
        return httpx.Response(200, content=event)

    settings = Settings(
        teams={"tenant_id": "t", "client_id": "c", "client_secret": "s", "organizer": ORGANIZER}
    )
    client = httpx.Client(transport=httpx.MockTransport(handler))
    provider = TeamsProvider(settings, client=client, fence=VENDOR)
    first = next(iter(pages))

    def peer() -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        url: str | None = first
        while url:
            body = client.get(url).json()
            for record in body["value"]:
                for interval in record["attendanceIntervals"]:
                    out.append({"join": interval["joinDateTime"], "email": record["emailAddress"]})
            url = body.get("@odata.nextLink")
        return out

    assert len(provider.fetch_attendance("e1")) == len(peer()) == ROWS
    emit(
        "teams.attendance_10k",
        median_ms(lambda: provider.fetch_attendance("e1"), repeats),
        median_ms(peer, repeats),
        "bare httpx nextLink paging + json to plain dicts (no validation)",
        rows=ROWS,
        pages=len(pages),
    )


def bench_webhooks(repeats: int) -> None:
    now = datetime.now(UTC)
    requests = []
    for i in range(1000):
        body = json.dumps(
            {
                "event": "meeting.participant_joined",
                "event_ts": 1772463700000 + i,
                "payload": {
                    "account_id": "a",
                    "object": {
                        "id": "85746065001",
                        "uuid": "abc==",
                        "host_id": "h",
                        "type": 2,
                        "duration": 60,
                        "participant": {
                            "user_id": str(i),
                            "user_name": f"P{i}",
                            "join_time": stamp(START),
                            "email": f"p{i}@example.edu",
                        },
                    },
                },
            }
        ).encode()
        ts = str(int(now.timestamp()))
        sig = (
            "v0="
            + hmac.new(SECRET.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
        )
        requests.append(
            WebhookRequest(
                headers={"x-zm-request-timestamp": ts, "x-zm-signature": sig},
                body=body,
                received_at=now,
            )
        )
    settings = Settings(
        zoom={"account_id": "a", "client_id": "c", "client_secret": "s", "webhook_secret": SECRET}
    )

    client = httpx.Client()

    def ours() -> None:
        # A fresh ledger each run: the same deliveries would otherwise count as replays.
        provider = ZoomProvider(
            settings, client=client, replay_ledger=MemoryEventLedger(), fence=VENDOR
        )
        for request in requests:
            provider.handle_webhook(request)

    def floor() -> None:
        key = SECRET.encode()
        for request in requests:
            ts = request.headers["x-zm-request-timestamp"]
            expected = (
                "v0="
                + hmac.new(key, f"v0:{ts}:".encode() + request.body, hashlib.sha256).hexdigest()
            )
            assert hmac.compare_digest(expected, request.headers["x-zm-signature"])
            json.loads(request.body)

    emit(
        "zoom.webhook_1k",
        median_ms(ours, repeats),
        median_ms(floor, repeats),
        "hmac + compare_digest + json.loads only (no typed events, no replay check)",
        deliveries=len(requests),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    repeats = max(5, parser.parse_args().repeats)
    bench_zoom(repeats)
    bench_teams(repeats)
    bench_webhooks(repeats)


if __name__ == "__main__":
    main()
