"""What both LRS clients share: the requests they send (no I/O), the readers of the answers and
their settings. Every request goes through the outbound Fence (``[http] allowed_hosts``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

from blendkit.errors import ConfigError, StatementInvalid
from blendkit.http import Fence
from blendkit.xapi._assembly import statement_id
from blendkit.xapi._models import XAPI_VERSIONS, Agent, Statement
from blendkit.xapi._vocab import ADL
from blendkit.xapi._wire import (
    Document,
    DocumentKind,
    OAuth2ClientCredentials,
    StatementsPage,
    check_response,
    concurrency_headers,
    document_params,
    statement_bytes,
)

__all__ = ["auth_from_settings"]

_JSON = "application/json"


def auth_from_settings(xapi: Any) -> httpx.Auth | None:
    """Basic or OAuth 2 client-credentials auth from the ``[xapi]`` settings section."""
    if not xapi.username:
        return None
    secret = xapi.password.get_secret_value() if xapi.password is not None else ""
    if xapi.auth == "oauth2":
        if not xapi.token_url:
            raise ConfigError("[xapi] auth = 'oauth2' needs token_url (the token endpoint)")
        return OAuth2ClientCredentials(
            xapi.token_url, xapi.username, secret, scope=getattr(xapi, "oauth_scope", None)
        )
    return httpx.BasicAuth(xapi.username, secret)


class _Requests:
    """Builds every request the clients send (no I/O)."""

    def __init__(self, endpoint: str, version: str) -> None:
        if not endpoint.startswith(("http://", "https://")):
            raise ConfigError(f"[xapi] endpoint {endpoint!r} must be an http(s) URL")
        if version not in XAPI_VERSIONS:
            raise ConfigError(f"[xapi] version {version!r} must be one of {XAPI_VERSIONS}")
        self.base = httpx.URL(endpoint.rstrip("/") + "/")
        self.version = version
        self.headers = {"X-Experience-API-Version": version}
        # Joined once: httpx parses a URL on every join, and statements go out in every batch.
        self.statements = self.base.join("statements")
        self.post_headers = {**self.headers, "Content-Type": _JSON}

    def url(self, path: str) -> httpx.URL:
        return self.base.join(path)

    def post_body(self, body: bytes) -> httpx.Request:
        return httpx.Request("POST", self.statements, content=body, headers=self.post_headers)

    def put_statement(self, statement_id: str, body: bytes) -> httpx.Request:
        headers = {**self.headers, "Content-Type": _JSON}
        return httpx.Request(
            "PUT",
            self.statements,
            params={"statementId": statement_id},
            content=body,
            headers=headers,
        )

    def get_statements(self, params: Mapping[str, Any]) -> httpx.Request:
        query = {
            k: (orjson.dumps(v).decode() if isinstance(v, dict) else _text(v))
            for k, v in params.items()
            if v is not None
        }
        return httpx.Request("GET", self.statements, params=query, headers=self.headers)

    def more(self, more: str) -> httpx.Request:
        return httpx.Request("GET", self.base.join(more), headers=self.headers)

    def document(
        self,
        method: str,
        kind: DocumentKind,
        *,
        document_id: str | None,
        activity_id: str | None,
        agent: Agent | Mapping[str, Any] | None,
        registration: str | None,
        content: bytes | None = None,
        content_type: str = _JSON,
        if_match: str | None = None,
        if_none_match: str | None = None,
    ) -> httpx.Request:
        path, params = document_params(
            kind,
            document_id=document_id,
            activity_id=activity_id,
            agent=agent,
            registration=registration,
        )
        headers = {**self.headers, **concurrency_headers(if_match, if_none_match)}
        if content is not None:
            headers["Content-Type"] = content_type
        return httpx.Request(
            method, self.url(path), params=params, content=content, headers=headers
        )


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Agent):
        return value.to_json().decode()
    return str(value)


def _ids(response: httpx.Response, parts: Sequence[bytes]) -> list[str]:
    """Statement ids of a delivered batch: from the body, or from the statements on 204/409."""
    if response.status_code == 200 and response.content:
        try:
            ids = orjson.loads(response.content)
            if isinstance(ids, list):
                return [str(i) for i in ids]
        except orjson.JSONDecodeError:
            pass
    return [str(orjson.loads(p).get("id", "")) for p in parts]


def _delivered(response: httpx.Response, count: int, what: str) -> bool:
    """True when the LRS stored the statements (2xx, or 409 for one already-stored id)."""
    if response.status_code == 409 and count == 1:
        return True
    check_response(response, what)
    return True


def _document(response: httpx.Response, what: str) -> Document | None:
    if response.status_code == 404:
        return None
    check_response(response, what)
    return Document(
        content=response.content,
        content_type=response.headers.get("Content-Type", _JSON),
        etag=response.headers.get("ETag"),
    )


def _document_ids(response: httpx.Response, what: str) -> list[str]:
    check_response(response, what)
    return [str(i) for i in orjson.loads(response.content or b"[]")]


def _page(response: httpx.Response, what: str) -> StatementsPage:
    check_response(response, what)
    body = orjson.loads(response.content)
    if "statements" not in body:  # a single statement (GET with statementId)
        return StatementsPage([body], None)
    return StatementsPage(list(body["statements"]), body.get("more") or None)


def _voiding(actor: Agent, target: str) -> Statement:
    return Statement.model_validate(
        {
            "id": str(statement_id("voided", target)),
            "actor": actor.to_dict(),
            "verb": ADL.VOIDED.to_dict(),
            "object": {"objectType": "StatementRef", "id": target},
            "timestamp": datetime.now(UTC),
        }
    )


class _Base:
    def __init__(
        self,
        endpoint: str,
        *,
        auth: httpx.Auth | None,
        version: str,
        timeout: float,
        fence: Fence | None,
    ) -> None:
        self.requests = _Requests(endpoint, version)
        self.version = version
        self.auth = auth
        self.timeout = httpx.Timeout(timeout)
        self.fence = fence or Fence()

    def _parts(self, statements: Sequence[Any]) -> list[bytes]:
        if not statements:
            raise StatementInvalid("statements: nothing to send (empty batch)")
        version = self.version
        # A Statement is already validated (the builders' output): take its bytes directly.
        return [
            s.to_json() if type(s) is Statement else statement_bytes(s, version) for s in statements
        ]
