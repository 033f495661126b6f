"""Store-backed registry, login states and nonces (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import threading
import time

import pytest

from blendkit.errors import AlreadyExists, LaunchRejected, NotFound
from blendkit.lti import (
    CachedPlatformRegistry,
    InMemoryLoginStateStore,
    InMemoryNonceStore,
    InMemoryPlatformRegistry,
    LoginState,
    Platform,
    PlatformRegistry,
    StoreLoginStateStore,
    StoreNonceStore,
    StorePlatformRegistry,
    Tool,
)
from blendkit.store import Store
from tests.lti.launch_kit import (
    CLIENT_ID,
    OTHER_CLIENT_ID,
    Kit,
    canvas_claims,
    canvas_platform,
    sign,
)


def _registries(store: Store) -> list[PlatformRegistry]:
    return [StorePlatformRegistry(store), InMemoryPlatformRegistry()]


def test_registry_round_trip(store: Store) -> None:
    for registry in _registries(store):
        platform = canvas_platform(deployment_ids=("d1", "d2"), auth_audience="https://aud")
        stored = registry.add(platform)
        assert stored.registered_at is not None
        assert stored.model_copy(update={"registered_at": None}) == platform
        assert registry.get(platform.issuer, CLIENT_ID) == stored
        assert registry.list() == [stored]
        with pytest.raises(AlreadyExists):
            registry.add(platform)
        updated = registry.add_deployment(platform.issuer, CLIENT_ID, "d3")
        assert updated.deployment_ids == ("d1", "d2", "d3")
        with pytest.raises(AlreadyExists):
            registry.add_deployment(platform.issuer, CLIENT_ID, "d3")
        registry.remove(platform.issuer, CLIENT_ID)
        assert registry.list() == []
        with pytest.raises(NotFound):
            registry.get(platform.issuer, CLIENT_ID)
        with pytest.raises(NotFound):
            registry.remove(platform.issuer, CLIENT_ID)
        with pytest.raises(NotFound):
            registry.add_deployment(platform.issuer, CLIENT_ID, "d1")


def test_service_hosts_round_trip_and_can_be_changed(store: Store) -> None:
    registries: list[PlatformRegistry] = [
        *_registries(store),
        CachedPlatformRegistry(StorePlatformRegistry(store), ttl_seconds=60),
    ]
    for index, registry in enumerate(registries):
        client_id = f"{CLIENT_ID}-{index}"
        platform = canvas_platform(client_id=client_id, service_hosts=("*.Instructure.com.",))
        registry.add(platform)
        assert registry.get(platform.issuer, client_id).service_hosts == ("*.instructure.com",)
        registry.set_service_hosts(platform.issuer, client_id, ["lms.example.edu"])
        assert registry.get(platform.issuer, client_id).service_hosts == ("lms.example.edu",)
        registry.set_service_hosts(platform.issuer, client_id, [])
        assert registry.get(platform.issuer, client_id).service_hosts == ()
        with pytest.raises(NotFound):
            registry.set_service_hosts(platform.issuer, "nobody", [])


def test_two_registrations_on_one_issuer_stay_apart(store: Store) -> None:
    for registry in _registries(store):
        a = canvas_platform(CLIENT_ID, deployment_ids=("a-dep",), name="sub-account A")
        b = canvas_platform(
            OTHER_CLIENT_ID,
            deployment_ids=("b-dep",),
            jwks_url="https://canvas.example.edu/b/jwks",
            name="sub-account B",
        )
        a = registry.add(a)
        registry.add(b)
        registry.add_deployment(b.issuer, OTHER_CLIENT_ID, "b-dep-2")
        assert registry.get(a.issuer, CLIENT_ID).deployment_ids == ("a-dep",)
        assert registry.get(a.issuer, CLIENT_ID).jwks_url == a.jwks_url
        assert registry.get(b.issuer, OTHER_CLIENT_ID).deployment_ids == ("b-dep", "b-dep-2")
        assert [p.client_id for p in registry.for_issuer(a.issuer)] == sorted(
            [CLIENT_ID, OTHER_CLIENT_ID]
        )
        registry.remove(b.issuer, OTHER_CLIENT_ID)
        assert registry.get(a.issuer, CLIENT_ID) == a


def test_two_registry_instances_share_nothing_in_memory() -> None:
    first, second = InMemoryPlatformRegistry(), InMemoryPlatformRegistry()
    first.add(canvas_platform())
    assert second.list() == []


@pytest.mark.parametrize(
    "changes",
    [
        {"jwks_url": "http://platform.example/jwks"},
        {"auth_login_url": "ftp://platform.example/auth"},
        {"auth_token_url": "/relative"},
        {"issuer": " "},
        {"deployment_ids": ("",)},
    ],
)
def test_platform_rejects_bad_values(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        canvas_platform(**changes)


def _record(state: str, *, expires_in: float = 600) -> LoginState:
    return LoginState(
        state=state,
        nonce="n-" + state,
        issuer="https://canvas.example.edu",
        client_id=CLIENT_ID,
        target_link_uri="https://tool.example.org/x",
        browser_hash="0" * 64,
        expires_at=time.time() + expires_in,
        storage_target="_parent",
    )


@pytest.mark.parametrize("kind", ["store", "memory"])
def test_login_state_is_consumed_once(store: Store, kind: str) -> None:
    states = StoreLoginStateStore(store) if kind == "store" else InMemoryLoginStateStore()
    record = _record("s1")
    states.put(record)
    peeked = states.peek("s1")
    assert peeked is not None
    assert peeked.model_dump(exclude={"expires_at"}) == record.model_dump(exclude={"expires_at"})
    popped = states.pop("s1")
    assert popped is not None
    assert popped.state == "s1"
    assert popped.storage_target == "_parent"
    assert abs(popped.expires_at - record.expires_at) < 0.001
    assert states.pop("s1") is None
    assert states.peek("s1") is None


@pytest.mark.parametrize("kind", ["store", "memory"])
def test_nonce_is_single_use_per_issuer(store: Store, kind: str) -> None:
    nonces = StoreNonceStore(store) if kind == "store" else InMemoryNonceStore()
    later = time.time() + 600
    assert nonces.use("https://a", "n1", later)
    assert not nonces.use("https://a", "n1", later)
    assert nonces.use("https://b", "n1", later)
    # A second store object (another process) sees the same used nonces.
    if kind == "store":
        assert not StoreNonceStore(store).use("https://a", "n1", later)


def test_expired_rows_are_purged_opportunistically(store: Store) -> None:
    nonces = StoreNonceStore(store)
    assert nonces.use("https://a", "old", time.time() - 5)
    states = StoreLoginStateStore(store)
    states.put(_record("old-state", expires_in=-5))
    # The first call of a fresh store object purges: the expired rows are gone.
    assert StoreNonceStore(store).use("https://a", "fresh", time.time() + 60)
    StoreLoginStateStore(store).put(_record("fresh-state"))
    assert nonces.use("https://a", "old", time.time() + 60)
    assert states.peek("old-state") is None


def test_tool_from_store_launches_end_to_end(store: Store) -> None:
    from blendkit.config import Settings

    kit = Kit()
    tool = Tool.from_store(
        store, Settings(tool={"base_url": "https://tool.example.org"}), jwks_fetcher=kit.fetcher
    )
    tool.registry.add(canvas_platform())
    login = tool.login(
        kit.launch_request(None, None, None).model_copy(
            update={
                "form": {
                    "iss": "https://canvas.example.edu",
                    "login_hint": "h",
                    "target_link_uri": "https://tool.example.org/course/page",
                    "client_id": CLIENT_ID,
                }
            }
        )
    )
    location = login.header("Location") or ""
    state = location.split("state=")[1].split("&")[0]
    nonce = location.split("nonce=")[1].split("&")[0]
    token = sign(canvas_claims(nonce, time.time()))
    request = kit.launch_request(token, state, login.cookies[0].value).model_copy(
        update={"cookies": {tool.cookie_name: login.cookies[0].value}}
    )
    assert tool.launch(request).is_instructor
    with pytest.raises(LaunchRejected) as info:
        tool.launch(request)
    assert info.value.code == "lti.state_mismatch"
    assert tool.jwks()["keys"][0]["alg"] == "RS256"


def test_concurrent_consumers_of_one_nonce_get_exactly_one_success(postgres_url: str) -> None:
    store = Store(postgres_url)
    store.migrate()
    try:
        nonces = [StoreNonceStore(store) for _ in range(8)]
        barrier = threading.Barrier(len(nonces))
        results: list[bool] = []
        lock = threading.Lock()

        def consume(index: int) -> None:
            barrier.wait()
            outcome = nonces[index].use("https://canvas.example.edu", "race", time.time() + 60)
            with lock:
                results.append(outcome)

        threads = [threading.Thread(target=consume, args=(i,)) for i in range(len(nonces))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(results) == [False] * (len(nonces) - 1) + [True]
    finally:
        store.dispose()


def test_concurrent_consumers_of_one_state_get_it_once(postgres_url: str) -> None:
    store = Store(postgres_url)
    store.migrate()
    try:
        StoreLoginStateStore(store).put(_record("contested"))
        barrier = threading.Barrier(6)
        winners: list[LoginState | None] = []
        lock = threading.Lock()

        def consume() -> None:
            barrier.wait()
            got = StoreLoginStateStore(store).pop("contested")
            with lock:
                winners.append(got)

        threads = [threading.Thread(target=consume) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sum(w is not None for w in winners) == 1
    finally:
        store.dispose()


def test_platform_model_label() -> None:
    platform = Platform(
        issuer="https://moodle.example.edu",
        client_id="abc",
        auth_login_url="https://moodle.example.edu/mod/lti/auth.php",
        auth_token_url="https://moodle.example.edu/mod/lti/token.php",
        jwks_url="http://localhost:8000/mod/lti/certs.php",
    )
    assert "abc" in platform.label


def test_one_launch_posted_by_racing_workers_is_accepted_once(postgres_url: str) -> None:
    """Several workers receive the same form post at once: exactly one Launch, the rest refused."""
    store = Store(postgres_url)
    store.migrate()
    try:
        kit = Kit()
        tools = [
            Tool(
                registry=StorePlatformRegistry(store),
                states=StoreLoginStateStore(store),
                nonces=StoreNonceStore(store),
                jwks_cache=kit.jwks,
                base_url="https://tool.example.org",
            )
            for _ in range(6)
        ]
        tools[0].registry.add(canvas_platform())
        login = tools[0].login(
            kit.launch_request(None, None, None).model_copy(
                update={
                    "form": {
                        "iss": "https://canvas.example.edu",
                        "login_hint": "h",
                        "target_link_uri": "https://tool.example.org/course/page",
                        "client_id": CLIENT_ID,
                    }
                }
            )
        )
        location = login.header("Location") or ""
        state = location.split("state=")[1].split("&")[0]
        nonce = location.split("nonce=")[1].split("&")[0]
        request = kit.launch_request(
            sign(canvas_claims(nonce, time.time())), state, None
        ).model_copy(update={"cookies": {tools[0].cookie_name: login.cookies[0].value}})
        barrier = threading.Barrier(len(tools))
        outcomes: list[str] = []
        lock = threading.Lock()

        def work(tool: Tool) -> None:
            barrier.wait()
            try:
                tool.launch(request)
                result = "accepted"
            except LaunchRejected as rejected:
                result = rejected.code
            with lock:
                outcomes.append(result)

        threads = [threading.Thread(target=work, args=(t,)) for t in tools]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert outcomes.count("accepted") == 1
        assert set(outcomes) - {"accepted"} == {"lti.state_mismatch"}
    finally:
        store.dispose()
