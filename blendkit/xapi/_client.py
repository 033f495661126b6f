"""LRS clients over httpx, sync and async: statements, voiding, and the three document APIs.

Each method builds its request with :class:`_Requests` and reads the answer with the shared
functions of ``_wire``; the two clients only differ in ``send`` versus ``await send``. Every
request (the OAuth 2 token request of the auth flow included, and the LRS's ``more`` links) goes
through the outbound :class:`~blendkit.http.Fence`: an LRS on a private network must be listed in
``[http] allowed_hosts``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

from blendkit.errors import ConfigError, LRSRejected, OutboundError, StatementInvalid
from blendkit.http import Fence
from blendkit.xapi._assembly import statement_id
from blendkit.xapi._models import XAPI_VERSIONS, Agent, Statement
from blendkit.xapi._vocab import ADL
from blendkit.xapi._wire import (
    Document,
    DocumentKind,
    OAuth2ClientCredentials,
    StatementsPage,
    batch_body,
    check_response,
    concurrency_headers,
    document_params,
    statement_bytes,
    transport_error,
)

__all__ = ["AsyncLRSClient", "LRSClient", "auth_from_settings"]

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


class LRSClient(_Base):
    """Synchronous LRS client; pass your own ``httpx.Client`` to share pools or inject a transport.

    Statements POSTed as a batch travel as one request; a 204 with an empty body and a 409 for a
    single already-stored id both count as delivered.
    """

    def __init__(
        self,
        endpoint: str,
        *,
        auth: httpx.Auth | None = None,
        version: str = "1.0.3",
        timeout: float = 10.0,
        client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        fence: Fence | None = None,
    ) -> None:
        super().__init__(endpoint, auth=auth, version=version, timeout=timeout, fence=fence)
        self._owns = client is None
        self.client = client or httpx.Client(transport=transport, timeout=self.timeout)

    @classmethod
    def from_settings(
        cls, xapi: Any, *, client: httpx.Client | None = None, fence: Fence | None = None
    ) -> LRSClient:
        """Build from the ``[xapi]`` settings section (endpoint must be set); pass the fence
        of the whole settings (:meth:`Fence.from_settings`), production rules by default."""
        if not xapi.endpoint:
            raise ConfigError("[xapi] endpoint is not set (BLENDKIT_XAPI_ENDPOINT)")
        return cls(
            xapi.endpoint,
            auth=auth_from_settings(xapi),
            version=xapi.version,
            timeout=xapi.timeout_seconds,
            client=client,
            fence=fence,
        )

    def close(self) -> None:
        if self._owns:
            self.client.close()

    def __enter__(self) -> LRSClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(self, request: httpx.Request, what: str) -> httpx.Response:
        request.extensions["timeout"] = self.timeout.as_dict()
        try:
            return self.fence.send(self.client, request, auth=self.auth or httpx.USE_CLIENT_DEFAULT)
        except OutboundError as exc:
            raise LRSRejected(f"{what}: {exc.message}", code=exc.code) from exc
        except httpx.HTTPError as exc:
            raise transport_error(exc, what) from exc

    # --- statements -------------------------------------------------------------------------

    def send_serialized(self, parts: Sequence[bytes]) -> list[str]:
        """POST already-validated JSON statements as one batch; returns the stored ids."""
        what = f"POST {len(parts)} statement(s)"
        response = self._send(self.requests.post_body(batch_body(parts)), what)
        _delivered(response, len(parts), what)
        return _ids(response, parts)

    def post_statements(self, statements: Sequence[Any]) -> list[str]:
        """Validate and POST statements (Statement, dict, JSON or tincan) as one batch."""
        return self.send_serialized(self._parts(statements))

    def post_statement(self, statement: Any) -> str:
        """Validate and POST one statement; returns its id."""
        return self.post_statements([statement])[0]

    def put_statement(self, statement: Any) -> str:
        """PUT one statement under its own id (the id is required)."""
        body = statement_bytes(statement, self.version)
        sid = str(orjson.loads(body).get("id") or "")
        if not sid:
            raise StatementInvalid("statement.id: PUT needs a statement id")
        what = f"PUT statement {sid}"
        _delivered(self._send(self.requests.put_statement(sid, body), what), 1, what)
        return sid

    def get_statement(self, statement_id: str, *, voided: bool = False) -> dict[str, Any] | None:
        """One statement by id (``voided=True`` for a voided one); None when absent."""
        key = "voidedStatementId" if voided else "statementId"
        response = self._send(self.requests.get_statements({key: statement_id}), "GET statement")
        if response.status_code == 404:
            return None
        found = _page(response, "GET statement").statements
        return found[0] if found else None

    def query(self, **params: Any) -> StatementsPage:
        """One page of ``GET /statements`` with xAPI query parameters (agent, verb, since …)."""
        return _page(self._send(self.requests.get_statements(params), "GET statements"), "query")

    def iter_statements(self, **params: Any) -> Iterator[dict[str, Any]]:
        """Every statement matching ``params``, following ``more`` links page by page."""
        page = self.query(**params)
        yield from page.statements
        while page.more:
            response = self._send(self.requests.more(page.more), "GET more statements")
            page = _page(response, "GET more statements")
            yield from page.statements

    def void(self, statement_id: str, *, actor: Agent) -> str:
        """Void a stored statement by sending a ``voided`` statement that references it."""
        return self.post_statement(_voiding(actor, str(statement_id)))

    # --- documents --------------------------------------------------------------------------

    def get_document(
        self,
        kind: DocumentKind,
        document_id: str,
        *,
        activity_id: str | None = None,
        agent: Agent | Mapping[str, Any] | None = None,
        registration: str | None = None,
    ) -> Document | None:
        """A state / activity-profile / agent-profile document with its ETag (None if absent)."""
        request = self.requests.document(
            "GET",
            kind,
            document_id=document_id,
            activity_id=activity_id,
            agent=agent,
            registration=registration,
        )
        return _document(self._send(request, f"GET {kind} {document_id}"), f"GET {kind}")

    def list_documents(
        self,
        kind: DocumentKind,
        *,
        activity_id: str | None = None,
        agent: Agent | Mapping[str, Any] | None = None,
        registration: str | None = None,
    ) -> list[str]:
        """The ids of the documents stored for an activity and/or agent."""
        request = self.requests.document(
            "GET",
            kind,
            document_id=None,
            activity_id=activity_id,
            agent=agent,
            registration=registration,
        )
        return _document_ids(self._send(request, f"GET {kind} ids"), f"GET {kind} ids")

    def put_document(
        self,
        kind: DocumentKind,
        document_id: str,
        content: bytes | Any,
        *,
        activity_id: str | None = None,
        agent: Agent | Mapping[str, Any] | None = None,
        registration: str | None = None,
        content_type: str = _JSON,
        if_match: str | None = None,
        if_none_match: str | None = None,
        merge: bool = False,
    ) -> None:
        """Store a document (``merge=True`` POSTs a JSON merge); If-Match/If-None-Match guard it.

        Raises :class:`LRSConflict` when the ETag no longer matches (412) or is required (409).
        """
        body = content if isinstance(content, bytes) else orjson.dumps(content)
        request = self.requests.document(
            "POST" if merge else "PUT",
            kind,
            document_id=document_id,
            activity_id=activity_id,
            agent=agent,
            registration=registration,
            content=body,
            content_type=content_type,
            if_match=if_match,
            if_none_match=if_none_match,
        )
        check_response(self._send(request, f"PUT {kind}"), f"PUT {kind} {document_id}")

    def delete_document(
        self,
        kind: DocumentKind,
        document_id: str,
        *,
        activity_id: str | None = None,
        agent: Agent | Mapping[str, Any] | None = None,
        registration: str | None = None,
        if_match: str | None = None,
    ) -> None:
        """Delete a document (optionally only if it still has ETag ``if_match``)."""
        request = self.requests.document(
            "DELETE",
            kind,
            document_id=document_id,
            activity_id=activity_id,
            agent=agent,
            registration=registration,
            if_match=if_match,
        )
        check_response(self._send(request, f"DELETE {kind}"), f"DELETE {kind} {document_id}")


class AsyncLRSClient(_Base):
    """The asynchronous twin of :class:`LRSClient` (same methods, awaited)."""

    def __init__(
        self,
        endpoint: str,
        *,
        auth: httpx.Auth | None = None,
        version: str = "1.0.3",
        timeout: float = 10.0,
        client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        fence: Fence | None = None,
    ) -> None:
        super().__init__(endpoint, auth=auth, version=version, timeout=timeout, fence=fence)
        self._owns = client is None
        self.client = client or httpx.AsyncClient(transport=transport, timeout=self.timeout)

    @classmethod
    def from_settings(
        cls, xapi: Any, *, client: httpx.AsyncClient | None = None, fence: Fence | None = None
    ) -> AsyncLRSClient:
        """Build from the ``[xapi]`` settings section (endpoint must be set)."""
        if not xapi.endpoint:
            raise ConfigError("[xapi] endpoint is not set (BLENDKIT_XAPI_ENDPOINT)")
        return cls(
            xapi.endpoint,
            auth=auth_from_settings(xapi),
            version=xapi.version,
            timeout=xapi.timeout_seconds,
            client=client,
            fence=fence,
        )

    async def aclose(self) -> None:
        if self._owns:
            await self.client.aclose()

    async def __aenter__(self) -> AsyncLRSClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _send(self, request: httpx.Request, what: str) -> httpx.Response:
        request.extensions["timeout"] = self.timeout.as_dict()
        try:
            return await self.fence.send_async(
                self.client, request, auth=self.auth or httpx.USE_CLIENT_DEFAULT
            )
        except OutboundError as exc:
            raise LRSRejected(f"{what}: {exc.message}", code=exc.code) from exc
        except httpx.HTTPError as exc:
            raise transport_error(exc, what) from exc

    async def send_serialized(self, parts: Sequence[bytes]) -> list[str]:
        """POST already-validated JSON statements as one batch; returns the stored ids."""
        what = f"POST {len(parts)} statement(s)"
        response = await self._send(self.requests.post_body(batch_body(parts)), what)
        _delivered(response, len(parts), what)
        return _ids(response, parts)

    async def post_statements(self, statements: Sequence[Any]) -> list[str]:
        """Validate and POST statements as one batch."""
        return await self.send_serialized(self._parts(statements))

    async def post_statement(self, statement: Any) -> str:
        """Validate and POST one statement; returns its id."""
        return (await self.post_statements([statement]))[0]

    async def put_statement(self, statement: Any) -> str:
        """PUT one statement under its own id."""
        body = statement_bytes(statement, self.version)
        sid = str(orjson.loads(body).get("id") or "")
        if not sid:
            raise StatementInvalid("statement.id: PUT needs a statement id")
        what = f"PUT statement {sid}"
        _delivered(await self._send(self.requests.put_statement(sid, body), what), 1, what)
        return sid

    async def get_statement(
        self, statement_id: str, *, voided: bool = False
    ) -> dict[str, Any] | None:
        """One statement by id; None when absent."""
        key = "voidedStatementId" if voided else "statementId"
        request = self.requests.get_statements({key: statement_id})
        response = await self._send(request, "GET statement")
        if response.status_code == 404:
            return None
        found = _page(response, "GET statement").statements
        return found[0] if found else None

    async def query(self, **params: Any) -> StatementsPage:
        """One page of ``GET /statements``."""
        response = await self._send(self.requests.get_statements(params), "GET statements")
        return _page(response, "query")

    async def iter_statements(self, **params: Any) -> AsyncIterator[dict[str, Any]]:
        """Every matching statement, following ``more`` links."""
        page = await self.query(**params)
        for item in page.statements:
            yield item
        while page.more:
            response = await self._send(self.requests.more(page.more), "GET more statements")
            page = _page(response, "GET more statements")
            for item in page.statements:
                yield item

    async def void(self, statement_id: str, *, actor: Agent) -> str:
        """Void a stored statement."""
        return await self.post_statement(_voiding(actor, str(statement_id)))

    async def get_document(
        self,
        kind: DocumentKind,
        document_id: str,
        *,
        activity_id: str | None = None,
        agent: Agent | Mapping[str, Any] | None = None,
        registration: str | None = None,
    ) -> Document | None:
        """A document with its ETag (None if absent)."""
        request = self.requests.document(
            "GET",
            kind,
            document_id=document_id,
            activity_id=activity_id,
            agent=agent,
            registration=registration,
        )
        return _document(await self._send(request, f"GET {kind}"), f"GET {kind}")

    async def put_document(
        self,
        kind: DocumentKind,
        document_id: str,
        content: bytes | Any,
        *,
        activity_id: str | None = None,
        agent: Agent | Mapping[str, Any] | None = None,
        registration: str | None = None,
        content_type: str = _JSON,
        if_match: str | None = None,
        if_none_match: str | None = None,
        merge: bool = False,
    ) -> None:
        """Store a document, guarded by If-Match / If-None-Match."""
        body = content if isinstance(content, bytes) else orjson.dumps(content)
        request = self.requests.document(
            "POST" if merge else "PUT",
            kind,
            document_id=document_id,
            activity_id=activity_id,
            agent=agent,
            registration=registration,
            content=body,
            content_type=content_type,
            if_match=if_match,
            if_none_match=if_none_match,
        )
        check_response(await self._send(request, f"PUT {kind}"), f"PUT {kind} {document_id}")

    async def delete_document(
        self,
        kind: DocumentKind,
        document_id: str,
        *,
        activity_id: str | None = None,
        agent: Agent | Mapping[str, Any] | None = None,
        registration: str | None = None,
        if_match: str | None = None,
    ) -> None:
        """Delete a document."""
        request = self.requests.document(
            "DELETE",
            kind,
            document_id=document_id,
            activity_id=activity_id,
            agent=agent,
            registration=registration,
            if_match=if_match,
        )
        check_response(await self._send(request, f"DELETE {kind}"), f"DELETE {kind}")
