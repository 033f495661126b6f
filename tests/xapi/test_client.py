"""LRS clients: the real ralph LRS over HTTP, and mocked answers for faults and the document APIs.

ralph has no State / Activity Profile / Agent Profile API, so those run against a small
in-memory document store that follows the xAPI concurrency rules (ETag, If-Match, If-None-Match).
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import orjson
import pytest
import tincan

from blendkit.config import XAPISettings
from blendkit.errors import ConfigError, LRSConflict, LRSRejected, LRSUnavailable
from blendkit.xapi import (
    AsyncLRSClient,
    LRSClient,
    OAuth2ClientCredentials,
    StatementFactory,
    auth_from_settings,
    lti_actor,
)
from tests.fence import loopback_fence, public_fence

from .conftest import Ralph

FACTORY = StatementFactory("https://tool.example.edu")
ACTOR = lti_actor("https://canvas.instructure.com", "client-tests")


def quizzes(n: int, tag: str | None = None) -> list[Any]:
    tag = tag or uuid.uuid4().hex
    return [
        FACTORY.quiz_attempt(
            ACTOR,
            quiz_id=f"q-{tag}",
            attempt_id=str(i),
            score=i % 11,
            max_score=10,
            mastery_score=0.6,
            session_id=tag,
            duration=30 + i,
            course_id=tag,
        )
        for i in range(n)
    ]


def registration(batch: list[Any]) -> str:
    """The registration the statements share (ralph 5.1 cannot filter by activity)."""
    return str(batch[0].context.registration)


# --- against ralph ------------------------------------------------------------------------------


def test_batch_post_get_put_and_repeat_against_ralph(ralph: Ralph) -> None:
    batch = quizzes(30)
    with ralph.client() as client:
        ids = client.post_statements(batch)
        assert ids == [str(s.id) for s in batch]
        # A retried batch (same ids) counts as delivered and stores nothing twice.
        assert client.post_statements(batch[:5]) == ids[:5]
        assert client.post_statement(batch[0]) == ids[0]
        stored = client.get_statement(ids[7])
        assert stored is not None
        assert stored["verb"]["id"] == batch[7].verb.id
        assert client.get_statement(str(uuid.uuid4())) is None
        extra = quizzes(1)[0]
        assert client.put_statement(extra) == str(extra.id)
        assert client.get_statement(str(extra.id)) is not None
        found = list(client.iter_statements(registration=registration(batch), limit=7))
        assert sorted(s["id"] for s in found) == sorted(ids)


def test_more_paging_walks_every_page(ralph: Ralph) -> None:
    batch = quizzes(25)
    with ralph.client() as client:
        client.post_statements(batch)
        first = client.query(registration=registration(batch), limit=10)
        assert len(first.statements) == 10
        assert first.more is not None
        pages = client.iter_statements(registration=registration(batch), limit=10)
        everything = [s["id"] for s in pages]
    assert sorted(everything) == sorted(str(s.id) for s in batch)


def test_voiding_against_ralph(ralph: Ralph) -> None:
    target = quizzes(1)[0]
    with ralph.client() as client:
        client.post_statement(target)
        voiding_id = client.void(str(target.id), actor=ACTOR)
        voiding = client.get_statement(voiding_id)
        assert voiding is not None
        assert voiding["object"] == {"objectType": "StatementRef", "id": str(target.id)}


def test_tincan_statement_is_sent_as_is(ralph: Ralph) -> None:
    theirs = tincan.Statement(
        id=uuid.uuid4(),
        actor=tincan.Agent(mbox="mailto:tincan@example.org"),
        verb=tincan.Verb(id="http://adlnet.gov/expapi/verbs/experienced"),
        object=tincan.Activity(id="https://tool.example.edu/page/tincan"),
        timestamp=datetime.now(UTC),
    )
    with ralph.client() as client:
        assert client.post_statement(theirs) == str(theirs.id)
        assert client.get_statement(str(theirs.id)) is not None


def test_async_client_against_ralph(ralph: Ralph) -> None:
    batch = quizzes(12)

    async def go() -> list[str]:
        async with AsyncLRSClient(
            fence=loopback_fence(),
            endpoint=ralph.endpoint,
            auth=httpx.BasicAuth("blendkit", "secret-for-tests"),
        ) as client:
            await client.post_statements(batch)
            assert await client.get_statement(str(batch[3].id)) is not None
            reg = registration(batch)
            return [s["id"] async for s in client.iter_statements(registration=reg, limit=5)]

    assert sorted(asyncio.run(go())) == sorted(str(s.id) for s in batch)


def test_wrong_credentials_are_reported_without_the_secret(ralph: Ralph) -> None:
    client = LRSClient(
        fence=loopback_fence(),
        endpoint=ralph.endpoint,
        auth=httpx.BasicAuth("blendkit", "wrong-password-123"),
    )
    with pytest.raises(LRSRejected) as info:
        client.post_statements(quizzes(1))
    assert info.value.code == "xapi.lrs_auth"
    assert "wrong-password-123" not in str(info.value)


# --- mocked answers ------------------------------------------------------------------------------


def mock_client(handler: Callable[[httpx.Request], httpx.Response], **kw: Any) -> LRSClient:
    return LRSClient(
        fence=public_fence(),
        endpoint="https://lrs.example.org/xapi",
        transport=httpx.MockTransport(handler),
        **kw,
    )


def test_empty_204_and_single_409_count_as_delivered() -> None:
    statements = quizzes(3)
    answers = iter([httpx.Response(204), httpx.Response(409, text="exists")])
    client = mock_client(lambda request: next(answers))
    assert client.post_statements(statements) == [str(s.id) for s in statements]
    assert client.post_statement(statements[0]) == str(statements[0].id)


def test_batch_409_is_a_conflict_for_the_outbox_to_split() -> None:
    client = mock_client(lambda request: httpx.Response(409, text="id clash"))
    with pytest.raises(LRSConflict) as info:
        client.post_statements(quizzes(2))
    assert info.value.status == 409


@pytest.mark.parametrize(
    ("header", "expected"),
    [("7", 7.0), (None, None), ("soon", None)],
)
def test_429_and_503_carry_retry_after(header: str | None, expected: float | None) -> None:
    headers = {"Retry-After": header} if header else {}
    for status in (429, 503):
        client = mock_client(lambda request, s=status: httpx.Response(s, headers=headers))
        with pytest.raises(LRSUnavailable) as info:
            client.post_statements(quizzes(1))
        assert info.value.retry_after == expected
        assert info.value.status == status


def test_retry_after_as_http_date() -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    client = mock_client(lambda request: httpx.Response(429, headers={"Retry-After": when}))
    with pytest.raises(LRSUnavailable) as info:
        client.post_statements(quizzes(1))
    assert info.value.retry_after is not None
    assert 20 < info.value.retry_after <= 31


def test_timeouts_and_network_errors_are_retryable_and_every_request_has_a_timeout() -> None:
    seen: list[dict[str, Any]] = []

    def timeout(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        raise httpx.ReadTimeout("slow", request=request)

    with httpx.Client(transport=httpx.MockTransport(timeout), timeout=None) as shared:
        client = LRSClient(
            fence=public_fence(),
            endpoint="https://lrs.example.org/xapi",
            client=shared,
            timeout=2.5,
        )
        with pytest.raises(LRSUnavailable, match="did not answer in time"):
            client.post_statements(quizzes(1))
    assert seen == [{"connect": 2.5, "read": 2.5, "write": 2.5, "pool": 2.5}]

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(LRSUnavailable, match="could not be reached"):
        mock_client(refused).post_statements(quizzes(1))


def test_version_header_and_rejected_status_without_the_body() -> None:
    versions: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        versions.append(request.headers["X-Experience-API-Version"])
        return httpx.Response(400, text="statement 3: mbox mailto:learner@example.edu is bad")

    with pytest.raises(LRSRejected, match=r"rejected the request \(400\): Bad Request") as info:
        mock_client(handler, version="2.0.0").post_statements(quizzes(1))
    assert info.value.status == 400
    assert "learner@example.edu" not in info.value.message  # the answer body is never quoted
    assert versions == ["2.0.0"]
    with pytest.raises(ConfigError):
        LRSClient(fence=public_fence(), endpoint="https://lrs.example.org/xapi", version="1.0.1")
    with pytest.raises(ConfigError):
        LRSClient("ftp://lrs.example.org/xapi")


def test_oauth2_client_credentials_caches_and_refreshes_the_token() -> None:
    calls: list[str] = []
    tokens = iter(["t1", "t2"])
    revoked: set[str] = set()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            assert request.headers["Authorization"].startswith("Basic ")
            assert b"grant_type=client_credentials" in request.content
            token = next(tokens)
            calls.append(f"token:{token}")
            return httpx.Response(200, json={"access_token": token, "expires_in": 3600})
        bearer = request.headers["Authorization"].removeprefix("Bearer ")
        calls.append(f"post:{bearer}")
        if bearer in revoked:
            return httpx.Response(401)
        return httpx.Response(204)

    auth = OAuth2ClientCredentials("https://auth.example.org/oauth/token", "id", "secret")
    client = mock_client(handler, auth=auth)
    client.post_statements(quizzes(1))
    client.post_statements(quizzes(1))
    revoked.add("t1")
    client.post_statements(quizzes(1))
    assert calls == ["token:t1", "post:t1", "post:t1", "post:t1", "token:t2", "post:t2"]


def test_auth_from_settings() -> None:
    assert auth_from_settings(XAPISettings()) is None
    basic = auth_from_settings(XAPISettings(username="u", password="p"))  # type: ignore[arg-type]
    assert isinstance(basic, httpx.BasicAuth)
    oauth = XAPISettings(
        username="u",
        password="p",  # type: ignore[arg-type]
        auth="oauth2",
        token_url="https://auth.example.org/token",
    )
    assert isinstance(auth_from_settings(oauth), OAuth2ClientCredentials)
    with pytest.raises(ConfigError, match="token_url"):
        auth_from_settings(XAPISettings(username="u", auth="oauth2"))


class DocumentLRS:
    """In-memory State / Profile resources with the xAPI 1.0.3 concurrency rules."""

    def __init__(self) -> None:
        self.docs: dict[tuple[str, tuple[tuple[str, str], ...]], bytes] = {}

    @staticmethod
    def etag(body: bytes) -> str:
        return '"' + hashlib.sha1(body).hexdigest() + '"'

    def __call__(self, request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        key = (request.url.path, tuple(sorted(params.items())))
        current = self.docs.get(key)
        profile = request.url.path.endswith("/profile")
        if_match = request.headers.get("If-Match")
        if_none = request.headers.get("If-None-Match")
        if request.method == "GET":
            if "stateId" not in params and "profileId" not in params:
                ids = [dict(k[1]).get("stateId") or dict(k[1]).get("profileId") for k in self.docs]
                return httpx.Response(200, json=ids)
            if current is None:
                return httpx.Response(404)
            return httpx.Response(200, content=current, headers={"ETag": self.etag(current)})
        if if_match is not None and (current is None or self.etag(current) != if_match):
            return httpx.Response(412, text="ETag does not match")
        if if_none == "*" and current is not None:
            return httpx.Response(412, text="document exists")
        if request.method == "DELETE":
            self.docs.pop(key, None)
            return httpx.Response(204)
        if profile and current is not None and if_match is None and if_none is None:
            return httpx.Response(409, text="If-Match or If-None-Match required")
        body = request.content
        if request.method == "POST" and current is not None:
            body = orjson.dumps({**orjson.loads(current), **orjson.loads(body)})
        self.docs[key] = body
        return httpx.Response(204)


@pytest.mark.parametrize("kind", ["state", "activity_profile", "agent_profile"])
def test_documents_with_etag_concurrency(kind: Any) -> None:
    client = mock_client(DocumentLRS())
    where: dict[str, Any] = {
        "state": {"activity_id": "https://tool.example.edu/a", "agent": ACTOR},
        "activity_profile": {"activity_id": "https://tool.example.edu/a"},
        "agent_profile": {"agent": ACTOR},
    }[kind]
    assert client.get_document(kind, "prefs", **where) is None
    client.put_document(kind, "prefs", {"speed": 1}, if_none_match="*", **where)
    first = client.get_document(kind, "prefs", **where)
    assert first is not None
    assert first.json() == {"speed": 1}
    assert first.etag
    with pytest.raises(LRSConflict):  # someone else created it meanwhile
        client.put_document(kind, "prefs", {"speed": 2}, if_none_match="*", **where)
    client.put_document(kind, "prefs", {"speed": 2}, if_match=first.etag, **where)
    with pytest.raises(LRSConflict) as stale:  # our ETag is now outdated
        client.put_document(kind, "prefs", {"speed": 3}, if_match=first.etag, **where)
    assert stale.value.status == 412
    second = client.get_document(kind, "prefs", **where)
    assert second is not None
    client.put_document(kind, "prefs", {"cc": True}, if_match=second.etag, merge=True, **where)
    merged = client.get_document(kind, "prefs", **where)
    assert merged is not None
    assert merged.json() == {"speed": 2, "cc": True}
    assert client.list_documents(kind, **where) == ["prefs"]
    client.delete_document(kind, "prefs", if_match=merged.etag, **where)
    assert client.get_document(kind, "prefs", **where) is None


def test_profile_write_without_precondition_is_a_conflict() -> None:
    client = mock_client(DocumentLRS())
    where = {"activity_id": "https://tool.example.edu/a"}
    client.put_document("activity_profile", "p", b"{}", if_none_match="*", **where)
    with pytest.raises(LRSConflict) as info:
        client.put_document("activity_profile", "p", b"{}", **where)
    assert info.value.status == 409


def test_async_documents_with_etag() -> None:
    async def go() -> None:
        lrs = DocumentLRS()
        async with AsyncLRSClient(
            fence=public_fence(),
            endpoint="https://lrs.example.org/xapi",
            transport=httpx.MockTransport(lrs),
        ) as client:
            where: dict[str, Any] = {"activity_id": "https://tool.example.edu/a", "agent": ACTOR}
            assert await client.list_documents("state", **where) == []
            await client.put_document("state", "s", {"n": 1}, if_none_match="*", **where)
            doc = await client.get_document("state", "s", **where)
            assert doc is not None
            assert await client.list_documents("state", **where) == ["s"]
            with pytest.raises(LRSConflict):
                await client.put_document("state", "s", {"n": 2}, if_match='"stale"', **where)
            await client.delete_document("state", "s", **where)
            assert await client.get_document("state", "s", **where) is None

    asyncio.run(go())


def test_the_lrs_side_profile_check_catches_a_broken_video_statement(fresh_ralph: Ralph) -> None:
    """The harness really validates with ralph's profile models (so a clean run means something)."""
    good = FACTORY.video(
        "paused", ACTOR, video_id="v", session_id=uuid.uuid4(), time=3, progress=0.1, length=60
    )
    broken = orjson.loads(good.to_json())
    broken["id"] = str(uuid.uuid4())
    del broken["context"]["extensions"]["https://w3id.org/xapi/video/extensions/length"]
    with fresh_ralph.client() as client:
        client.post_statements([good, broken])
    stats = fresh_ralph.stats()
    assert stats["profiled"] == {"VideoPaused": 1}
    assert [line.split(":")[0] for line in stats["invalid"]] == [broken["id"]]
    fresh_ralph.stop()
    fresh_ralph.invalid.clear()  # expected here; every other test must leave this empty


