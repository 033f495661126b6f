"""The processes of the soak benchmark (``benchmarks/soak.py``) and the faults it injects.

A database and a role of its own on the PostgreSQL server (dropped afterwards), the real ralph LRS
(``tests/xapi/ralph_server.py``, which counts every POST per statement id), the example app under
gunicorn with its configuration file, and ``blendkit outbox run`` restarted like a supervisor
would. Every child runs in its own session, so a Ctrl-C reaches only this script, which then
stops each child by its id.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from bench_app_launches import ENCRYPTION_KEY, Platform, _prepare
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.xapi.conftest import PASSWORD, USERNAME, Ralph  # noqa: E402 - after the path

METRICS_TOKEN = "soak-metrics-token"  # a loopback benchmark's token


def _pid_rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return 0
    return 0


def _pid_cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


class Database:
    """``blendkit_soak_<pid>``: a database owned by a role of the same name (not a superuser, so
    a role connection limit applies to it); ``admin`` is the superuser engine that watches it."""

    def __init__(self, base_url: str) -> None:
        self.name = f"blendkit_soak_{os.getpid()}"
        self.server = create_engine(base_url, isolation_level="AUTOCOMMIT")
        with self.server.connect() as conn:
            conn.execute(text(f'CREATE ROLE "{self.name}" LOGIN'))
            conn.execute(text(f'CREATE DATABASE "{self.name}" OWNER "{self.name}"'))
        base = make_url(base_url)
        self.url = base.set(database=self.name, username=self.name).render_as_string(False)
        admin_url = base.set(database=self.name).render_as_string(False)
        self.admin: Engine = create_engine(admin_url, isolation_level="AUTOCOMMIT", pool_size=2)

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.admin.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def execute(self, sql: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(sql))

    def rows(self, sql: str, **params: Any) -> list[Any]:
        with self.admin.connect() as conn:
            return list(conn.execute(text(sql), params))

    def terminate_app_connections(self, keep: tuple[int, ...] = (0,)) -> int:
        """``pg_terminate_backend`` for every connection of the app's role (web and deliverer),
        but those in ``keep`` (backend pids)."""
        return int(
            self.scalar(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE usename = :role AND pid <> pg_backend_pid() AND pid <> ALL(:keep)",
                role=self.name,
                keep=list(keep),
            )
        )

    def set_connection_limit(self, limit: int) -> None:
        with self.server.connect() as conn:
            conn.execute(text(f'ALTER ROLE "{self.name}" CONNECTION LIMIT {int(limit)}'))

    def drop(self) -> None:
        self.admin.dispose()
        with self.server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            conn.execute(text(f'DROP ROLE IF EXISTS "{self.name}"'))
        self.server.dispose()


class CountingRalph(Ralph):
    """ralph whose per-id POST counts survive its restarts: each process writes its counts to
    a file when it stops (``RALPH_POSTS_FILE``), read here after the stop."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.env["RALPH_RUNSERVER_MAX_SEARCH_HITS_COUNT"] = "2000"
        self.env["RALPH_POSTS_FILE"] = str(root / "posts-{pid}.json")
        self.posted: Counter[str] = Counter()
        self.posts = 0

    def stop(self) -> None:
        process = self.process
        super().stop()
        if process is None:
            return
        written = self.root / f"posts-{process.pid}.json"
        if written.exists():
            counts = json.loads(written.read_text())
            self.posted.update(counts["sent"])
            self.posts += int(counts["posts"])
            written.unlink()

    def stored_ids(self) -> list[str]:
        with self.client(timeout=300) as client:
            return [s["id"] for s in client.iter_statements(limit=2000)]


