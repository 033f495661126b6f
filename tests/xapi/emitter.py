"""A separate emitting process for the crash tests: queues COUNT deterministic statements.

Usage: ``python emitter.py DATABASE_URL COUNT CHUNK PAUSE``. Each chunk is one transaction; the
ids come from the event identity, so running it again after a kill -9 re-queues nothing twice.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta

from blendkit.store import Store
from blendkit.xapi import Outbox, StatementFactory, lti_actor

T0 = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)


def main() -> None:
    url, count, chunk, pause = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    store = Store(url)
    store.migrate()
    outbox = Outbox(store)
    factory = StatementFactory("https://tool.example.edu")
    for start in range(0, count, chunk):
        batch = [
            factory.quiz_attempt(
                lti_actor("https://canvas.example.edu", f"learner-{i % 97}"),
                quiz_id=f"quiz-{i % 13}",
                attempt_id=str(i),
                score=i % 11,
                max_score=10,
                mastery_score=0.6,
                session_id=f"s-{i}",
                duration=60,
                course_id="fault-course",
                at=T0 + timedelta(seconds=i),
            )
            for i in range(start, min(start + chunk, count))
        ]
        outbox.emit(batch)
        print(start + len(batch), flush=True)
        time.sleep(pause)


if __name__ == "__main__":
    main()
