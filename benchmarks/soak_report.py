"""What the soak benchmark prints: one line per window while it runs, the counts at the end."""

from __future__ import annotations

import json
import statistics
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from soak_load import Load
from soak_stack import Stack

PAGE_KINDS = ("page",)


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(1000 * values[min(len(values) - 1, int(len(values) * q))], 1)


def _loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


class Windows:
    """Aggregates the load's records per window of ``seconds``; ``lines`` keeps every window."""

    def __init__(self, stack: Stack, load: Load, seconds: float) -> None:
        self.stack, self.load, self.seconds = stack, load, seconds
        self.lines: list[dict[str, Any]] = []
        self.labels: set[str] = set()
        self.active: set[str] = set()
        self.requests_seen = self.flows_seen = 0
        self.carry_requests: list[Any] = []
        self.carry_flows: list[Any] = []
        self.rss_first: dict[str, int] = {}
        self.rss_last: dict[str, int] = {}

    def begin(self, t0: float) -> None:
        self.cpu = self.stack.cpu_seconds()
        self.t0 = self.start = t0
        self.wall = datetime.now(UTC)
        self.since = self.wall

    def note(self, label: str) -> None:
        """An event in this window; an outage (``lrs down``, ``connection limit``) also labels
        every later window until it ends (``lrs up``, ``limit lifted``)."""
        self.labels.add(label)
        ends = {"lrs up": "lrs down", "limit lifted": "connection limit"}
        if label in ends.values():
            self.active.add(label)
        self.active.discard(ends.get(label, ""))

    def outbox(self, since: datetime) -> dict[str, Any]:
        row = self.stack.db.rows(
            "SELECT count(*) FILTER (WHERE delivered_at >= :since), "
            "count(*) FILTER (WHERE status = 'pending'), "
            "extract(epoch FROM now() - min(created_at) FILTER (WHERE status = 'pending')), "
            "count(*) FILTER (WHERE status = 'delivered') FROM xapi_outbox",
            since=since,
        )[0]
        return {
            "delivered": row[0],
            "pending": row[1],
            "oldest_pending_s": round(row[2] or 0),
            "delivered_rows": row[3],
        }

    def tick(self, now: float, final: bool = False) -> None:
        """Close the window when its time is up (windows end on multiples of ``seconds``)."""
        if now < self.start + self.seconds and not (final and now - self.start > 1):
            return
        if not final:
            now = self.start + self.seconds
        fresh, self.carry_requests = self._split(self.load.record.requests, "requests", now)
        flows, self.carry_flows = self._split(self.load.record.flows, "flows", now)
        span = now - self.start
        wall = datetime.now(UTC)
        outbox = self.outbox(self.since)
        statuses = Counter(s for _, _, s, _ in fresh if not s.startswith(("2", "3")))
        pages = [lat for _, kind, s, lat in fresh if kind in PAGE_KINDS and s == "200"]
        forms = [lat for _, kind, s, lat in fresh if kind == "form" and s == "200"]
        launches = [lat for _, kind, s, lat in fresh if kind == "launch" and s == "302"]
        ok = sum(1 for _, outcome in flows if outcome == "ok")
        rss = self.stack.rss_kib()
        cpu = self.stack.cpu_seconds()
        used = {role: sum(t - self.cpu.get(role, {}).get(pid, 0.0) for pid, t in now_.items())
                for role, now_ in cpu.items()}  # fmt: skip
        self.cpu = cpu
        if not self.rss_first:
            self.rss_first = rss
        self.rss_last = rss
        line = {
            "t": round(self.start - self.t0),
            "s": round(span, 1),
            "faults": sorted(self.labels) or ["-"],
            "flows_per_s": round(ok / span, 2),
            "flows_failed": len(flows) - ok,
            "in_flight": self.load.in_flight(),
            "requests_per_s": round(len(fresh) / span, 1),
            "page_p50_ms": _quantile(pages, 0.5),
            "page_p99_ms": _quantile(pages, 0.99),
            "form_p99_ms": _quantile(forms, 0.99),
            "launch_p99_ms": _quantile(launches, 0.99),
            "errors": dict(statuses),
            "delivered_per_s": round(outbox["delivered"] / span, 1),
            "pending": outbox["pending"],
            "oldest_pending_s": outbox["oldest_pending_s"],
            "cpu_ms_per_s": {k: round(1000 * v / span) for k, v in used.items()},
            "rss_mib": {k: round(v / 1024) for k, v in rss.items()},
            "loadavg": _loadavg(),
        }
        self.lines.append(line)
        print(json.dumps(line), flush=True)
        self.start, self.since = now, wall
        self.labels = set(self.active)

    def _split(self, records: list[Any], name: str, end: float) -> tuple[list[Any], list[Any]]:
        """Records completed before ``end`` (with those carried over), and those after it."""
        seen = getattr(self, f"{name}_seen")
        new = records[seen:]
        setattr(self, f"{name}_seen", seen + len(new))
        pool = getattr(self, f"carry_{name}") + new
        return [r for r in pool if r[0] < end], [r for r in pool if r[0] >= end]

    def drain(self, seconds: float) -> dict[str, Any]:
        """Wait until nothing is pending (the deliverer caught up) or ``seconds`` passed."""
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            self.stack.supervise()
            pending = self.outbox(self.since)["pending"]
            if pending == 0:
                break
            time.sleep(2)
        waited = round(time.monotonic() - started, 1)
        left = self.outbox(self.since)["pending"]
        print(json.dumps({"drain_seconds": waited, "pending_left": left}), flush=True)
        return {"drain_seconds": waited, "pending_left": left}


