"""exclusively(): one holder of a name at a time across processes sharing the database; the
others are told at once and do not wait."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable

from blendkit.store import Store, exclusively


def _in_thread(check: Callable[[], bool]) -> bool:
    seen: list[bool] = []
    worker = threading.Thread(target=lambda: seen.append(check()))
    worker.start()
    worker.join(30)
    return seen[0]


def _try(store: Store, name: str) -> bool:
    with exclusively(store, name) as held:
        return held


def test_a_second_holder_is_refused_at_once_and_takes_it_after_the_release(store: Store) -> None:
    with exclusively(store, "upkeep") as first:
        assert first is True
        assert _in_thread(lambda: _try(store, "upkeep")) is False
        assert _in_thread(lambda: _try(store, "other upkeep")) is True  # names are separate
    assert _in_thread(lambda: _try(store, "upkeep")) is True


def test_another_process_on_the_same_database_is_refused(store: Store) -> None:
    url = store.url.render_as_string(hide_password=False)
    probe = (
        "import sys\n"
        "from blendkit.store import Store, exclusively\n"
        "s = Store(sys.argv[1])\n"
        "with exclusively(s, 'upkeep') as held:\n"
        "    print('held' if held else 'refused')\n"
        "s.dispose()\n"
    )

    def other_process() -> str:
        done = subprocess.run(
            [sys.executable, "-c", probe, url],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    with exclusively(store, "upkeep") as held:
        assert held
        assert other_process() == "refused"
    assert other_process() == "held"


def test_an_in_memory_database_is_one_process_s() -> None:
    memory = Store("sqlite://")
    try:
        with exclusively(memory, "upkeep") as held:
            assert held
            assert _in_thread(lambda: _try(memory, "upkeep")) is False
        assert _try(memory, "upkeep") is True
    finally:
        memory.dispose()
