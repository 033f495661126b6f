"""Helpers every command uses: settings, the store, and turning errors into exit status 2."""

from __future__ import annotations

import functools
import importlib
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import FrameType
from typing import ParamSpec, TypeVar

import click

from blendkit.config import Settings, load_settings
from blendkit.errors import BlendkitError
from blendkit.operations import configure_logging
from blendkit.store import Store

__all__ = ["Stopper", "fail", "handle_errors", "open_store", "settings", "settings_given"]

P = ParamSpec("P")
R = TypeVar("R")

_GIVEN: ContextVar[Settings | None] = ContextVar("blendkit_cli_settings", default=None)


def fail(message: str, status: int = 2) -> None:
    """Print ``message`` to stderr and exit with ``status``."""
    click.echo(f"error: {message}", err=True)
    sys.exit(status)


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn a :class:`BlendkitError` into a one-line message on stderr and exit status 2."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except BlendkitError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)

    return wrapper


def start_service_logging() -> None:
    """Logging of a long-running command (``outbox run``, ``grades deliver --loop``) in
    ``[tool] log_format``; with ``PROMETHEUS_MULTIPROC_DIR`` set (and the ``metrics`` extra),
    its outcome counts join the web workers' ``/metrics`` on the same host."""
    configure_logging(settings().tool.log_format)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        try:
            importlib.import_module("blendkit.operations.metrics")
        except ImportError:
            click.echo("PROMETHEUS_MULTIPROC_DIR is set but the metrics extra is missing", err=True)


def settings() -> Settings:
    """Settings given by the embedding program (:func:`settings_given`), else from
    BLENDKIT_CONFIG and the environment (raises ConfigError)."""
    return _GIVEN.get() or load_settings()


@contextmanager
def settings_given(value: Settings) -> Iterator[None]:
    """Run commands with ``value`` as their settings (a framework's own configuration, such as
    Django's ``manage.py blendkit``) instead of reading BLENDKIT_CONFIG."""
    token = _GIVEN.set(value)
    try:
        yield
    finally:
        _GIVEN.reset(token)


def open_store(migrate: bool = True) -> Store:
    """The configured store, migrated to the newest schema unless told otherwise."""
    store = Store.from_settings(settings())
    if migrate:
        store.migrate()
    return store


class Stopper:
    """SIGTERM / SIGINT ask a long-running command to stop after the work in hand.

    :meth:`sleep` waits in short slices and returns early once a stop was asked, so a service
    manager's stop is honoured within a fraction of a second even during a long backoff.
    """

    def __init__(self) -> None:
        self.stopping = False
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)

    def _stop(self, _signum: int, _frame: FrameType | None) -> None:
        self.stopping = True

    def __call__(self) -> bool:
        return self.stopping

    def sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self.stopping:
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, 0.2))
