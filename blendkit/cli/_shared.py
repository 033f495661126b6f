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
from typing import Any, NoReturn, ParamSpec, TypeVar

import click
from sqlalchemy.exc import SQLAlchemyError

from blendkit._breaker import CircuitBreaker
from blendkit.config import Settings, load_settings
from blendkit.errors import BlendkitError, StoreError
from blendkit.operations import configure_logging, database_unavailable
from blendkit.store import Store, describe_database_error

__all__ = [
    "EXIT_DATABASE_UNAVAILABLE",
    "EXIT_REFUSED",
    "Stopper",
    "fail",
    "handle_errors",
    "access_tokens",
    "migrated",
    "open_store",
    "settings",
    "settings_given",
]

P = ParamSpec("P")
R = TypeVar("R")

_GIVEN: ContextVar[Settings | None] = ContextVar("blendkit_cli_settings", default=None)


def fail(message: str, status: int = 2) -> NoReturn:
    """Print ``message`` to stderr and exit with ``status``."""
    click.echo(f"error: {message}", err=True)
    sys.exit(status)


EXIT_REFUSED = 2
"""A refusal the operator can act on (bad input, bad settings, a rule)."""
EXIT_DATABASE_UNAVAILABLE = 3
"""The database did not answer: retrying later, or fixing ``[database] url``, can help."""


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn a :class:`BlendkitError` into one line on stderr and exit status 2, and a database
    that does not answer (directly or behind a blendkit error) into one line and status 3.

    The line names the error's class and driver summary, never a password, a statement or its
    values, and no traceback is printed.
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except (BlendkitError, SQLAlchemyError) as exc:
            cause = database_unavailable(exc)
            if cause is not None:
                fail(
                    f"the database does not answer ({describe_database_error(cause)}); check that "
                    "it is running and that [database] url (BLENDKIT_DATABASE_URL) points at it",
                    EXIT_DATABASE_UNAVAILABLE,
                )
            if isinstance(exc, SQLAlchemyError):
                fail(
                    f"the database refused the command ({describe_database_error(exc)}); "
                    "check the database's health and the data the command was given",
                )
            fail(str(exc).splitlines()[0])
            raise  # unreachable: fail() exits

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


def access_tokens(store: Store, http: Any) -> Any:
    """The LTI service access tokens of the tool's keys in ``store`` (AGS, NRPS), sent through
    ``http`` (an ``httpx.Client``) and the configured outbound fence."""
    from blendkit.http import Fence
    from blendkit.lti import AccessTokens, KeySet
    from blendkit.store import KeyEncryption

    config = settings()
    return AccessTokens(
        KeySet(store, encryption=KeyEncryption.from_settings(config)),
        http=http,
        fence=Fence.from_settings(config),
    )


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


def migrated(store: Store, stopper: Stopper, poll_seconds: float, name: str) -> bool:
    """Migrate, waiting (with backoff, one log line per change) while the database is away;
    False when a stop was asked first."""
    waiting = CircuitBreaker(
        name, initial_seconds=poll_seconds, max_seconds=max(poll_seconds, 60.0)
    )
    while not stopper():
        try:
            store.migrate()
        except StoreError as exc:
            waiting.failure(exc.message.splitlines()[0][:300])
            stopper.sleep(waiting.wait_seconds())
            continue
        waiting.success()
        return True
    return False
