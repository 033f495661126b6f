"""Deliverer throughput as the outbox grows: an empty outbox versus one holding 100k delivered rows.

For each backend (SQLite always; PostgreSQL when ``--postgres URL`` is given, in a fresh database
dropped afterwards) two outboxes are prepared: one empty, one with ``--delivered`` (100,000)
delivered rows written straight into the table and ANALYZEd. Each repetition queues
``--count`` statements in both, then times ``deliver_once()`` until nothing is due, against the
minimal local LRS (``benchmarks/mini_lrs.py``, a threaded HTTP server on loopback started here).
The two cases alternate inside every repetition, so machine noise hits both alike.

Prints one JSON line per figure (median statements/s of ``--repeat`` runs, default 7, and the
best run) and the ratio grown/empty per backend. Target: the grown outbox within 10 % of the
empty one (ratio >= 0.9).
Run: ``.venv/bin/python benchmarks/bench_outbox_growth.py [--postgres URL]``; figures and how to
read them: ``docs/xapi/outbox.md`` (Indexes and cost as the outbox grows).
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, text, update
from sqlalchemy.engine import make_url

from blendkit.http import Fence, OutboundPolicy
from blendkit.store import Store
from blendkit.store._tables_xapi import xapi_outbox, xapi_outbox_totals
from blendkit.xapi import LRSClient, Outbox, StatementFactory, lti_actor

BATCH = 100
FACTORY = StatementFactory("https://tool.example.edu")
ACTORS = [lti_actor("https://canvas.example.edu", f"learner-{i}") for i in range(50)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def mini_lrs() -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("mini_lrs.py")), str(port)],
        stdout=subprocess.PIPE,
    )
    try:
        assert server.stdout is not None
        server.stdout.readline()  # "ready"
        yield f"http://127.0.0.1:{port}/xapi/"
    finally:
        server.terminate()
        server.wait(10)


@contextmanager
def postgres_database(base: str) -> Iterator[str]:
    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def grow(store: Store, delivered: int) -> None:
    """``delivered`` delivered rows (old, realistic payload size), then statistics."""
    old = datetime.now(UTC) - timedelta(days=3)
    payload = "x" * 900
    with store.engine.begin() as conn:
        for start in range(0, delivered, 10_000):
            conn.execute(
                insert(xapi_outbox),
                [
                    {
                        "statement_id": str(uuid.uuid4()),
                        "payload": payload,
                        "status": "delivered",
                        "attempts": 1,
                        "next_attempt_at": old,
                        "created_at": old,
                        "delivered_at": old,
                    }
                    for _ in range(start, min(delivered, start + 10_000))
                ],
            )
        conn.execute(
            update(xapi_outbox_totals)
            .where(xapi_outbox_totals.c.name == "delivered")
            .values(value=xapi_outbox_totals.c.value + delivered)
        )
    autocommit = store.engine.execution_options(isolation_level="AUTOCOMMIT")
    with autocommit.connect() as conn:
        conn.execute(text("VACUUM ANALYZE xapi_outbox" if store.is_postgres else "ANALYZE"))


def queue(outbox: Outbox, count: int, run: int) -> None:
    statements = [
        FACTORY.module(
            "completed",
            ACTORS[i % len(ACTORS)],
            module_id=f"module-{run}-{i}-{uuid.uuid4().hex[:6]}",
            course_id="course-bench",
        )
        for i in range(count)
    ]
    for start in range(0, count, 500):
        outbox.emit(statements[start : start + 500])


def deliver_rate(outbox: Outbox, count: int) -> float:
    started = time.perf_counter()
    delivered = 0
    while True:
        report = outbox.deliver_once()
        delivered += report.delivered
        if report.requests == 0:
            break
    elapsed = time.perf_counter() - started
    assert delivered == count, (delivered, count)
    return count / elapsed


def bench_backend(
    name: str, urls: tuple[str, str], endpoint: str, args: argparse.Namespace
) -> None:
    empty_store, grown_store = Store(urls[0]), Store(urls[1])
    for store in (empty_store, grown_store):
        store.migrate()
    grow(grown_store, args.delivered)
    client = LRSClient(endpoint, fence=Fence(OutboundPolicy.allowing(["127.0.0.1"])))
    empty = Outbox(empty_store, client, batch_size=BATCH)
    grown = Outbox(grown_store, client, batch_size=BATCH)
    rates: dict[str, list[float]] = {"empty": [], "grown": []}
    for run in range(args.repeat):
        order = [("empty", empty), ("grown", grown)]
        for label, outbox in order if run % 2 == 0 else reversed(order):
            queue(outbox, args.count, run)
            rates[label].append(deliver_rate(outbox, args.count))
    medians = {label: statistics.median(values) for label, values in rates.items()}
    best = {label: max(values) for label, values in rates.items()}
    for label, rate in medians.items():
        print(
            json.dumps(
                {
                    "figure": f"deliver_{label}",
                    "backend": name,
                    "delivered_rows_before": 0 if label == "empty" else args.delivered,
                    "statements_per_s": round(rate),
                    "best_statements_per_s": round(best[label]),
                    "runs": args.repeat,
                }
            )
        )
    ratio = medians["grown"] / medians["empty"]
    print(
        json.dumps(
            {
                "ratio": f"{name}_grown_vs_empty",
                "value": round(ratio, 3),
                "best_of_runs_value": round(best["grown"] / best["empty"], 3),
                "target_met": ratio >= 0.9,
            }
        )
    )
    client.close()
    empty_store.dispose()
    grown_store.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=3000, help="statements per run")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--delivered", type=int, default=100_000)
    parser.add_argument("--postgres", help="a PostgreSQL URL whose server may create databases")
    args = parser.parse_args()
    with mini_lrs() as endpoint:
        with tempfile.TemporaryDirectory() as tmp:
            urls = (f"sqlite:///{tmp}/empty.sqlite3", f"sqlite:///{tmp}/grown.sqlite3")
            bench_backend("sqlite", urls, endpoint, args)
        if args.postgres:
            with (
                postgres_database(args.postgres) as first,
                postgres_database(args.postgres) as second,
            ):
                bench_backend("postgresql", (first, second), endpoint, args)


if __name__ == "__main__":
    main()
