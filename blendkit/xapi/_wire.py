"""The LRS protocol without I/O: build requests, read responses, map failures to errors.

Both :class:`~blendkit.xapi.LRSClient` and :class:`~blendkit.xapi.AsyncLRSClient` use these
functions, so the two clients cannot drift apart.
"""

from __future__ import annotations

import time
from collections.abc import Generator, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import orjson

from blendkit.errors import LRSConflict, LRSRejected, LRSUnavailable, StatementInvalid
from blendkit.http import parse_retry_after
from blendkit.xapi._models import Agent, Statement, parse_statement
from blendkit.xapi._tincan import from_tincan, is_tincan_statement

__all__ = [
    "Document",
    "DocumentKind",
    "OAuth2ClientCredentials",
    "StatementsPage",
    "as_statement",
    "batch_body",
    "check_response",
    "document_params",
    "statement_bytes",
]

DocumentKind = Literal["state", "activity_profile", "agent_profile"]
_DOCUMENT_PATHS: dict[str, str] = {
    "state": "activities/state",
    "activity_profile": "activities/profile",
    "agent_profile": "agents/profile",
}


@dataclass(frozen=True)
class Document:
    """A State / Activity Profile / Agent Profile document with the ETag the LRS gave it."""

    content: bytes
    content_type: str
    etag: str | None

    def json(self) -> Any:
        """The content parsed as JSON."""
        return orjson.loads(self.content)


@dataclass(frozen=True)
class StatementsPage:
    """One page of a statements query and the ``more`` IRL of the next (None at the end)."""

    statements: list[dict[str, Any]]
    more: str | None


def as_statement(statement: Statement | Mapping[str, Any] | bytes | Any, version: str) -> Statement:
    """A validated Statement from a Statement, dict, JSON text or ``tincan.Statement``."""
    if isinstance(statement, Statement):
        return statement
    if is_tincan_statement(statement):
        return from_tincan(statement, version=version)
    if isinstance(statement, Mapping):
        return parse_statement(dict(statement), version=version)
    if isinstance(statement, bytes | str):
        return parse_statement(statement, version=version)
    raise StatementInvalid(
        f"statement: cannot use a {type(statement).__name__}; "
        "give a Statement, a dict, JSON bytes or a tincan.Statement"
    )


def statement_bytes(statement: Statement | Mapping[str, Any] | bytes | Any, version: str) -> bytes:
    """Validated JSON bytes for one statement (see :func:`as_statement`)."""
    return as_statement(statement, version).to_json()


def batch_body(parts: Iterable[bytes]) -> bytes:
    """A JSON array from already serialised statements, without parsing them again."""
    return b"[" + b",".join(parts) + b"]"


def _reason(response: httpx.Response) -> str:
    """The status line's reason phrase: the answer body is never quoted (it may hold learner
    data, or a page the LRS URL should not have led to)."""
    return response.reason_phrase or f"HTTP {response.status_code}"


def check_response(response: httpx.Response, what: str) -> None:
    """Raise the blendkit error that matches a failed LRS response; return on 2xx."""
    status = response.status_code
    if status < 300:
        return
    reason = _reason(response)
    if status in (429, 502, 503, 504) or status >= 500:
        raise LRSUnavailable(
            f"{what}: the LRS answered {status} ({reason}); blendkit will retry later",
            status=status,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )
    if status in (401, 403):
        raise LRSRejected(
            f"{what}: the LRS refused blendkit's credentials ({status}); check [xapi] username, "
            "password / auth and the LRS account's permissions",
            code="xapi.lrs_auth",
            status=status,
        )
    if status in (409, 412, 428):
        raise LRSConflict(
            f"{what}: the LRS reports a conflict ({status}: {reason}); re-read the document "
            "and retry with its current ETag",
            status=status,
        )
    raise LRSRejected(f"{what}: the LRS rejected the request ({status}): {reason}", status=status)


def transport_error(exc: httpx.HTTPError, what: str) -> LRSUnavailable:
    """A network failure or timeout as a retryable error (one wording for every kind)."""
    del exc
    return LRSUnavailable(
        f"{what}: the LRS could not be reached or did not answer in time; check [xapi] "
        "endpoint and the network"
    )


def agent_json(agent: Agent | Mapping[str, Any]) -> str:
    """The ``agent`` query parameter: the Agent as compact JSON."""
    if isinstance(agent, Agent):
        return agent.to_json().decode()
    return orjson.dumps(dict(agent)).decode()


def document_params(
    kind: DocumentKind,
    *,
    document_id: str | None,
    activity_id: str | None = None,
    agent: Agent | Mapping[str, Any] | None = None,
    registration: str | None = None,
) -> tuple[str, dict[str, str]]:
    """Path and query parameters for a document resource; checks the required ones."""
    params: dict[str, str] = {}
    if kind in ("state", "activity_profile"):
        if not activity_id:
            raise StatementInvalid(f"{kind} documents need activity_id")
        params["activityId"] = activity_id
    if kind in ("state", "agent_profile"):
        if agent is None:
            raise StatementInvalid(f"{kind} documents need agent")
        params["agent"] = agent_json(agent)
    if registration and kind == "state":
        params["registration"] = registration
    if document_id is not None:
        params["stateId" if kind == "state" else "profileId"] = document_id
    return _DOCUMENT_PATHS[kind], params


def concurrency_headers(if_match: str | None, if_none_match: str | None) -> dict[str, str]:
    """If-Match / If-None-Match headers (ETags quoted as the LRS gave them)."""
    headers: dict[str, str] = {}
    if if_match is not None:
        headers["If-Match"] = if_match
    if if_none_match is not None:
        headers["If-None-Match"] = if_none_match
    return headers


class OAuth2ClientCredentials(httpx.Auth):
    """OAuth 2 client-credentials: fetch a bearer token, cache it until it expires, retry a 401.

    Works with both httpx.Client and httpx.AsyncClient (the token request is part of the flow).
    """

    requires_response_body = True

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        scope: str | None = None,
        leeway_seconds: float = 30.0,
    ) -> None:
        self.token_url = token_url
        self._basic = httpx.BasicAuth(client_id, client_secret)
        self.scope = scope
        self.leeway = leeway_seconds
        self._token: str | None = None
        self._expires_at = 0.0

    def _token_request(self) -> httpx.Request:
        data = {"grant_type": "client_credentials"}
        if self.scope:
            data["scope"] = self.scope
        request = httpx.Request("POST", self.token_url, data=data)
        return next(self._basic.auth_flow(request))

    def _store(self, response: httpx.Response) -> None:
        if response.status_code != 200:
            raise LRSRejected(
                f"OAuth 2 token request to {self.token_url} failed ({response.status_code}); "
                "check [xapi] username (client id), password (client secret) and token_url",
                code="xapi.lrs_auth",
                status=response.status_code,
            )
        try:
            payload = response.json()
            self._token = str(payload["access_token"])
        except (ValueError, KeyError, TypeError) as exc:
            raise LRSRejected(
                f"OAuth 2 token endpoint {self.token_url} answered without an access_token",
                code="xapi.lrs_auth",
            ) from exc
        lifetime = float(payload.get("expires_in") or 3600)
        self._expires_at = time.monotonic() + max(0.0, lifetime - self.leeway)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._token is None or time.monotonic() >= self._expires_at:
            self._store((yield self._token_request()))
        request.headers["Authorization"] = f"Bearer {self._token}"
        response = yield request
        if response.status_code == 401:
            self._store((yield self._token_request()))
            request.headers["Authorization"] = f"Bearer {self._token}"
            yield request
