"""Helpers every command uses: settings, the store, and turning errors into exit status 2."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import click

from blendkit.config import Settings, load_settings
from blendkit.errors import BlendkitError
from blendkit.store import Store

__all__ = ["fail", "handle_errors", "open_store", "settings"]

P = ParamSpec("P")
R = TypeVar("R")


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


def settings() -> Settings:
    """Settings from BLENDKIT_CONFIG and the environment (raises ConfigError)."""
    return load_settings()


def open_store(migrate: bool = True) -> Store:
    """The configured store, migrated to the newest schema unless told otherwise."""
    store = Store.from_settings(settings())
    if migrate:
        store.migrate()
    return store
