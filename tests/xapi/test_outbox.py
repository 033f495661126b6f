"""The durable outbox: store-first emit, batched delivery, backoff, dead letters, concurrency."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import tincan
from sqlalchemy import select

from blendkit.errors import OutboxError
from blendkit.store import Store
from blendkit.store._tables_xapi import xapi_outbox
from blendkit.xapi import LRSClient, Outbox, StatementFactory, lti_actor
from tests.fence import public_fence

from .conftest import PASSWORD, USERNAME, Ralph

FACTORY = StatementFactory("https://tool.example.edu")
ACTOR = lti_actor("https://canvas.instructure.com", "outbox-tests")
EMITTER = Path(__file__).with_name("emitter.py")


def statements(n: int, *, bad: set[int] = frozenset(), tag: str | None = None) -> list[Any]:  # type: ignore[assignment]
    tag = tag or uuid.uuid4().hex[:8]
    return [
        FACTORY.module(
            "completed",
            ACTOR,
            module_id=f"{'BAD-' if i in bad else ''}{tag}-{i}",
            course_id=f"course-{tag}",
        )
        for i in range(n)
    ]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def held_rows(store: Store) -> list[Any]:
    """The claim tokens of the rows a claim still holds."""
    with store.engine.connect() as conn:
        return list(
            conn.execute(
                select(xapi_outbox.c.claimed_by).where(xapi_outbox.c.claimed_by.is_not(None))
            ).all()
        )


def mock_lrs(handler: Any) -> LRSClient:
    return LRSClient(
        "https://lrs.example.org/xapi",
        transport=httpx.MockTransport(handler),
        fence=public_fence(),
    )


# --- emit ---------------------------------------------------------------------------------------


def test_emit_joins_the_apps_transaction(store: Store) -> None:
    outbox = Outbox(store)

    def failing_change() -> None:
        with store.session() as session:
            outbox.emit(statements(3), session=session)
            raise RuntimeError("the app's own change failed")

    with pytest.raises(RuntimeError):
        failing_change()
    assert outbox.status().pending == 0
    with store.session() as session:
        outbox.emit(statements(3), session=session)
    assert outbox.status().pending == 3
    with store.engine.begin() as connection:  # a Core connection works the same way
        outbox.emit(statements(2), session=connection)
    assert outbox.status().pending == 5


def test_emit_is_idempotent_and_completes_id_and_timestamp(store: Store) -> None:
    outbox = Outbox(store)
    batch = statements(4)
    assert outbox.emit(batch) == [str(s.id) for s in batch]
    outbox.emit(batch[:2])
    bare = {
        "actor": {"mbox": "mailto:ann@example.org"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
        "object": {"id": "https://tool.example.edu/page"},
    }
    [new_id] = outbox.emit(bare)
    assert outbox.status().pending == 5
    with store.engine.connect() as conn:
        payload = conn.execute(
            select(xapi_outbox.c.payload).where(xapi_outbox.c.statement_id == new_id)
        ).scalar_one()
    stored = orjson.loads(payload)
    assert stored["id"] == new_id
    assert stored["timestamp"].endswith("Z")


def test_one_emit_with_repeated_and_already_queued_ids_stores_each_statement_once(
    store: Store,
) -> None:
    """A batch is one INSERT on PostgreSQL (the rows as arrays): an id repeated within it, or
    already queued, keeps the first copy, and every JSON text is stored byte for byte, in the
    order given."""
    outbox = Outbox(store)
    first = statements(3)
    outbox.emit(first[:1])
    changed = first[1].model_copy(update={"timestamp": datetime(2030, 1, 1, tzinfo=UTC)})
    batch = [first[0], first[1], changed, first[2], first[2]]
    assert outbox.emit(batch) == [str(s.id) for s in batch]
    with store.engine.connect() as conn:
        stored = conn.execute(
            select(xapi_outbox.c.statement_id, xapi_outbox.c.payload).order_by(xapi_outbox.c.id)
        ).all()
    assert [(sid, payload.encode()) for sid, payload in stored] == [
        (str(s.id), s.to_json()) for s in first
    ]
    assert outbox.status().pending == 3


def test_emit_accepts_tincan_statements(sqlite_store: Store) -> None:
    theirs = tincan.Statement(
        actor=tincan.Agent(mbox="mailto:ann@example.org"),
        verb=tincan.Verb(id="http://adlnet.gov/expapi/verbs/experienced"),
        object=tincan.Activity(id="https://tool.example.edu/page/1"),
    )
    outbox = Outbox(sqlite_store)
    [sid] = outbox.emit(theirs)
    out = io.BytesIO()
    outbox.export(out)
    assert orjson.loads(out.getvalue())["id"] == sid


def test_local_only_mode_keeps_and_exports(sqlite_store: Store) -> None:
    outbox = Outbox(sqlite_store)
    batch = statements(5)
    outbox.emit(batch)
    with pytest.raises(OutboxError, match="no LRS is configured"):
        outbox.deliver_once()
    out = io.BytesIO()
    assert outbox.export(out) == 5
    lines = out.getvalue().splitlines()
    assert [orjson.loads(line)["id"] for line in lines] == [str(s.id) for s in batch]


# --- delivery against ralph -------------------------------------------------------------------


def test_flush_delivers_everything_to_ralph_once(store: Store, fresh_ralph: Ralph) -> None:
    outbox = Outbox(store, fresh_ralph.client(), batch_size=40)
    batch = statements(250)
    outbox.emit(batch)
    report = outbox.flush(max_seconds=30)
    assert report.delivered == 250
    assert report.requests == 7  # ceil(250 / 40)
    status = outbox.status()
    assert (status.pending, status.delivered, status.dead) == (0, 250, 0)
    assert sorted(fresh_ralph.stored_ids()) == sorted(str(s.id) for s in batch)
    assert set(fresh_ralph.stats()["sent"].values()) == {1}


# --- faults (mocked LRS answers) -------------------------------------------------------------


def rejecting_lrs(calls: list[int]) -> LRSClient:
    """An LRS that refuses any batch holding a module whose id contains BAD (400, with reason)."""

    def handler(request: httpx.Request) -> httpx.Response:
        items = orjson.loads(request.content)
        calls.append(len(items))
        bad = [s["id"] for s in items if "BAD-" in s["object"]["id"]]
        if bad:
            return httpx.Response(400, text=f"statement {bad[0]} uses a forbidden module id")
        return httpx.Response(200, json=[s["id"] for s in items])

    return mock_lrs(handler)


def test_400_splits_the_batch_and_dead_letters_only_the_bad_ones(sqlite_store: Store) -> None:
    calls: list[int] = []
    outbox = Outbox(sqlite_store, rejecting_lrs(calls), batch_size=32)
    batch = statements(32, bad={5, 20})
    outbox.emit(batch)
    report = outbox.flush(max_seconds=5)
    assert (report.delivered, report.dead) == (30, 2)
    assert len(calls) < 32  # halving, not one request per statement
    letters = {d.statement_id: d for d in outbox.dead_letters()}
    assert set(letters) == {str(batch[5].id), str(batch[20].id)}
    assert "rejected the request (400)" in letters[str(batch[5].id)].reason
    assert "forbidden module id" not in letters[str(batch[5].id)].reason  # no answer body
    assert letters[str(batch[5].id)].status_code == 400
    assert outbox.retry_dead([str(batch[5].id)]) == 1
    assert (outbox.status().pending, outbox.status().dead) == (1, 1)


def test_retry_after_and_exponential_backoff_with_jitter(sqlite_store: Store) -> None:
    answers = iter(
        [
            httpx.Response(429, headers={"Retry-After": "30"}),
            httpx.Response(500),
            httpx.Response(503),
            httpx.Response(204),
        ]
    )
    clock = FakeClock()
    outbox = Outbox(
        sqlite_store,
        mock_lrs(lambda request: next(answers)),
        backoff_initial_seconds=2,
        backoff_max_seconds=5,
        clock=clock,
        sleep=clock.sleep,
        jitter=lambda: 1.0,
    )
    outbox.emit(statements(3))
    assert outbox.deliver_once().retried == 3
    due = outbox.status().next_attempt_at
    assert due is not None
    assert due.timestamp() == pytest.approx(clock.now + 30)
    assert outbox.deliver_once().requests == 0  # not due yet
    clock.now += 30
    assert outbox.deliver_once().retried == 3  # 500: attempt 2 -> 2 * 2 s
    assert outbox.status().next_attempt_at.timestamp() == pytest.approx(clock.now + 4)  # type: ignore[union-attr]
    clock.now += 4
    assert outbox.deliver_once().retried == 3  # 503 without Retry-After: capped at 5 s
    assert outbox.status().next_attempt_at.timestamp() == pytest.approx(clock.now + 5)  # type: ignore[union-attr]
    clock.now += 5
    assert outbox.deliver_once().delivered == 3
    assert outbox.status().pending == 0


def test_one_claim_sends_and_marks_each_batch_and_gives_back_what_a_failure_left(
    store: Store,
) -> None:
    """A claim holds several batches; each is marked delivered once the LRS accepted it, and
    when the LRS fails, the batches not sent yet are due again at once, no attempt counted."""
    answers = iter([httpx.Response(204), httpx.Response(204), httpx.Response(503)])
    sizes: list[int] = []

    def lrs(request: httpx.Request) -> httpx.Response:
        sizes.append(len(orjson.loads(request.content)))
        return next(answers)

    clock = FakeClock()
    outbox = Outbox(
        store, mock_lrs(lrs), batch_size=4, clock=clock, sleep=clock.sleep, jitter=lambda: 1.0
    )
    outbox.emit(statements(4 * outbox.claim_batches + 2))
    marked: list[int] = []
    mark = outbox._mark

    def counting_mark(token: str, ids: list[int] | None, tally: str | None = None) -> int:
        done = mark(token, ids, tally)
        marked.append(done)
        return done

    outbox._mark = counting_mark  # type: ignore[method-assign]
    report = outbox.deliver_once()
    assert (report.delivered, report.retried, sizes, marked) == (8, 4, [4, 4, 4], [4, 4])
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(xapi_outbox.c.attempts, xapi_outbox.c.claimed_by, xapi_outbox.c.next_attempt_at)
            .where(xapi_outbox.c.status == "pending")
            .order_by(xapi_outbox.c.id)
        ).all()
    assert [r.claimed_by for r in rows] == [None] * 14  # nothing stays held by a lease
    assert [r.attempts for r in rows] == [1] * 4 + [0] * 10  # only the failed batch counts one
    assert outbox.status().pending == 14


def test_a_stop_between_batches_of_one_claim_finishes_the_batch_in_flight(
    sqlite_store: Store,
) -> None:
    sizes: list[int] = []

    def lrs(request: httpx.Request) -> httpx.Response:
        sizes.append(len(orjson.loads(request.content)))
        return httpx.Response(204)

    outbox = Outbox(sqlite_store, mock_lrs(lrs), batch_size=3)
    outbox.emit(statements(12))
    outbox.stopping = lambda: True  # what run() asks: SIGTERM arrived
    assert outbox.deliver_once().delivered == 3
    assert sizes == [3]
    assert held_rows(sqlite_store) == []  # the rest is free for the next deliverer at once
    assert outbox.status().pending == 9


def test_jitter_spreads_retries_between_half_and_full_delay(sqlite_store: Store) -> None:
    outbox = Outbox(sqlite_store, backoff_initial_seconds=1, backoff_max_seconds=60)
    delays = [outbox.backoff(4) for _ in range(200)]
    assert all(4 <= d <= 8 for d in delays)
    assert max(delays) - min(delays) > 1


def test_run_survives_a_database_error(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    clock = FakeClock()
    outbox = Outbox(sqlite_store, mock_lrs(lambda r: httpx.Response(204)), sleep=clock.sleep)
    outbox.emit(statements(2))
    real = outbox.deliver_once
    calls = iter([OperationalError("SELECT", {}, Exception("database is locked"))])

    def flaky(**kw: Any) -> Any:
        failure = next(calls, None)
        if failure is not None:
            raise failure
        return real(**kw)

    monkeypatch.setattr(outbox, "deliver_once", flaky)
    report = outbox.run(lambda: outbox.status().pending == 0, poll_seconds=0.5)
    assert report.delivered == 2
    assert "database is locked" in report.errors[0]
    assert 0.25 <= clock.slept[0] <= 0.5  # poll_seconds, jittered; longer as failures go on


def test_bad_credentials_keep_statements_pending_not_dead(sqlite_store: Store) -> None:
    outbox = Outbox(sqlite_store, mock_lrs(lambda request: httpx.Response(401)))
    outbox.emit(statements(2))
    report = outbox.deliver_once()
    assert (report.retried, report.dead) == (2, 0)
    status = outbox.status()
    assert status.pending == 2
    assert status.last_error is not None
    assert "credentials" in status.last_error


# --- processes ----------------------------------------------------------------------------------


def test_kill_9_while_emitting_loses_and_duplicates_nothing(
    tmp_path: Path, fresh_ralph: Ralph
) -> None:
    url = f"sqlite:///{tmp_path / 'emit.sqlite3'}"
    args = [sys.executable, str(EMITTER), url, "3000", "100", "0.02"]
    child = subprocess.Popen(args, stdout=subprocess.PIPE)
    assert child.stdout is not None
    child.stdout.readline()  # the first transaction is committed
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    store = Store(url)
    queued = Outbox(store).status().pending
    assert 100 <= queued < 3000
    assert queued % 100 == 0  # whole transactions only
    subprocess.run([*args[:-1], "0"], check=True, stdout=subprocess.DEVNULL)
    outbox = Outbox(store, fresh_ralph.client(), batch_size=500)
    assert outbox.status().pending == 3000
    assert outbox.flush(max_seconds=60).delivered == 3000
    ids = fresh_ralph.stored_ids()
    assert len(ids) == len(set(ids)) == 3000


def deliverer_env(url: str, ralph: Ralph, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLENDKIT_")}
    env.update(
        BLENDKIT_DATABASE_URL=url,
        BLENDKIT_XAPI_ENDPOINT=ralph.endpoint,
        BLENDKIT_HTTP_ALLOWED_HOSTS='["127.0.0.1"]',
        BLENDKIT_XAPI_USERNAME=USERNAME,
        BLENDKIT_XAPI_PASSWORD=PASSWORD,
        **extra,
    )
    return env


@pytest.mark.postgres
def test_several_deliverers_drain_one_postgres_outbox_without_double_sends(
    postgres_url: str, fresh_ralph: Ralph
) -> None:
    store = Store(postgres_url)
    store.migrate()
    outbox = Outbox(store)
    outbox.emit(statements(3000))
    env = deliverer_env(
        postgres_url, fresh_ralph, BLENDKIT_XAPI_BATCH_SIZE="50", BLENDKIT_XAPI_POLL_SECONDS="0.2"
    )
    blendkit = [sys.executable, "-c", "from blendkit.cli import main; main()", "outbox", "run"]
    workers = [subprocess.Popen(blendkit, env=env, stderr=subprocess.DEVNULL) for _ in range(3)]
    try:
        deadline = time.monotonic() + 120
        while outbox.status().pending and time.monotonic() < deadline:
            time.sleep(0.3)
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(30)
    assert outbox.status().pending == 0
    sent = fresh_ralph.stats()["sent"]
    assert len(sent) == 3000
    assert set(sent.values()) == {1}, "a statement was POSTed by two deliverers"
    ids = fresh_ralph.stored_ids()
    assert len(ids) == len(set(ids)) == 3000
    store.dispose()


def test_kill_9_while_delivering_resends_once_the_lease_expires(
    tmp_path: Path, fresh_ralph: Ralph
) -> None:
    url = f"sqlite:///{tmp_path / 'deliver.sqlite3'}"
    store = Store(url)
    store.migrate()
    outbox = Outbox(store)
    batch = statements(400)
    outbox.emit(batch)
    fresh_ralph.faults([{"delay": 6}])  # the first POST hangs inside the LRS
    env = deliverer_env(url, fresh_ralph, BLENDKIT_XAPI_BATCH_SIZE="400")
    deliver = [sys.executable, "-c", "from blendkit.cli import main; main()", "outbox", "run"]
    worker = subprocess.Popen(deliver, env=env, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while fresh_ralph.stats()["posts"] == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    os.kill(worker.pid, signal.SIGKILL)  # dies holding a claimed, unsent batch
    worker.wait()
    now = Outbox(store, fresh_ralph.client())
    assert now.deliver_once().requests == 0  # the dead worker's lease still holds the claim
    later = Outbox(store, fresh_ralph.client(), clock=lambda: time.time() + 3600)
    assert later.flush(max_seconds=30).delivered == 400
    ids = fresh_ralph.stored_ids()
    assert len(ids) == len(set(ids)) == 400
