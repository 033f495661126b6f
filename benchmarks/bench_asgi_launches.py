"""Full LTI launches per second: the Starlette adapter against the Flask adapter, same server.

Both tools are the same minimal app (launch → 302 to ``/course?launch=…`` → a page naming the
course) on their adapter, served by uvicorn with the same number of worker processes: Starlette
as an ASGI app, Flask through uvicorn's WSGI interface. The platform, the database preparation and
the launch flows are those of ``bench_app_launches.py`` (login, the platform's signing outside the
timed phases, launch and first page). Rounds alternate between the two servers, so both see the
same machine load; the figure is the ratio of the medians.

    .venv/bin/python benchmarks/bench_asgi_launches.py [--launches 200] [--rounds 5]

Prints one JSON line per figure and exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from bench_app_launches import ENCRYPTION_KEY, Platform, _database, _prepare, _round

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = Path(__file__).resolve().parent
PAGE = "<!doctype html><title>{0}</title><h1>{0}</h1><p>{1}</p>"


def flask_app() -> Any:
    """The minimal tool on the Flask adapter (uvicorn --interface wsgi --factory)."""
    from flask import Flask, redirect

    from blendkit.integrations.flask import Blendkit
    from blendkit.lti import Launch

    app = Flask("bench_flask")
    bk = Blendkit(app, migrate=False)

    @bk.on_launch
    def launched(launch: Launch, launch_id: str) -> Any:
        return redirect(f"/course?launch={launch_id}", code=302)

    @app.get("/course")
    def course() -> str:
        launch = Blendkit.current_launch()
        assert launch is not None
        assert launch.context is not None
        return PAGE.format(launch.context.title, launch.user.sub)

    return app


def starlette_app() -> Any:
    """The same tool on the Starlette adapter (uvicorn --factory)."""
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, RedirectResponse, Response
    from starlette.routing import Route

    from blendkit.integrations.starlette import Blendkit, create_app
    from blendkit.lti import Launch

    bk = Blendkit()

    @bk.on_launch
    async def launched(request: Request, launch: Launch, launch_id: str) -> Response:
        return RedirectResponse(f"/course?launch={launch_id}", status_code=302)

    async def course(request: Request) -> Response:
        launch = await bk.current_launch(request)
        assert launch.context is not None
        return HTMLResponse(PAGE.format(launch.context.title, launch.user.sub))

    return create_app(bk, routes=[Route("/course", course)])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(db_url: str, factory: str, interface: str, workers: int) -> tuple[Any, int]:
    port = _free_port()
    env = dict(
        os.environ,
        BLENDKIT_DATABASE_URL=db_url,
        BLENDKIT_TOOL_BASE_URL=f"http://127.0.0.1:{port}",
        BLENDKIT_TOOL_SECRET_KEY="bench-secret",
        BLENDKIT_TOOL_KEY_ENCRYPTION_KEYS=f'["{ENCRYPTION_KEY}"]',
        BLENDKIT_HTTP_ALLOWED_HOSTS='["127.0.0.1"]',
        PYTHONPATH=os.pathsep.join([str(BENCHMARKS), str(ROOT)]),
    )
    uvicorn = Path(sys.executable).with_name("uvicorn")
    command = [str(uvicorn), "--factory", f"bench_asgi_launches:{factory}", "--interface",
               interface, "--workers", str(workers), "--host", "127.0.0.1", "--port", str(port),
               "--log-level", "warning", "--no-access-log"]  # fmt: skip
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/lti/jwks", timeout=1).status_code == 200:
                return process, port
        except httpx.HTTPError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit(f"uvicorn ({factory}) did not answer within 30 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--launches", type=int, default=200, help="launches per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    args = parser.parse_args()
    platform = Platform()
    servers: dict[str, tuple[Any, int]] = {}
    drops = []
    results: dict[str, list[dict[str, float]]] = {"starlette": [], "flask": []}
    try:
        for name, interface in (("starlette", "asgi3"), ("flask", "wsgi")):
            db_url, drop = _database()  # one database each: neither sees the other's rows
            drops.append(drop)
            _prepare(db_url, platform)
            servers[name] = _start(db_url, f"{name}_app", interface, args.workers)
        for process, port in servers.values():  # warm-up: imports, pools, JWKS cache
            _round(port, platform, min(30, args.launches), args.concurrency, process.pid)
        for _ in range(args.rounds):
            for name, (process, port) in servers.items():
                results[name].append(
                    _round(port, platform, args.launches, args.concurrency, process.pid)
                )
    finally:
        for process, _port in servers.values():
            process.terminate()
            process.wait(timeout=15)
        platform.server.shutdown()
        for drop in drops:
            if drop:
                drop()
    median = {
        name: {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
        for name, rounds in results.items()
    }
    common = {"server": "uvicorn", "workers": args.workers, "concurrency": args.concurrency,
              "launches_per_round": args.launches, "rounds": args.rounds,
              "backend": "postgresql" if drops[0] else "sqlite"}  # fmt: skip
    starlette, flask = median["starlette"], median["flask"]
    ratio = starlette["launches_per_s"] / flask["launches_per_s"]
    print(json.dumps({"figure": "starlette_launches_per_s_vs_flask",
                      "median": round(starlette["launches_per_s"], 1), "peer": "flask_adapter",
                      "peer_median": round(flask["launches_per_s"], 1),
                      "ratio_vs_peer": round(ratio, 3),
                      **common}))  # fmt: skip
    for key in ("p50_ms", "p99_ms", "server_cpu_ms_per_launch"):
        print(json.dumps({"figure": f"starlette_{key}", "median": round(starlette[key], 2),
                          "peer": "flask_adapter", "peer_median": round(flask[key], 2),
                          **common}))  # fmt: skip


if __name__ == "__main__":
    main()
