"""Full LTI launches against the example tool under gunicorn (2 workers) on loopback.

One launch = OIDC login initiation (GET /lti/login) → the platform signs an id_token for the
state and nonce the tool chose → POST /lti/launch → the first page (GET /course?launch=…). The
platform side lives in this process: its JWKS on a tiny loopback server, its signatures (and the
auto-posted forms carrying them) made between the login phase and the launch phase, so that the
platform's work is not counted. Launches/s = launches / (login phase + launch-and-page phase);
a launch's latency is the sum of its three requests. Peer in the same run: GET /lti/jwks (the
cheapest tool route).
The client (``raw_http.run_flows``) speaks HTTP over plain sockets from one thread with a
selector: it shares the machine's cores with the server, and httpx (or a thread per connection)
would spend more CPU per request than the cheapest route does.

    .venv/bin/python benchmarks/bench_app_launches.py [--launches 400] [--rounds 5]

PostgreSQL is used when BLENDKIT_TEST_POSTGRES_URL is set (a fresh database, dropped after),
SQLite otherwise. Prints one JSON line per figure (medians over rounds) and exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from raw_http import Flow, Request, run_flows  # benchmarks/ is the script's own folder

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# The tool's keys are encrypted at rest (production requires a key-encryption key).
ENCRYPTION_KEY = "YmVuY2htYXJrLW9ubHkta2V5LWVuY3J5cHRpb24ta2U="
CLIENT_ID = "bench-client"
DEPLOYMENT = "bench-dep"
KID = "bench-key"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"


class Platform:
    """Signs id_tokens and serves its JWKS on 127.0.0.1."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwks = json.dumps({"keys": [dict(public, kid=KID, alg="RS256", use="sig")]}).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(jwks)))
                self.end_headers()
                self.wfile.write(jwks)

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.issuer = f"{self.url}/lms"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def id_token(self, *, nonce: str, sub: str, tool: str) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer, "aud": CLIENT_ID, "sub": sub, "iat": now, "exp": now + 300,
            "nonce": nonce, "name": sub.title(), "email": f"{sub}@bench.example",
            "https://purl.imsglobal.org/spec/lti/claim/message_type": "LtiResourceLinkRequest",
            "https://purl.imsglobal.org/spec/lti/claim/version": "1.3.0",
            "https://purl.imsglobal.org/spec/lti/claim/deployment_id": DEPLOYMENT,
            "https://purl.imsglobal.org/spec/lti/claim/target_link_uri": f"{tool}/lti/launch",
            "https://purl.imsglobal.org/spec/lti/claim/resource_link": {"id": "rl-1"},
            "https://purl.imsglobal.org/spec/lti/claim/roles": [LEARNER],
            "https://purl.imsglobal.org/spec/lti/claim/context": {
                "id": "bench-course", "title": "Bench course"},
            "https://purl.imsglobal.org/spec/lti/claim/custom": {"timezone": "Europe/Berlin"},
        }  # fmt: skip
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": KID})


def _database() -> tuple[str, Any]:
    base = os.environ.get("BLENDKIT_TEST_POSTGRES_URL")
    if not base:
        folder = tempfile.mkdtemp(prefix="bk-bench-")
        return f"sqlite:///{folder}/bench.sqlite3", None
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"bk_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(base).set(database=name).render_as_string(hide_password=False), drop


def _prepare(db_url: str, platform: Platform) -> None:
    from blendkit import Store
    from blendkit.lti import KeySet, StorePlatformRegistry
    from blendkit.lti import Platform as Registration
    from blendkit.store import KeyEncryption

    store = Store(db_url)
    store.migrate()
    StorePlatformRegistry(store).add(
        Registration(
            issuer=platform.issuer, client_id=CLIENT_ID, deployment_ids=(DEPLOYMENT,),
            auth_login_url=f"{platform.url}/auth", auth_token_url=f"{platform.url}/token",
            jwks_url=f"{platform.url}/jwks", name="bench",
        )
    )  # fmt: skip
    KeySet(
        store, encryption=KeyEncryption([ENCRYPTION_KEY])
    ).jwks()  # the tool key exists before the workers start
    store.dispose()


def _start_tool(
    db_url: str, port: int, workers: int, worker_options: list[str]
) -> subprocess.Popen[bytes]:
    env = dict(
        os.environ,
        BLENDKIT_DATABASE_URL=db_url,
        BLENDKIT_TOOL_BASE_URL=f"http://127.0.0.1:{port}",
        BLENDKIT_TOOL_SECRET_KEY="bench-secret",
        BLENDKIT_TOOL_KEY_ENCRYPTION_KEYS=f'["{ENCRYPTION_KEY}"]',
        # The benchmark's platform serves its key set on loopback over http: allowed by name.
        BLENDKIT_HTTP_ALLOWED_HOSTS='["127.0.0.1"]',
        PYTHONPATH=str(ROOT),
    )
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [str(gunicorn), "-w", str(workers), *worker_options, "-b", f"127.0.0.1:{port}",
               "--log-level", "warning", "blendkit_examples.flask_app.wsgi:app"]  # fmt: skip
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/lti/jwks", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("gunicorn did not answer within 30 s")


def _server_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of the gunicorn workers, read from /proc (0.0 elsewhere)."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = 0.0
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        for child in children:
            fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
    except OSError:
        return 0.0
    return total


