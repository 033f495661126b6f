"""10,000 statements through every fault at once; the real LRS ends with exactly 10,000 ids.

An emitting process is killed with SIGKILL once and restarted; a `blendkit outbox run` deliverer
process meets injected 500s, 429s (with Retry-After), 503s and a request slower than its timeout,
and the ralph LRS itself is stopped and started twice while statements are in flight.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from blendkit.store import Store
from blendkit.xapi import Outbox

from .conftest import Ralph
from .test_outbox import EMITTER, deliverer_env

TOTAL = 10_000


def wait_for(predicate: object, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.1)


@pytest.mark.lrs
def test_ten_thousand_statements_survive_every_fault(tmp_path: Path, fresh_ralph: Ralph) -> None:
    url = f"sqlite:///{tmp_path / 'fault.sqlite3'}"
    Store(url).migrate()
    outbox = Outbox(Store(url))
    emit = [sys.executable, str(EMITTER), url, str(TOTAL), "250", "0.05"]
    deliver = [sys.executable, "-c", "from blendkit.cli import main; main()", "outbox", "run"]
    env = deliverer_env(
        url,
        fresh_ralph,
        BLENDKIT_XAPI_BATCH_SIZE="500",
        BLENDKIT_XAPI_TIMEOUT_SECONDS="1.5",
        BLENDKIT_XAPI_BACKOFF_INITIAL_SECONDS="0.2",
        BLENDKIT_XAPI_BACKOFF_MAX_SECONDS="1.5",
        BLENDKIT_XAPI_POLL_SECONDS="0.2",
    )
    fresh_ralph.faults(
        [
            {"status": 500},
            {"status": 429, "retry_after": 1},
            {"delay": 2.5},  # longer than the deliverer's 1.5 s timeout
            {"status": 503},
            {"status": 500},
        ]
    )
    emitter = subprocess.Popen(emit, stdout=subprocess.PIPE)
    deliverer = subprocess.Popen(deliver, env=env, stderr=subprocess.DEVNULL)
    try:
        assert emitter.stdout is not None
        for _ in range(4):  # let four transactions commit, then kill -9 mid-stream
            emitter.stdout.readline()
        os.kill(emitter.pid, signal.SIGKILL)
        emitter.wait()
        killed_at = outbox.status().pending + outbox.status().delivered
        assert 1000 <= killed_at < TOTAL

        fresh_ralph.stop()  # the LRS goes away while the deliverer is working
        time.sleep(1.5)
        fresh_ralph.start()
        restarted = subprocess.Popen([*emit[:-1], "0.01"], stdout=subprocess.DEVNULL)
        wait_for(lambda: outbox.status().delivered >= TOTAL // 2, 60)
        assert fresh_ralph.stats()["faults_left"] == 0  # every injected fault was met
        assert outbox.status().pending > 0
        fresh_ralph.stop()  # and again, mid-drain
        time.sleep(1.5)
        fresh_ralph.start()
        fresh_ralph.faults([{"status": 429, "retry_after": 1}, {"status": 500}])
        assert restarted.wait(60) == 0
        wait_for(lambda: outbox.status().pending == 0, 90)
    finally:
        deliverer.send_signal(signal.SIGTERM)
        deliverer.wait(30)
        if emitter.poll() is None:
            emitter.kill()

    assert fresh_ralph.stats()["faults_left"] == 0
    status = outbox.status()
    assert (status.pending, status.dead, status.delivered) == (0, 0, TOTAL)
    ids = fresh_ralph.stored_ids()
    assert len(ids) == TOTAL
    assert len(set(ids)) == TOTAL
