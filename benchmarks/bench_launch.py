"""Launch validation throughput: blendkit vs raw pylti1p3 vs PyJWT vs the floor, in one run.

2,000 Canvas-like RS256 id_tokens (about 2 KB each) are signed up front; the platform JWKS is
cached (blendkit) or preloaded (pylti1p3's ToolConfDict ``key_set``), so no HTTP happens. Each
figure is the median over repetitions of the mean time per launch. blendkit runs its full check
list, including single-use state and nonce (fresh in-memory stores for every repetition).

    .venv/bin/python benchmarks/bench_launch.py [--tokens 2000] [--repeats 7]
"""

from __future__ import annotations

import argparse
import base64
import statistics
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import jwt
import orjson
import requests
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.hashes import SHA256
from pylti1p3.cookie import CookieService
from pylti1p3.launch_data_storage.cache import CacheDataStorage
from pylti1p3.message_launch import MessageLaunch
from pylti1p3.request import Request
from pylti1p3.session import SessionService
from pylti1p3.tool_config import ToolConfDict

from blendkit.lti import (
    HttpRequest,
    InMemoryLoginStateStore,
    InMemoryNonceStore,
    InMemoryPlatformRegistry,
    JWKSCache,
    LoginState,
    Platform,
    Tool,
)
from blendkit.lti._keys import public_jwk
from blendkit.lti._validator import browser_hash

ISSUER = "https://canvas.instructure.com"
CLIENT_ID = "10000000000042"
DEPLOYMENT_ID = "42:9f2a7c1e0d"
JWKS_URL = "https://canvas.instructure.com/api/lti/security/jwks"
TOOL = "https://tool.example.org"
LTI = "https://purl.imsglobal.org/spec/lti/claim/"
V2 = "http://purl.imsglobal.org/vocab/lis/v2/"
BROWSER_SECRET = "bench-browser-secret-0123456789abcdefghijklmnop"


def canvas_claims(nonce: str, now: int) -> dict[str, Any]:
    """A Canvas resource-link launch for a student (realistic claim set, ~2 KB signed)."""
    return {
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "azp": CLIENT_ID,
        "sub": "535fa085-f22b-4655-f48c-d5a36a9215f6",
        "iat": now,
        "exp": now + 3600,
        "nonce": nonce,
        "name": "Grace Hopper",
        "locale": "en",
        LTI + "message_type": "LtiResourceLinkRequest",
        LTI + "version": "1.3.0",
        LTI + "deployment_id": DEPLOYMENT_ID,
        LTI + "target_link_uri": TOOL + "/course/page",
        LTI + "resource_link": {"id": "6a8aaca162bfc4393804afd4cd53cd94413c48bb", "title": "W3"},
        LTI + "roles": [
            V2 + "institution/person#Student",
            V2 + "membership#Learner",
            V2 + "system/person#User",
        ],
        LTI + "context": {
            "id": "4dde05e8ca1973bcca9bffc13e1548820eee93a3",
            "label": "BIO101",
            "title": "Biology 101",
            "type": [V2 + "course#CourseOffering"],
        },
        LTI + "custom": {"canvas_course_id": "1", "canvas_user_id": "7"},
        "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": {
            "scope": [
                "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                "https://purl.imsglobal.org/spec/lti-ags/scope/score",
            ],
            "lineitems": "https://canvas.instructure.com/api/lti/courses/1/line_items",
        },
        "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": {
            "context_memberships_url": "https://canvas.instructure.com/api/lti/courses/1/names_and_roles",
            "service_versions": ["2.0"],
        },
    }


# --- pylti1p3: the minimal framework glue its docs ask for -----------------------------------


class _Cache:
    def __init__(self) -> None:
        self.data: dict[str, Any] = {}

    def get(self, key: str) -> Any:
        return self.data.get(key)

    def set(self, key: str, value: Any, exp: int | None = None) -> None:
        self.data[key] = value


class _Storage(CacheDataStorage[Any]):
    def __init__(self, cache: _Cache) -> None:
        super().__init__()
        self._cache = cache

    def get_session_cookie_name(self) -> str | None:
        return None


class _Request(Request):
    def __init__(self, params: Mapping[str, str]) -> None:
        self.params = params

    @property
    def session(self) -> dict[str, Any]:
        return {}

    def is_secure(self) -> bool:
        return True

    def get_param(self, key: str) -> str:
        return self.params.get(key, "")


class _Cookies(CookieService):
    def __init__(self, cookies: Mapping[str, str]) -> None:
        self.cookies = cookies

    def get_cookie(self, name: str) -> str | None:
        return self.cookies.get(self._cookie_prefix + "-" + name)

    def set_cookie(self, name: str, value: str | int, exp: int | None = 3600) -> None:
        return None


class _Launch(MessageLaunch):
    def _get_request_param(self, key: str) -> str:
        return self._request.get_param(key)  # type: ignore[no-any-return]


