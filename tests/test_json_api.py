"""blendkit.http.JsonApi: paging (token and link), one refresh on 401, tokens only on their hosts,
Retry-After, the error hooks a vendor overrides, and ClientOwner."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from blendkit.errors import (
    BlendkitError,
    NotFound,
    ProviderAuthError,
    ProviderError,
    ProviderRateLimited,
)
from blendkit.http import (
    ClientOwner,
    JsonApi,
    LinkPaging,
    RetryPolicy,
    TokenCache,
    TokenPaging,
    host_allowed,
    json_object,
)
from tests.docs_blocks import run_python_blocks
from tests.fence import public_fence

BASE = "https://api.example.org/v2"
Handler = Callable[[httpx.Request], httpx.Response]


class Tokens:
    """Hands out ``t1``, ``t2`` …: a new token after each refusal."""

    def __init__(self) -> None:
        self.issued = 1
        self.refused: list[str] = []

    def token(self) -> str:
        return f"t{self.issued}"

    def invalidate(self, token: str) -> None:
        self.refused.append(token)
        self.issued += 1


class Recorder:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)


def api(
    handler: Handler,
    *,
    kind: type[JsonApi] = JsonApi,
    tokens: Tokens | None = None,
    sleeps: list[float] | None = None,
    **options: Any,
) -> tuple[JsonApi, Recorder]:
    recorder = Recorder(handler)
    client = httpx.Client(transport=httpx.MockTransport(recorder))
    waits = sleeps if sleeps is not None else []
    built = kind(
        tokens or Tokens(),
        client,
        base_url=options.pop("base_url", BASE),
        fence=public_fence(),
        sleep=waits.append,
        retry=RetryPolicy(max_retries=2),
        **options,
    )
    return built, recorder


# --- paging ------------------------------------------------------------------------------------


def test_token_paging_sends_the_token_back_until_the_last_page() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("pageToken", "0"))
        body: dict[str, Any] = {"items": [{"n": page}, "not an object"]}
        if page < 2:
            body["nextPageToken"] = str(page + 1)
        return httpx.Response(200, json=body)

    client, recorder = api(handler)
    items = list(client.pages("/things", {"size": 2}))
    assert items == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert [r.url.params.get("pageToken") for r in recorder.requests] == [None, "1", "2"]
    assert all(r.url.params["size"] == "2" for r in recorder.requests)


def test_token_paging_with_zoom_names() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        token = request.url.params.get("next_page_token")
        body: dict[str, Any] = {"participants": [{"token": token}]}
        if token is None:
            body["next_page_token"] = "abc"
        return httpx.Response(200, json=body)

    paging = TokenPaging("next_page_token", "next_page_token", "participants")
    client, recorder = api(handler, paging=paging)
    assert list(client.pages("/list")) == [{"token": None}, {"token": "abc"}]
    assert recorder.requests[1].url.params["next_page_token"] == "abc"


def test_link_paging_follows_next_links_under_the_base_url() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        skip = int(request.url.params.get("$skip", "0"))
        body: dict[str, Any] = {"value": [{"n": skip}]}
        if skip < 2:
            body["@odata.nextLink"] = f"{BASE}/things?$skip={skip + 1}"
        return httpx.Response(200, json=body)

    client, recorder = api(handler, paging=LinkPaging())
    assert [i["n"] for i in client.pages("/things", {"$top": "1"})] == [0, 1, 2]
    assert recorder.requests[0].url.params["$top"] == "1"
    assert "$top" not in recorder.requests[1].url.params  # the link carries its own query


@given(
    sizes=st.lists(st.integers(min_value=0, max_value=4), min_size=1, max_size=12),
    link=st.booleans(),
)
def test_every_item_of_every_page_once_in_order(sizes: list[int], link: bool) -> None:
    starts = [sum(sizes[:n]) for n in range(len(sizes))]

    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("p" if link else "pageToken", "0"))
        body: dict[str, Any] = {"items": [{"n": starts[page] + i} for i in range(sizes[page])]}
        if page + 1 < len(sizes):
            if link:
                body["next"] = f"{BASE}/things?p={page + 1}"
            else:
                body["nextPageToken"] = str(page + 1)
        return httpx.Response(200, json=body)

    paging = LinkPaging("next", "items") if link else TokenPaging()
    client, recorder = api(handler, paging=paging)
    assert [item["n"] for item in client.pages("/things")] == list(range(sum(sizes)))
    assert len(recorder.requests) == len(sizes)


def test_a_page_already_fetched_ends_the_list() -> None:
    client, recorder = api(
        lambda request: httpx.Response(200, json={"items": [{}], "nextPageToken": "same"})
    )
    assert len(list(client.pages("/things"))) == 2
    assert len(recorder.requests) == 2


def test_pages_without_end_are_an_error() -> None:
    class Short(JsonApi):
        max_pages = 3

    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("pageToken", "0"))
        return httpx.Response(200, json={"items": [], "nextPageToken": str(page + 1)})

    client, recorder = api(handler, kind=Short)
    with pytest.raises(ProviderError, match="more pages after 3") as caught:
        list(client.pages("/things"))
    assert caught.value.code == "sessions.provider_unexpected"
    assert len(recorder.requests) == 3


def test_items_that_are_not_a_list_are_an_error() -> None:
    client, _ = api(lambda request: httpx.Response(200, json={"items": {"a": 1}}))
    with pytest.raises(ProviderError, match="'items' that is not a list"):
        list(client.pages("/things"))


# --- tokens ------------------------------------------------------------------------------------


def test_a_401_refreshes_the_token_once_then_succeeds() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers["authorization"] == "Bearer t1":
            return httpx.Response(401)
        return httpx.Response(200, json={"ok": True})

    tokens = Tokens()
    client, recorder = api(handler, tokens=tokens)
    assert client.get("/me") == {"ok": True}
    assert tokens.refused == ["t1"]
    assert [r.headers["authorization"] for r in recorder.requests] == ["Bearer t1", "Bearer t2"]


def test_a_second_401_is_an_auth_error_not_a_loop() -> None:
    tokens = Tokens()
    client, recorder = api(lambda request: httpx.Response(401), tokens=tokens)
    with pytest.raises(ProviderAuthError, match=r"refused GET /me \(HTTP 401\)"):
        client.get("/me")
    assert tokens.refused == ["t1"]
    assert len(recorder.requests) == 2


def test_a_token_cache_is_a_token_source() -> None:
    fetched: list[int] = []

    def fetch() -> tuple[str, float]:
        fetched.append(1)
        return f"c{len(fetched)}", 3600.0

    answers = iter([httpx.Response(401), httpx.Response(200, json={})])
    recorder = Recorder(lambda request: next(answers))
    client = JsonApi(
        TokenCache(fetch, refresh_margin=60.0),
        httpx.Client(transport=httpx.MockTransport(recorder)),
        base_url=BASE,
        fence=public_fence(),
    )
    client.get("/me")
    assert [r.headers["authorization"] for r in recorder.requests] == ["Bearer c1", "Bearer c2"]


def test_the_token_never_goes_to_a_host_off_the_list() -> None:
    tokens = Tokens()
    client, recorder = api(lambda request: httpx.Response(200, json={}), tokens=tokens)
    for url in (
        "https://evil.example/v2/x",
        "https://api.example.org.evil.example/v2/x",
        "http://api.example.org/v2/x",
        "https://user@api.example.org/v2/x",
    ):
        with pytest.raises(ProviderError, match=r"only https api\.example\.org") as caught:
            client.get(url)
        assert caught.value.code == "sessions.provider_unexpected"
    assert recorder.requests == []
    assert client.get(f"{BASE}/x") == {}  # an absolute URL on the list is fine


def test_a_next_link_elsewhere_is_refused_before_the_token_goes_there() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, json={"value": [{"n": 1}], "@odata.nextLink": "https://evil.example/v2/steal"}
        )

    client, recorder = api(handler, paging=LinkPaging())
    pages = client.pages("/things")
    assert next(pages) == {"n": 1}
    with pytest.raises(ProviderError, match="another host"):
        next(pages)
    assert [r.url.host for r in recorder.requests] == ["api.example.org"]


def test_a_next_link_off_the_base_path_is_refused_too() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        link = "https://api.example.org/beta/things?page=2"
        return httpx.Response(200, json={"value": [], "@odata.nextLink": link})

    client, recorder = api(handler, paging=LinkPaging())
    with pytest.raises(ProviderError, match="another host"):
        list(client.pages("/things"))
    assert len(recorder.requests) == 1


def test_wildcard_token_hosts_allow_subdomains_only() -> None:
    client, recorder = api(
        lambda request: httpx.Response(200, json={}),
        base_url="",
        token_hosts=("*.googleapis.com",),
    )
    assert client.get("https://meet.googleapis.com/v2/spaces/x") == {}
    for url in ("https://googleapis.com/v1/x", "https://googleapis.com.example.org/v1/x"):
        with pytest.raises(ProviderError, match=r"only https \*\.googleapis\.com"):
            client.get(url)
    assert len(recorder.requests) == 1


def test_the_base_url_is_read_after_the_token_is_fetched() -> None:
    class PerAccount(JsonApi):
        def base_url(self) -> str:
            return "https://eu.example.org/v2" if tokens.issued > 0 else BASE

    tokens = Tokens()
    client, recorder = api(
        lambda request: httpx.Response(200, json={}),
        kind=PerAccount,
        tokens=tokens,
        token_hosts=("*.example.org",),
    )
    client.get("/me")
    assert str(recorder.requests[0].url) == "https://eu.example.org/v2/me"


@given(
    label=st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True),
    scheme=st.sampled_from(["https", "http", "ftp"]),
    userinfo=st.sampled_from(["", "user@", "user:pw@"]),
)
def test_host_rule(label: str, scheme: str, userinfo: str) -> None:
    url = f"{scheme}://{userinfo}{label}.example.org/path"
    allowed = scheme == "https" and not userinfo
    assert host_allowed(url, ("*.example.org",)) is allowed
    assert host_allowed(f"https://{label.upper()}.Example.ORG/p", ("*.example.org",))
    assert host_allowed(url, (f"{label}.example.org",)) is allowed
    assert not host_allowed(f"https://{label}example.org/path", ("*.example.org",))
    assert not host_allowed(f"https://example.org.{label}/path", ("*.example.org",))
    assert not host_allowed(f"https://{label}.example.org/path", ("example.org",))


# --- retries -----------------------------------------------------------------------------------


def test_retry_after_is_honoured() -> None:
    answers = iter(
        [httpx.Response(429, headers={"retry-after": "7"}), httpx.Response(200, json={"a": 1})]
    )
    sleeps: list[float] = []
    client, recorder = api(lambda request: next(answers), sleeps=sleeps)
    assert client.get("/things") == {"a": 1}
    assert sleeps == [7.0]
    assert len(recorder.requests) == 2


def test_throttling_that_does_not_end_is_rate_limited_with_the_advice() -> None:
    client, recorder = api(lambda request: httpx.Response(429, headers={"retry-after": "3"}))
    with pytest.raises(ProviderRateLimited, match="after 3 attempt") as caught:
        client.get("/things")
    assert caught.value.retry_after == 3.0
    assert len(recorder.requests) == 3


def test_a_busy_create_is_not_sent_twice_but_a_busy_read_is() -> None:
    client, recorder = api(lambda request: httpx.Response(503))
    with pytest.raises(ProviderError) as caught:
        client.post("/things", {"a": 1})
    assert caught.value.code == "sessions.provider_unavailable"
    assert len(recorder.requests) == 1
    with pytest.raises(ProviderError, match="kept failing on GET /things"):
        client.get("/things")
    assert len(recorder.requests) == 1 + 3


def test_no_answer_is_unreachable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client, _ = api(handler)
    with pytest.raises(ProviderError) as caught:
        client.get("/things")
    assert caught.value.code == "sessions.provider_unreachable"


def test_the_fences_refusal_is_a_provider_error_with_its_code() -> None:
    client, _ = api(lambda request: httpx.Response(200, content=b"x" * 100))
    with pytest.raises(ProviderError) as caught:
        client.request("GET", "/big", max_bytes=10)
    assert caught.value.code == "http.response_too_large"


# --- error mapping -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "kind", "code"),
    [
        (401, ProviderAuthError, "sessions.provider_auth"),
        (403, ProviderAuthError, "sessions.provider_auth"),
        (404, NotFound, "sessions.meeting_not_found"),
        (400, ProviderError, "sessions.provider_rejected"),
        (501, ProviderError, "sessions.provider_unavailable"),
    ],
)
def test_error_answers_map_onto_the_error_tree(
    status: int, kind: type[BlendkitError], code: str
) -> None:
    body = {"error": {"code": "BadThing", "message": "it went wrong"}}
    client, _ = api(lambda request: httpx.Response(status, json=body))
    with pytest.raises(kind) as caught:
        client.post("/things", {})
    assert type(caught.value) is kind
    assert caught.value.code == code
    assert "POST /things" in caught.value.message
    if status < 500:
        assert "BadThing it went wrong" in caught.value.message


def test_allow_404_hands_the_answer_back() -> None:
    client, _ = api(lambda request: httpx.Response(404, json={}))
    assert client.request("GET", "/gone", allow_404=True).status_code == 404


class Vendor(JsonApi):
    vendor = "Acme"
    auth_advice = "grant the acme:read scope"

    def error_detail(self, response: httpx.Response) -> str:
        return f": {response.json().get('msg', '')}"

    def refuses_credentials(self, response: httpx.Response) -> bool:
        return super().refuses_credentials(response) or response.json().get("code") == 124

    def special_error(self, response: httpx.Response, where: str) -> BlendkitError | None:
        if response.json().get("reason") == "rateLimitExceeded":
            return ProviderRateLimited(f"Acme limits {where}", retry_after=None)
        return None

    def give_up_on(self, response: httpx.Response) -> bool:
        return bool(response.headers.get("x-limit") == "daily")


def test_vendor_hooks_shape_the_errors() -> None:
    answers = {
        "/scope": httpx.Response(400, json={"code": 124, "msg": "invalid token"}),
        "/limit": httpx.Response(403, json={"reason": "rateLimitExceeded"}),
        "/daily": httpx.Response(429, headers={"x-limit": "daily", "retry-after": "5"}),
    }
    client, recorder = api(lambda request: answers[request.url.path[3:]], kind=Vendor)
    with pytest.raises(ProviderAuthError) as auth:
        client.get("/scope")
    assert auth.value.message == (
        "Acme refused GET /scope (HTTP 400: invalid token); grant the acme:read scope"
    )
    with pytest.raises(ProviderRateLimited, match="Acme limits GET /limit"):
        client.get("/limit")
    with pytest.raises(ProviderRateLimited) as daily:
        client.get("/daily")
    assert daily.value.retry_after == 5.0
    assert [r.url.path for r in recorder.requests].count("/v2/daily") == 1  # not waited out


def test_json_object_reads_objects_only() -> None:
    assert json_object(httpx.Response(200, json={"a": 1}), vendor="Acme") == {"a": 1}
    assert json_object(httpx.Response(204), vendor="Acme", allow_empty=True) == {}
    with pytest.raises(ProviderError, match="Acme answered GET /x with a body that is not JSON"):
        json_object(httpx.Response(204), vendor="Acme", where="GET /x")
    with pytest.raises(ProviderError, match="JSON that is not an object"):
        json_object(httpx.Response(200, json=[1]), vendor="Acme")


# --- ClientOwner -------------------------------------------------------------------------------


def test_a_client_owner_closes_only_the_client_it_opened() -> None:
    injected = httpx.Client()
    with ClientOwner(injected, timeout=5.0):
        pass
    assert not injected.is_closed
    owner = ClientOwner(None, timeout=5.0)
    with owner as entered:
        assert entered is owner
    assert owner._client.is_closed
    assert owner._client.timeout.read == 5.0
    injected.close()


def test_the_reference_examples_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run_python_blocks("reference/http.md", tmp_path, monkeypatch, count=2)
    assert capsys.readouterr().out.splitlines() == ["200 [2.0]", "[1, 2]"]
