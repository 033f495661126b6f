"""The asynchronous LRS client over httpx: the twin of LRSClient, each request awaited."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import httpx
import orjson

from blendkit.errors import ConfigError, LRSRejected, OutboundError, StatementInvalid
from blendkit.http import Fence
from blendkit.xapi._client_base import (
    _JSON,
    _Base,
    _delivered,
    _document,
    _document_ids,
    _ids,
    _page,
    _voiding,
    auth_from_settings,
)
from blendkit.xapi._models import Agent
from blendkit.xapi._wire import (
    Document,
    DocumentKind,
    StatementsPage,
    batch_body,
    check_response,
    statement_bytes,
    transport_error,
)

__all__ = ["AsyncLRSClient"]


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

    async def list_documents(
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
        response = await self._send(request, f"GET {kind} ids")
        return _document_ids(response, f"GET {kind} ids")

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
