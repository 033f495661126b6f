"""A small platform over real HTTP on 127.0.0.1: token endpoint, AGS and NRPS.

It behaves like Moodle/Canvas where it matters to the tool: the token endpoint verifies the
client assertion's RS256 signature against the tool's published JWKS (and iss/sub/aud/exp/jti),
service endpoints require a live Bearer token carrying the right scope, collections are paged
with ``Link: rel="next"``, and the roster offers ``rel="differences"``.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt

LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
LINEITEM_RO = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
RESULT_RO = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"


@dataclass
class PlatformState:
    client_id: str
    tool_jwks: Callable[[], dict[str, Any]]
    allowed_scopes: set[str] = field(default_factory=lambda: {LINEITEM, RESULT_RO, SCORE, NRPS})
    token_lifetime: int = 3600
    page_size: int = 2
    token_delay: float = 0.0
    token_requests: int = 0
    assertions: list[dict[str, Any]] = field(default_factory=list)
    tokens: dict[str, tuple[set[str], float]] = field(default_factory=dict)
    seen_jti: set[str] = field(default_factory=set)
    line_items: dict[str, dict[str, Any]] = field(default_factory=dict)
    scores: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    members: list[dict[str, Any]] = field(default_factory=list)
    member_changes: list[dict[str, Any]] = field(default_factory=list)
    service_requests: list[tuple[str, str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    base_url: str = ""

    @property
    def token_url(self) -> str:
        return self.base_url + "/token"


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read state, not logs."""

    @property
    def state(self) -> PlatformState:
        return self.server.state

    # --- plumbing ----------------------------------------------------------------------------

    def _send(
        self,
        status: int,
        body: Any = None,
        *,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        raw = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _authorise(self, *any_of: str) -> bool:
        auth = self.headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else ""
        with self.state.lock:
            grant = self.state.tokens.get(token)
        if grant is None or grant[1] < time.time():
            self._send(401, {"error": "invalid_token"})
            return False
        if not grant[0] & set(any_of):
            self._send(403, {"error": "insufficient_scope"})
            return False
        return True

    def _page(self, items: list[dict[str, Any]], query: dict[str, str]) -> tuple[list[Any], str]:
        limit = int(query.get("limit") or self.state.page_size)
        page = int(query.get("page", "0"))
        chunk = items[page * limit : (page + 1) * limit]
        link = ""
        if (page + 1) * limit < len(items):
            nxt = {**query, "page": str(page + 1), "limit": str(limit)}
            path = urlsplit(self.path).path
            link = f'<{self.state.base_url}{path}?{urlencode(nxt)}>; rel="next"'
        return chunk, link

    # --- routes ------------------------------------------------------------------------------

    def do_POST(self) -> None:
        parts = urlsplit(self.path)
        self.state.service_requests.append(("POST", parts.path, self.headers["Content-Type"]))
        if parts.path == "/token":
            self._token()
        elif parts.path == "/lineitems":
            if self._authorise(LINEITEM):
                item = json.loads(self._body())
                item_id = f"{self.state.base_url}/lineitems/{len(self.state.line_items) + 1}"
                item["id"] = item_id
                self.state.line_items[item_id] = item
                self._send(201, item, content_type="application/vnd.ims.lis.v2.lineitem+json")
        elif parts.path.endswith("/scores"):
            if self.headers["Content-Type"] != "application/vnd.ims.lis.v1.score+json":
                self._send(415, {"error": "unsupported media type"})
            elif self._authorise(SCORE):
                item_id = self.state.base_url + parts.path.removesuffix("/scores")
                if item_id not in self.state.line_items:
                    self._send(404, {"error": "no such line item"})
                    return
                self.state.scores.append((item_id, parts.query, json.loads(self._body())))
                self._send(204)
        else:
            self._send(404, {"error": "not found"})

    def do_PUT(self) -> None:
        item_id = self.state.base_url + urlsplit(self.path).path
        if self._authorise(LINEITEM):
            if item_id not in self.state.line_items:
                self._send(404, {"error": "no such line item"})
                return
            item = json.loads(self._body())
            item["id"] = item_id
            self.state.line_items[item_id] = item
            self._send(200, item, content_type="application/vnd.ims.lis.v2.lineitem+json")

    def do_DELETE(self) -> None:
        item_id = self.state.base_url + urlsplit(self.path).path
        if self._authorise(LINEITEM):
            if self.state.line_items.pop(item_id, None) is None:
                self._send(404, {"error": "no such line item"})
            else:
                self._send(204)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self.state.service_requests.append(("GET", parts.path, self.headers.get("Accept", "")))
        if parts.path == "/lineitems":
            if self._authorise(LINEITEM, LINEITEM_RO):
                items = [
                    item
                    for item in self.state.line_items.values()
                    if all(
                        item.get(key) == query[arg]
                        for arg, key in (
                            ("resource_link_id", "resourceLinkId"),
                            ("resource_id", "resourceId"),
                            ("tag", "tag"),
                        )
                        if arg in query
                    )
                ]
                chunk, link = self._page(items, query)
                self._send(
                    200,
                    chunk,
                    content_type="application/vnd.ims.lis.v2.lineitemcontainer+json",
                    headers={"Link": link} if link else None,
                )
        elif parts.path.endswith("/results"):
            if self._authorise(RESULT_RO):
                item_id = self.state.base_url + parts.path.removesuffix("/results")
                latest: dict[str, dict[str, Any]] = {}
                for scored_item, _, score in self.state.scores:
                    if scored_item == item_id:
                        latest[score["userId"]] = score
                results = [
                    {
                        "id": f"{item_id}/results/{user}",
                        "scoreOf": item_id,
                        "userId": user,
                        "resultScore": score.get("scoreGiven"),
                        "resultMaximum": score.get("scoreMaximum"),
                        "comment": score.get("comment"),
                    }
                    for user, score in sorted(latest.items())
                    if query.get("user_id") in (None, user)
                ]
                chunk, link = self._page(results, query)
                self._send(200, chunk, headers={"Link": link} if link else None)
        elif parts.path.startswith("/lineitems/"):
            if self._authorise(LINEITEM, LINEITEM_RO):
                item = self.state.line_items.get(self.state.base_url + parts.path)
                self._send(200, item) if item else self._send(404, {"error": "not found"})
        elif parts.path == "/memberships":
            self._memberships(query)
        else:
            self._send(404, {"error": "not found"})

    def _memberships(self, query: dict[str, str]) -> None:
        accept = self.headers.get("Accept", "")
        if accept != "application/vnd.ims.lti-nrps.v2.membershipcontainer+json":
            self._send(406, {"error": "not acceptable"})
            return
        if not self._authorise(NRPS):
            return
        source = self.state.member_changes if "since" in query else self.state.members
        members = [m for m in source if "role" not in query or query["role"] in m["roles"]]
        if "rlid" in query:
            members = [
                {**m, "message": [{"https://purl.imsglobal.org/spec/lti/claim/custom": {}}]}
                for m in members
                if query["rlid"] in m.get("links", ())
            ]
        members = [{k: v for k, v in m.items() if k != "links"} for m in members]
        chunk, link = self._page(members, query)
        links = [link] if link else []
        links.append(f'<{self.state.base_url}/memberships?since=42>; rel="differences"')
        body = {
            "id": f"{self.state.base_url}/memberships",
            "context": {"id": "course-1", "label": "BIO101", "title": "Biology"},
            "members": chunk,
        }
        self._send(
            200,
            body,
            content_type="application/vnd.ims.lti-nrps.v2.membershipcontainer+json",
            headers={"Link": ", ".join(links)},
        )

    def _token(self) -> None:
        state = self.state
        form = {k: v[0] for k, v in parse_qs(self._body().decode()).items()}
        with state.lock:
            state.token_requests += 1
        time.sleep(state.token_delay)
        if form.get("grant_type") != "client_credentials" or form.get("client_assertion_type") != (
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        ):
            self._send(400, {"error": "unsupported_grant_type"})
            return
        assertion = form.get("client_assertion", "")
        try:
            kid = jwt.get_unverified_header(assertion)["kid"]
            keys = {k["kid"]: k for k in state.tool_jwks()["keys"]}
            key = jwt.PyJWK(keys[kid]).key
            claims = jwt.decode(
                assertion,
                key,
                algorithms=["RS256"],
                audience=state.token_url,
                issuer=state.client_id,
                leeway=60,
                options={"require": ["iss", "sub", "aud", "iat", "exp", "jti"]},
            )
        except (jwt.PyJWTError, KeyError) as exc:
            self._send(401, {"error": "invalid_client", "error_description": str(exc)})
            return
        if claims["sub"] != state.client_id:
            self._send(401, {"error": "invalid_client", "error_description": "bad sub"})
            return
        with state.lock:
            if claims["jti"] in state.seen_jti:
                self._send(400, {"error": "invalid_grant", "error_description": "jti replayed"})
                return
            state.seen_jti.add(claims["jti"])
            state.assertions.append(claims)
        granted = set(form.get("scope", "").split()) & state.allowed_scopes
        if not granted:
            self._send(400, {"error": "invalid_scope"})
            return
        token = secrets.token_urlsafe(24)
        with state.lock:
            state.tokens[token] = (granted, time.time() + state.token_lifetime)
        self._send(
            200,
            {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": state.token_lifetime,
                "scope": " ".join(sorted(granted)),
            },
        )


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: PlatformState) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state


def run_platform(state: PlatformState) -> Iterator[PlatformState]:
    """Serve ``state`` on a free loopback port until the generator is closed."""
    server = _Server(state)
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