def growth_phase(stack: Stack, rows: int, window: float) -> Iterator[str]:
    """Labels for ``--grow-delivered``: two windows with an empty outbox, then ``rows`` old
    delivered rows are added (VACUUM ANALYZE) for two windows, then removed again, and so on."""
    from bench_outbox_growth import grow

    from blendkit.store import Store

    store = Store(stack.db.admin.url.render_as_string(False))
    started = time.monotonic()
    phase, worker = 0, None

    def change(add: bool) -> None:
        if add:
            grow(store, rows)
            return
        stack.db.scalar(
            "WITH gone AS (DELETE FROM xapi_outbox WHERE created_at < now() - interval '1 day' "
            "RETURNING 1) UPDATE xapi_outbox_totals SET value = value - (SELECT count(*) FROM gone)"
            " WHERE name = 'delivered' RETURNING value"
        )
        stack.db.execute("VACUUM ANALYZE xapi_outbox")

    while True:
        current = int((time.monotonic() - started) // (2 * window))
        if current != phase:
            phase = current
            worker = threading.Thread(target=change, args=(phase % 2 == 1,), daemon=True)
            worker.start()
        if worker is not None and worker.is_alive():
            yield "outbox changing"
        else:
            yield f"outbox +{rows} delivered" if phase % 2 else "outbox empty"


def consistency(
    stack: Stack,
    load: Load,
    windows: Windows,
    events: list[tuple[float, str, str]],
    drained: dict[str, Any],
) -> dict[str, Any]:
    """Statements by id at the LRS, scores against submissions, processes, RSS."""
    since = load_start = stack.db.scalar("SELECT min(created_at) FROM lti_launches")
    rows = stack.db.rows(
        "SELECT statement_id, status, attempts, created_at, delivered_at FROM xapi_outbox "
        "WHERE created_at >= :since",
        since=since or datetime(2000, 1, 1, tzinfo=UTC),
    )
    emitted = {r[0]: r for r in rows}
    started = time.monotonic()
    stored = stack.ralph.stored_ids()
    query_seconds = round(time.monotonic() - started, 1)
    invalid = stack.ralph.stats()["invalid"]
    stack.ralph.stop()  # its POST counts are complete once it has stopped
    posted = stack.ralph.posted
    stored_set = set(stored)
    resent = sorted(i for i in emitted if posted[i] > 1)
    log = (stack.logs / "deliverer.log").read_text(errors="replace").splitlines()
    notes = [
        line[:300]
        for line in log
        if "once more" in line or "did not record" in line or "late, none re-sent" in line
    ]
    scores = dict(
        stack.db.rows("SELECT sub, count(*) FROM course_evidence WHERE kind = 'score' GROUP BY sub")
    )
    keyed = dict(
        stack.db.rows("SELECT sub, count(*) FROM course_requests WHERE kind = 'quiz' GROUP BY sub")
    )
    sent_keys = confirmed = doubled = missing = 0
    for sub, keys in load.record.quiz_keys.items():
        sent_keys += len(keys)
        confirmed += sum(1 for _, ok, _ in keys if ok)
        have = scores.get(sub, 0)
        doubled += max(0, have - len(keys))
        missing += max(0, sum(1 for _, ok, _ in keys if ok) - have)
    flows = Counter(outcome for _, outcome in load.record.flows)
    return {
        "statements": {
            "emitted": len(emitted),
            "delivered_in_outbox": sum(1 for r in rows if r[1] == "delivered"),
            "not_delivered": sum(1 for r in rows if r[1] != "delivered"),
            "dead_letters": stack.db.scalar("SELECT count(*) FROM xapi_dead_letters"),
            "stored_at_lrs": len(stored),
            "stored_distinct": len(stored_set),
            "lost": len(set(emitted) - stored_set),
            "stored_not_emitted": len(stored_set - set(emitted)),
            "posted_once": sum(1 for i in emitted if posted[i] == 1),
            "posted_more_than_once": len(resent),
            "never_counted_at_lrs": sum(1 for i in emitted if posted[i] == 0),
            "lrs_posts": stack.ralph.posts,
            "lrs_query_seconds": query_seconds,
            "resent": [
                {
                    "id": i,
                    "posts": posted[i],
                    "attempts": emitted[i][2],
                    "created": str(emitted[i][3]),
                    "delivered": str(emitted[i][4]),
                }
                for i in resent
            ],
            "deliverer_log_notes": notes,
            "invalid_at_lrs": invalid[:5],
        },
        "quiz": {
            "learners": len(load.record.quiz_keys),
            "submissions_sent": sent_keys,
            "submissions_confirmed": confirmed,
            "scores_recorded": sum(scores.get(s, 0) for s in load.record.quiz_keys),
            "keyed_requests_recorded": sum(keyed.get(s, 0) for s in load.record.quiz_keys),
            "doubled": doubled,
            "missing": missing,
            "deliberate_resends": load.record.resends,
            "resend_answer_differed": len(load.record.resend_mismatches),
        },
        "flows": {
            "started": load.started,
            "outcomes": dict(flows.most_common(8)),
            "started_late": load.record.started_late,
        },
        "processes": {
            "unexpected_exits": stack.unexpected,
            "deliverer_starts": stack.deliverer_starts,
            "gunicorn_master_alive": stack.gunicorn is not None and stack.gunicorn.poll() is None,
            "workers_now": len(stack.worker_pids()),
        },
        # first window -> last window (a worker or deliverer killed on purpose is a new process)
        "rss_mib": {
            k: [round(v / 1024), round(windows.rss_last.get(k, 0) / 1024)]
            for k, v in windows.rss_first.items()
        },
        "drain": drained,
        "events": events,
        "load_start": str(load_start),
    }


def print_consistency(counts: dict[str, Any]) -> None:
    for section in ("statements", "quiz", "flows", "processes", "rss_mib", "drain", "summary"):
        print(json.dumps({section: counts[section]}, default=str), flush=True)


def _cpu_per_flow(line: dict[str, Any]) -> float | None:
    flows = line["flows_per_s"]
    cpu = line.get("cpu_ms_per_s")
    return round(sum(cpu.values()) / flows, 1) if cpu and flows else None


def summary(lines: list[dict[str, Any]]) -> dict[str, Any]:
    """Windows with one condition each, side by side: the LRS outage against the clean windows
    just before it (per outage), and an outbox with delivered rows against an empty one."""
    found: dict[str, Any] = {}
    outages = []
    for i, line in enumerate(lines):
        if line["faults"] != ["lrs down"] or (i and lines[i - 1]["faults"] == ["lrs down"]):
            continue
        down = [w for w in lines[i : i + 2] if w["faults"] == ["lrs down"]]
        clean = [w for w in lines[max(0, i - 2) : i] if w["faults"] == ["-"]]
        if down and clean and all(w["page_p99_ms"] for w in down + clean):
            p99 = [statistics.mean(w["page_p99_ms"] for w in group) for group in (down, clean)]
            outages.append({"t": line["t"], "down_p99_ms": round(p99[0], 1),
                            "clean_p99_ms": round(p99[1], 1),
                            "ratio": round(p99[0] / p99[1], 2)})  # fmt: skip
    if outages:
        found["lrs_outage_vs_clean"] = outages
    phases: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        if len(line["faults"]) == 1 and line["faults"][0].startswith("outbox "):
            phases.setdefault(line["faults"][0], []).append(line)
    if len(phases) == 2:
        found["outbox_growth"] = {
            label: {
                "windows": len(group),
                "flows_per_s": statistics.median(w["flows_per_s"] for w in group),
                "delivered_per_s": statistics.median(w["delivered_per_s"] for w in group),
                "server_cpu_ms_per_flow": statistics.median(
                    c for w in group if (c := _cpu_per_flow(w)) is not None
                ),
            }
            for label, group in sorted(phases.items())
        }
        empty, grown = (found["outbox_growth"][k] for k in sorted(phases, key=len))
        found["outbox_growth"]["grown_vs_empty"] = {
            "flows_per_s": round(grown["flows_per_s"] / empty["flows_per_s"], 3),
            "server_cpu_per_flow": round(
                grown["server_cpu_ms_per_flow"] / empty["server_cpu_ms_per_flow"], 3
            ),
        }
    return found


if __name__ == "__main__":  # summarise a saved run: python soak_report.py run.json
    import sys

    print(json.dumps(summary(json.loads(Path(sys.argv[1]).read_text())["windows"]), indent=1))
