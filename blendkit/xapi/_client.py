"""The synchronous LRS client over httpx: statements, voiding and the three document APIs."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
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

__all__ = ["LRSClient"]


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
