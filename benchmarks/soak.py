"""Soak: the example tool under steady learner load for N minutes, with faults on a schedule.

gunicorn (2 workers, ``examples/flask_app/gunicorn.conf.py``) and ``blendkit outbox run`` on a
PostgreSQL database of their own (``blendkit_soak_<pid>``, created and dropped here), delivering
to the real ralph LRS; learner flows (``soak_load.py``) at ``--rate`` a second. Faults (``--faults
all``), at fixed shares of the run: SIGKILL a gunicorn worker; SIGKILL the deliverer (restarted
5 s later, as systemd's ``Restart=always`` would); ralph stopped for ``--outage-seconds``; every
app database connection ended with ``pg_terminate_backend``; the role's connection limit filled
for ``--hold-seconds``; then a worker and the deliverer killed together. ``--faults lrs`` repeats
only the LRS outage (60 s clean, 60 s down, 60 s after) to compare page latency;
``--grow-delivered N`` alternates windows with an empty outbox and with N delivered rows.

Prints one line per ``--window`` (flows/s, page p50/p99, errors by status, statements delivered
per second, RSS per process), then the consistency counts: statements emitted vs stored at the
LRS by id and POSTs per id (every re-send listed), quiz scores vs submissions, processes that
exited unexpectedly, RSS growth. Ctrl-C stops every process and drops the database.

    BLENDKIT_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
      .venv/bin/python benchmarks/soak.py --minutes 10 --rate 6
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from soak_load import Load
from soak_report import Windows, consistency, growth_phase, print_consistency, summary
from soak_stack import Stack

Step = tuple[float, str, Callable[[], str]]


def schedule(stack: Stack, args: argparse.Namespace) -> list[Step]:
    """(seconds from the start, label, action) for the chosen faults."""
    total = args.minutes * 60
    steps: list[Step] = []
    if args.faults == "all":
        held: list[Any] = []

        def exhaust() -> str:
            text, conns = stack.exhaust_connections()
            held.extend(conns)
            return text

        def release() -> str:
            text = stack.release_connections(held)
            held.clear()
            return text

        outage = 0.30 * total
        steps += [
            (0.10 * total, "kill worker", stack.kill_worker),
            (0.20 * total, "kill deliverer", stack.kill_deliverer),
            (outage, "lrs down", stack.stop_lrs),
            (outage + args.outage_seconds, "lrs up", stack.start_lrs),
            (0.50 * total, "terminate connections", stack.terminate_connections),
            (0.60 * total, "connection limit", exhaust),
            (0.60 * total + args.hold_seconds, "limit lifted", release),
            (0.75 * total, "kill worker", stack.kill_worker),
            (0.75 * total + 0.5, "kill deliverer", stack.kill_deliverer),
        ]
    elif args.faults == "lrs":
        cycle = 3 * args.outage_seconds
        start = args.outage_seconds
        while start + args.outage_seconds <= total:
            steps += [(start, "lrs down", stack.stop_lrs),
                      (start + args.outage_seconds, "lrs up", stack.start_lrs)]  # fmt: skip
            start += cycle
    return sorted(steps, key=lambda step: step[0])


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument(
        "--rate", type=float, default=6.0, help="learner flows a second; 0: as fast as served"
    )
    parser.add_argument("--threads", type=int, default=48, help="learner threads")
    parser.add_argument("--faults", choices=["all", "lrs", "none"], default="all")
    parser.add_argument("--no-faults", dest="faults", action="store_const", const="none")
    parser.add_argument("--outage-seconds", type=float, default=60.0)
    parser.add_argument("--hold-seconds", type=float, default=45.0)
    parser.add_argument("--window", type=float, default=30.0, help="seconds per printed line")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--drain-seconds", type=float, default=360.0)
    parser.add_argument(
        "--grow-delivered", type=int, default=0, help="alternate: empty / this many delivered rows"
    )
    parser.add_argument("--json", type=Path, help="also write every window and the counts here")
    args = parser.parse_args()
    base = os.environ.get("BLENDKIT_TEST_POSTGRES_URL")
    if not base:
        raise SystemExit("set BLENDKIT_TEST_POSTGRES_URL (a PostgreSQL server that may create "
                         "databases and roles)")  # fmt: skip
    # Ctrl-C even when started in the background (where SIGINT arrives ignored), and SIGTERM
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    stack: Stack | None = None
    load: Load | None = None
    try:
        stack = Stack(base, args.workers)
        print(json.dumps({"soak": "start", "logs": str(stack.logs), "database": stack.db.name,
                          "rate": args.rate, "minutes": args.minutes, "faults": args.faults,
                          "cpus": os.cpu_count(), "loadavg": loadavg()}), flush=True)  # fmt: skip
        stack.start()
        load = Load(stack.base, stack.platform, rate=args.rate, threads=args.threads)
        windows = Windows(stack, load, args.window)
        steps = schedule(stack, args)
        events: list[tuple[float, str, str]] = []
        t0 = time.monotonic()
        load.start()
        windows.begin(t0)
        end = t0 + args.minutes * 60
        grow = (
            growth_phase(stack, args.grow_delivered, args.window) if args.grow_delivered else None
        )
        while time.monotonic() < end:
            now = time.monotonic()
            windows.tick(now)  # first, so a fault on a window's boundary opens the next window
            while steps and now - t0 >= steps[0][0]:
                _, label, action = steps.pop(0)
                events.append((round(now - t0, 1), label, action()))
                print(json.dumps({"t": events[-1][0], "fault": label, "done": events[-1][2]}),
                      flush=True)  # fmt: skip
                windows.note(label)
            stack.supervise()
            if grow is not None:
                windows.note(next(grow))
            time.sleep(max(0.0, min(1.0, end - time.monotonic())))
        for _, label, action in steps:  # a fault still open at the end is closed now
            if label in ("lrs up", "limit lifted"):
                events.append((round(time.monotonic() - t0, 1), label, action()))
        load.stop()
        windows.tick(time.monotonic(), final=True)
        drained = windows.drain(args.drain_seconds)
        counts: dict[str, Any] = {}
        try:
            counts = consistency(stack, load, windows, events, drained)
            counts["summary"] = summary(windows.lines)
            print_consistency(counts)
        finally:  # the windows are kept even when counting fails
            if args.json:
                found = {"windows": windows.lines, "counts": counts, "events": events}
                args.json.write_text(json.dumps(found, indent=1, default=str))
    except KeyboardInterrupt:
        print("interrupted: stopping every process and dropping the database", file=sys.stderr)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not stop the cleanup
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if load is not None and not load.stopping.is_set():
            threading.Thread(target=load.stop, args=(False,), daemon=True).start()
        if stack is not None:
            stack.stop()
            print(json.dumps({"soak": "end", "loadavg": loadavg(), "logs": str(stack.logs)}))


if __name__ == "__main__":
    main()
