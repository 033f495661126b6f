"""The Starlette adapter's runtime: :class:`ToolRuntime` plus the async client and services,
and the JWKS fetch handed from the thread pool back to the event loop."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import anyio.from_thread
import httpx
from starlette.concurrency import run_in_threadpool

from blendkit.integrations._csrf import LaunchCsrf
from blendkit.integrations._runtime import ToolRuntime
from blendkit.integrations.access_log import redact_query_parameters
from blendkit.lti import AsyncAdvantage, AsyncHttpxJWKSFetcher, HttpxJWKSFetcher

__all__ = [
    "LoopJWKSFetcher",
    "StarletteRuntime",
    "UvicornAccessRedaction",
    "redact_uvicorn_access_log",
]


class UvicornAccessRedaction(logging.Filter):
    """Redacts sensitive query parameters in uvicorn's access records, keeping their argument
    tuple (uvicorn's ``AccessFormatter`` unpacks it: client, method, path, version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact_query_parameters(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        else:
            record.msg = redact_query_parameters(record.getMessage())
            record.args = None
        return True


def redact_uvicorn_access_log() -> None:
    """uvicorn's access log lines name the full path: launch ids, invites and OIDC values in
    the query are credentials, so their values are replaced by ``[redacted]`` (idempotent)."""
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(existing, UvicornAccessRedaction) for existing in logger.filters):
        logger.addFilter(UvicornAccessRedaction())


class LoopJWKSFetcher:
    """The runtime's JWKS fetcher: called from a worker thread (the launch runs in the thread
    pool), it fetches on the event loop through ``httpx.AsyncClient``; anywhere else (a thread
    anyio did not start) it falls back to the synchronous client."""

    def __init__(self, fetcher: AsyncHttpxJWKSFetcher, fallback: HttpxJWKSFetcher) -> None:
        self._fetcher = fetcher
        self._fallback = fallback

    def fetch(self, url: str) -> Any:
        try:
            return anyio.from_thread.run(self._fetcher.fetch, url)
        except RuntimeError as exc:
            # Not on a thread of the app's thread pool (anyio's NoEventLoopError and its older
            # wording both say so): nothing to hand the fetch back to.
            if "worker thread" not in str(exc).lower():
                raise
            return self._fallback.fetch(url)


@dataclass
class StarletteRuntime(ToolRuntime):
    """:class:`ToolRuntime` plus what the async adapter adds: the async client and services,
    the launch-bound CSRF tokens and the metrics."""

    async_client: httpx.AsyncClient | None = None
    async_advantage: AsyncAdvantage | None = None
    csrf: LaunchCsrf | None = None
    metrics: Any = None
    """:class:`blendkit.operations.metrics.Metrics` (``None``: no ``[metrics] token``)."""
    owns_async_client: bool = False

    async def aclose(self) -> None:
        """Close the HTTP clients this runtime created (clients passed in stay open)."""
        if self.owns_async_client and self.async_client is not None:
            await self.async_client.aclose()
        await run_in_threadpool(self.close)
