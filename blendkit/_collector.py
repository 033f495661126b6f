"""Pausing the cyclic garbage collector around bulk work that makes many acyclic objects."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["collector_paused"]


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Thousands of new container objects in a row (planned reminders, queued rows, claimed
    batches; none in a reference cycle) set off the cycle collector again and again, and each
    full pass walks every object the process holds: it waits until the bulk work is done,
    then counts it as one burst."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