def test_the_whole_catalogue_is_stored_by_ralph_and_passes_its_profile_models(
    fresh_ralph: Ralph,
) -> None:
    from .test_builders import CATALOGUE

    statements = [statement for statement, _ in CATALOGUE.values()]
    voided_target = CATALOGUE["voided"][0].object.id  # type: ignore[union-attr]
    with fresh_ralph.client() as client:
        # the voided statement must exist (and not be a voiding) before it can be voided
        target = quizzes(1)[0].model_copy(update={"id": voided_target})
        client.post_statement(target)
        client.post_statements(statements)
        for statement in statements:
            assert client.get_statement(str(statement.id)) is not None
    stats = fresh_ralph.stats()
    assert stats["invalid"] == []
    expected = {profile for _, profile in CATALOGUE.values() if profile}
    assert set(stats["profiled"]) == expected


def test_async_client_oauth2_put_and_void() -> None:
    seen: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            return httpx.Response(200, json={"access_token": "tok", "expires_in": 60})
        seen.append(f"{request.method} {request.headers['Authorization']}")
        return httpx.Response(204)

    async def go() -> str:
        auth = OAuth2ClientCredentials("https://auth.example.org/token", "id", "secret")
        async with AsyncLRSClient(
            fence=public_fence(),
            endpoint="https://lrs.example.org/xapi",
            auth=auth,
            transport=httpx.MockTransport(handler),
        ) as client:
            statement = quizzes(1)[0]
            assert await client.put_statement(statement) == str(statement.id)
            return await client.void(str(statement.id), actor=ACTOR)

    voiding_id = asyncio.run(go())
    assert uuid.UUID(voiding_id).version == 5
    assert seen == ["PUT Bearer tok", "POST Bearer tok"]


def test_the_async_client_has_every_method_of_the_sync_client_awaitable() -> None:
    """docs/xapi/lrs.md promises the same methods on both clients (``aclose`` for ``close``)."""
    sync = {name for name in dir(LRSClient) if not name.startswith("_")} - {"close"}
    both = {name for name in dir(AsyncLRSClient) if not name.startswith("_")} - {"aclose"}
    assert sync == both
    for name in sorted(both - {"from_settings"}):
        method = getattr(AsyncLRSClient, name)
        if callable(method):
            assert inspect.iscoroutinefunction(method) or inspect.isasyncgenfunction(method), name