def _interleaved(
    runs: dict[str, tuple[Callable[[], None], Callable[[], None] | None]],
    repeats: int,
    count: int,
) -> dict[str, float]:
    """Median over ``repeats`` of the mean microseconds per item; the figures take turns in
    every repetition so that load changes on a shared machine hit them all alike."""
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, (run, before) in runs.items():
            if before is not None:
                before()
            start = time.perf_counter()
            run()
            samples[name].append((time.perf_counter() - start) / count * 1e6)
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    count, repeats = args.tokens, args.repeats

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwks = {"keys": [public_jwk(key.public_key(), "canvas-2026")]}
    now = int(time.time())
    states = [uuid.uuid4().hex for _ in range(count)]
    nonces = [uuid.uuid4().hex for _ in range(count)]
    tokens = [
        jwt.encode(canvas_claims(n, now), key, algorithm="RS256", headers={"kid": "canvas-2026"})
        for n in nonces
    ]
    token_bytes = statistics.mean(len(t) for t in tokens)

    # --- blendkit ---------------------------------------------------------------------------
    class _Fetcher:
        def fetch(self, url: str) -> Mapping[str, Any]:
            return jwks

    registry = InMemoryPlatformRegistry(
        [
            Platform(
                issuer=ISSUER,
                client_id=CLIENT_ID,
                deployment_ids=(DEPLOYMENT_ID,),
                auth_login_url=ISSUER + "/api/lti/authorize_redirect",
                auth_token_url=ISSUER + "/login/oauth2/token",
                jwks_url=JWKS_URL,
            )
        ]
    )
    cache = JWKSCache(_Fetcher())
    cache.get(JWKS_URL, "canvas-2026")  # JWKS cached, as in a running tool
    binding = browser_hash(BROWSER_SECRET)
    stores: dict[str, Any] = {}

    def fresh_blendkit() -> None:
        login_states = InMemoryLoginStateStore()
        for s, n in zip(states, nonces, strict=True):
            login_states.put(
                LoginState(
                    state=s,
                    nonce=n,
                    issuer=ISSUER,
                    client_id=CLIENT_ID,
                    target_link_uri=TOOL + "/course/page",
                    browser_hash=binding,
                    expires_at=now + 600,
                )
            )
        stores["tool"] = Tool(
            registry=registry,
            states=login_states,
            nonces=InMemoryNonceStore(),
            jwks_cache=cache,
            base_url=TOOL,
        )

    requests_bk = [
        HttpRequest(
            method="POST",
            url=TOOL + "/lti/launch",
            form={"id_token": t, "state": s},
            cookies={"__Host-blendkit_lti": BROWSER_SECRET},
        )
        for t, s in zip(tokens, states, strict=True)
    ]

    def run_blendkit() -> None:
        launch = stores["tool"].launch
        for request in requests_bk:
            launch(request)

    # --- pylti1p3 ---------------------------------------------------------------------------
    conf = ToolConfDict(
        {
            ISSUER: [
                {
                    "default": True,
                    "client_id": CLIENT_ID,
                    "auth_login_url": ISSUER + "/api/lti/authorize_redirect",
                    "auth_token_url": ISSUER + "/login/oauth2/token",
                    "key_set_url": JWKS_URL,
                    "key_set": jwks,
                    "deployment_ids": [DEPLOYMENT_ID],
                }
            ]
        }
    )
    pylti_cache = _Cache()
    storage = _Storage(pylti_cache)
    http = requests.Session()
    seed = SessionService(_Request({}))
    seed.set_data_storage(storage)
    for n in nonces:
        seed.save_nonce(n)
    inputs = [
        (_Request({"id_token": t, "state": s}), _Cookies({"lti1p3-" + s: s}))
        for t, s in zip(tokens, states, strict=True)
    ]

    def run_pylti() -> None:
        for request, cookies in inputs:
            session = SessionService(request)
            session.set_data_storage(storage)
            _Launch(
                request,
                conf,
                session_service=session,
                cookie_service=cookies,
                requests_session=http,
            ).validate()

    # --- PyJWT and the floor -----------------------------------------------------------------
    public = key.public_key()

    def run_pyjwt() -> None:
        for token in tokens:
            jwt.decode(token, public, algorithms=["RS256"], audience=CLIENT_ID)

    pkcs1, sha256 = padding.PKCS1v15(), SHA256()

    def run_floor() -> None:
        for token in tokens:
            head, body, sig = token.encode().split(b".")
            public.verify(
                base64.urlsafe_b64decode(sig + b"=" * (-len(sig) % 4)),
                head + b"." + body,
                pkcs1,
                sha256,
            )
            orjson.loads(base64.urlsafe_b64decode(body + b"=" * (-len(body) % 4)))

    # Warm-up (imports, caches), then the measured runs, interleaved per figure.
    fresh_blendkit()
    run_blendkit()
    run_pylti()
    figures = _interleaved(
        {
            "pylti1p3_message_launch": (run_pylti, None),
            "blendkit_launch": (run_blendkit, fresh_blendkit),
            "pyjwt_decode_preloaded_key": (run_pyjwt, None),
            "floor_rsa_verify_plus_decode": (run_floor, None),
        },
        repeats,
        count,
    )
    peer, floor = figures["pylti1p3_message_launch"], figures["floor_rsa_verify_plus_decode"]
    for name, median in figures.items():
        print(
            orjson.dumps(
                {
                    "figure": name,
                    "median_us_per_launch": round(median, 1),
                    "launches_per_second": round(1e6 / median),
                    "speedup_vs_pylti1p3": round(peer / median, 2),
                    "cost_vs_floor": round(median / floor, 2),
                    "tokens": count,
                    "repeats": repeats,
                    "mean_token_bytes": round(token_bytes),
                }
            ).decode()
        )


if __name__ == "__main__":
    main()