def _round(
    port: int, platform: Platform, launches: int, workers: int, server_pid: int
) -> dict[str, float]:
    tool = f"http://127.0.0.1:{port}"

    def login(n: int) -> Flow:
        sub = f"learner-{uuid.uuid4().hex[:10]}"
        query = urlencode(
            {"iss": platform.issuer, "login_hint": sub, "client_id": CLIENT_ID,
             "target_link_uri": f"{tool}/lti/launch", "lti_deployment_id": DEPLOYMENT}
        )  # fmt: skip
        started = time.perf_counter()
        answer = yield Request("GET", f"/lti/login?{query}")
        elapsed = time.perf_counter() - started
        assert answer.status == 302, answer.body[:300]
        found = parse_qs(urlsplit(answer.header("location")).query)
        return elapsed, found["state"][0], found["nonce"][0], answer.cookies(), sub

    def auto_post(entry: tuple[float, str, str, dict[str, str], str]) -> tuple[float, bytes, str]:
        """The platform's work: sign the id_token and build the form the browser posts."""
        elapsed, state, nonce, cookies, sub = entry
        token = platform.id_token(nonce=nonce, sub=sub, tool=tool)
        cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
        return elapsed, urlencode({"id_token": token, "state": state}).encode(), cookie

    def launch(item: tuple[float, bytes, str]) -> Flow:
        elapsed, form, cookie = item
        started = time.perf_counter()
        answer = yield Request(
            "POST",
            "/lti/launch",
            {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
            form,
        )
        assert answer.status == 302, answer.body[:300]
        location = urlsplit(answer.header("location"))
        page = yield Request("GET", f"{location.path}?{location.query}")
        assert page.status == 200, page.body[:300]
        assert b"Bench course" in page.body, page.body[:300]
        return elapsed + time.perf_counter() - started

    def peer(n: int) -> Flow:
        answer = yield Request("GET", "/lti/jwks")
        return answer.status

    def run(flows: Iterable[Flow]) -> list[Any]:
        return run_flows("127.0.0.1", port, flows, workers)

    cpu0 = _server_cpu_seconds(server_pid)
    own0 = time.process_time()
    t0 = time.perf_counter()
    logged = run(login(n) for n in range(launches))
    login_phase = time.perf_counter() - t0
    cpu1 = _server_cpu_seconds(server_pid)
    own1 = time.process_time()
    signed = [auto_post(entry) for entry in logged]
    cpu2 = _server_cpu_seconds(server_pid)
    own2 = time.process_time()
    t1 = time.perf_counter()
    latencies = run(launch(item) for item in signed)
    launch_phase = time.perf_counter() - t1
    cpu3 = _server_cpu_seconds(server_pid)
    own3 = time.process_time()
    t2 = time.perf_counter()
    assert set(run(peer(n) for n in range(launches))) == {200}
    peer_phase = time.perf_counter() - t2
    latencies.sort()
    return {
        "launches_per_s": launches / (login_phase + launch_phase),
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "jwks_per_s": launches / peer_phase,
        "server_cpu_ms_per_launch": 1000 * (cpu1 - cpu0 + cpu3 - cpu2) / launches,
        "client_cpu_ms_per_launch": 1000 * (own1 - own0 + own3 - own2) / launches,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--launches", type=int, default=400, help="launches per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--worker-class", default="sync", help="gunicorn worker class (sync or gthread)"
    )
    parser.add_argument("--threads", type=int, default=1, help="threads per gthread worker")
    parser.add_argument(
        "--workers", type=int, default=2, help="gunicorn workers (the goal is stated for 2)"
    )
    parser.add_argument("--max-seconds", type=float, default=240, help="stop after this long")
    args = parser.parse_args()
    platform = Platform()
    db_url, drop = _database()
    _prepare(db_url, platform)
    with __import__("socket").socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = _start_tool(
        db_url,
        port,
        args.workers,
        ["--worker-class", args.worker_class, "--threads", str(args.threads)],
    )
    results = []
    started = time.monotonic()
    try:
        _round(port, platform, min(50, args.launches), args.concurrency, process.pid)  # warm-up
        for _ in range(args.rounds):
            results.append(_round(port, platform, args.launches, args.concurrency, process.pid))
            if time.monotonic() - started > args.max_seconds:
                break
    finally:
        process.terminate()
        process.wait(timeout=15)
        platform.server.shutdown()
        if drop:
            drop()
    backend = "postgresql" if drop else "sqlite"
    median = {k: statistics.median(r[k] for r in results) for k in results[0]}
    common = {"backend": backend, "workers": args.workers, "worker_class": args.worker_class,
              "threads": args.threads, "concurrency": args.concurrency,
              "launches_per_round": args.launches, "rounds": len(results)}  # fmt: skip
    print(json.dumps({"figure": "app_launches_per_s", "median": round(median["launches_per_s"], 1),
                      "target": 300, "peer": "jwks_requests_per_s",
                      "peer_median": round(median["jwks_per_s"], 1),
                      "ratio_vs_peer": round(median["launches_per_s"] / median["jwks_per_s"], 3),
                      **common}))  # fmt: skip
    p50 = round(median["p50_ms"], 2)
    print(json.dumps({"figure": "app_launch_p50_ms", "median": p50, **common}))
    print(json.dumps({"figure": "app_launch_p99_ms", "median": round(median["p99_ms"], 2),
                      "target": 50, **common}))  # fmt: skip
    cpu = round(median["server_cpu_ms_per_launch"], 2)
    print(json.dumps({"figure": "server_cpu_ms_per_launch", "median": cpu, **common}))
    client_cpu = round(median["client_cpu_ms_per_launch"], 2)
    print(json.dumps({"figure": "client_cpu_ms_per_launch", "median": client_cpu, **common}))
    print(json.dumps({"figure": "raw_rounds", "rounds": [{k: round(v, 2) for k, v in r.items()}
                                                          for r in results]}))  # fmt: skip


if __name__ == "__main__":
    main()