class Stack:
    """Database, ralph, gunicorn (2 workers by default) and one deliverer, all on loopback."""

    def __init__(self, base_url: str, workers: int, logs: Path | None = None) -> None:
        self.logs = logs or Path(tempfile.mkdtemp(prefix="blendkit-soak-"))
        self.workers = workers
        self.platform = Platform()
        self.db = Database(base_url)
        self.ralph = CountingRalph(self.logs / "ralph")
        self.gunicorn: subprocess.Popen[bytes] | None = None
        self.deliverer: subprocess.Popen[bytes] | None = None
        self.deliverer_starts = 0
        self.expected_exits: set[int] = set()
        self.unexpected: list[str] = []
        self.worker_pids_seen: set[int] = set()
        self.lock = threading.Lock()
        self.closing = False
        with socket_port() as port:
            self.port = port
        self.base = f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        metrics_dir = self.logs / "metrics"
        metrics_dir.mkdir(exist_ok=True)
        return dict(
            os.environ,
            BLENDKIT_DATABASE_URL=self.db.url,
            BLENDKIT_TOOL_BASE_URL=self.base,
            BLENDKIT_TOOL_SECRET_KEY="soak-secret",
            BLENDKIT_TOOL_KEY_ENCRYPTION_KEYS=f'["{ENCRYPTION_KEY}"]',
            BLENDKIT_HTTP_ALLOWED_HOSTS='["127.0.0.1"]',
            BLENDKIT_XAPI_ENDPOINT=self.ralph.endpoint,
            BLENDKIT_XAPI_USERNAME=USERNAME,
            BLENDKIT_XAPI_PASSWORD=PASSWORD,
            BLENDKIT_METRICS_TOKEN=METRICS_TOKEN,
            PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
            PYTHONPATH=str(ROOT),
        )

    def start(self) -> None:
        _prepare(self.db.url, self.platform)
        self.ralph.start()
        gunicorn = Path(sys.executable).with_name("gunicorn")
        command = [str(gunicorn), "-c", "examples/flask_app/gunicorn.conf.py",
                   "--workers", str(self.workers), "--bind", f"127.0.0.1:{self.port}",
                   "--access-logfile", str(self.logs / "access.log"),
                   # the server's own time per request (%(L)s, seconds) beside the client's
                   "--access-logformat", '%(t)s "%(r)s" %(s)s %(L)s',
                   "--error-logfile", str(self.logs / "gunicorn.log"),
                   "blendkit_examples.flask_app.wsgi:app"]  # fmt: skip
        self.gunicorn = subprocess.Popen(
            command, env=self.env(), cwd=ROOT, start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=open(self.logs / "app.log", "ab"),  # noqa: SIM115 - the tool's own lines
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            raise RuntimeError(f"gunicorn did not become ready; see {self.logs}/gunicorn.log")
        self.start_deliverer()

    def start_deliverer(self) -> None:
        with self.lock:
            if self.closing:  # a restart timer that fires during the cleanup starts nothing
                return
            blendkit = Path(sys.executable).with_name("blendkit")
            self.deliverer = subprocess.Popen(
                [str(blendkit), "outbox", "run"], env=self.env(), cwd=ROOT,
                start_new_session=True, stdout=subprocess.DEVNULL,
                stderr=open(self.logs / "deliverer.log", "ab"),  # noqa: SIM115 - child owns it
            )  # fmt: skip
            self.deliverer_starts += 1

    # --- what the monitor reads ---------------------------------------------------------------

    def worker_pids(self) -> list[int]:
        return children(self.gunicorn.pid) if self.gunicorn else []

    def rss_kib(self) -> dict[str, int]:
        found = {"gunicorn_master": _pid_rss_kib(self.gunicorn.pid) if self.gunicorn else 0}
        for n, pid in enumerate(sorted(self.worker_pids())):
            found[f"worker{n}"] = _pid_rss_kib(pid)
        if self.deliverer is not None:
            found["deliverer"] = _pid_rss_kib(self.deliverer.pid)
        if self.ralph.process is not None:
            found["ralph"] = _pid_rss_kib(self.ralph.process.pid)
        return found

    def cpu_seconds(self) -> dict[str, dict[int, float]]:
        """CPU time (user + system) so far of each process, by role: the gunicorn workers, the
        deliverer and the PostgreSQL backends serving the app's role."""
        backends = [r[0] for r in self.db.rows(
            "SELECT pid FROM pg_stat_activity WHERE usename = :role", role=self.db.name
        )]  # fmt: skip
        deliverer = [self.deliverer.pid] if self.deliverer is not None else []
        roles = {"workers": self.worker_pids(), "deliverer": deliverer, "postgres": backends}
        return {role: {pid: _pid_cpu_seconds(pid) for pid in pids} for role, pids in roles.items()}

    def supervise(self) -> None:
        """Called every second: record unexpected exits; restart a dead deliverer (systemd's
        Restart=always) and note gunicorn's worker replacements."""
        assert self.gunicorn is not None
        if self.gunicorn.poll() is not None:
            raise RuntimeError(f"gunicorn's master exited ({self.gunicorn.returncode})")
        current = set(self.worker_pids())
        for gone in self.worker_pids_seen - current:
            if gone not in self.expected_exits:
                self.unexpected.append(f"gunicorn worker {gone} exited")
        self.worker_pids_seen = current
        deliverer = self.deliverer
        if deliverer is not None and deliverer.poll() is not None:
            if deliverer.pid not in self.expected_exits:
                self.unexpected.append(f"deliverer {deliverer.pid} exited {deliverer.returncode}")
            self.start_deliverer()

    # --- faults ---------------------------------------------------------------------------------

    def kill_worker(self) -> str:
        pids = self.worker_pids()
        if not pids:
            return "no worker to kill"
        self.expected_exits.add(pids[0])
        os.kill(pids[0], signal.SIGKILL)
        return f"SIGKILL gunicorn worker {pids[0]}"

    def kill_deliverer(self, restart_after: float = 5.0) -> str:
        deliverer = self.deliverer
        assert deliverer is not None
        self.expected_exits.add(deliverer.pid)
        os.kill(deliverer.pid, signal.SIGKILL)
        deliverer.wait()
        self.deliverer = None  # the supervisor waits restart_after (systemd RestartSec)
        threading.Timer(restart_after, self.start_deliverer).start()
        return f"SIGKILL deliverer {deliverer.pid}, restarted after {restart_after:g} s"

    def stop_lrs(self) -> str:
        self.ralph.stop()
        return "ralph stopped"

    def start_lrs(self) -> str:
        self.ralph.start()
        return "ralph started"

    def terminate_connections(self) -> str:
        return f"pg_terminate_backend: {self.db.terminate_app_connections()} app connection(s)"

    def exhaust_connections(self, slots: int = 4) -> tuple[str, list[Any]]:
        """Fill the role's connection limit: ``slots`` connections held here, the limit lowered to
        them, and the app's own connections ended, so every reconnect is refused."""
        import psycopg

        dsn = make_url(self.db.url).set(drivername="postgresql").render_as_string(False)
        held = [psycopg.connect(dsn, autocommit=True) for _ in range(slots)]
        self.db.set_connection_limit(slots)
        ended = self.db.terminate_app_connections(tuple(c.info.backend_pid for c in held))
        return f"role limit {slots}, all held elsewhere; {ended} app connection(s) ended", held

    def release_connections(self, held: list[Any]) -> str:
        self.db.set_connection_limit(-1)
        for conn in held:
            conn.close()
        return "role connection limit lifted"

    # --- the end --------------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop every child (each by its id), then drop the database and the role; a step that
        fails is reported and the next one still runs."""
        for step in (self._stop_processes, self.ralph.stop, self.platform.server.shutdown,
                     self.db.drop):  # fmt: skip
            try:
                step()
            except Exception as exc:  # cleanup goes on; say what was left behind
                print(f"cleanup: {step.__name__} failed: {exc!r}", file=sys.stderr)

    def _stop_processes(self) -> None:
        with self.lock:
            self.closing = True
            deliverer, self.deliverer = self.deliverer, None
        for process in (deliverer, self.gunicorn):
            if process is None or process.poll() is not None:
                continue
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)  # the session this script started
                process.wait(5)
        if self.gunicorn is not None:
            for pid in children(self.gunicorn.pid):
                os.kill(pid, signal.SIGKILL)


class socket_port:  # a context manager, named like a function
    """A free loopback port chosen by the OS."""

    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return int(self.sock.getsockname()[1])

    def __exit__(self, *exc: object) -> None:
        self.sock.close()
