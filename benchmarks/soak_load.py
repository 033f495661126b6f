"""Learner load for the soak benchmark: steady learner flows started at a fixed rate.

One flow is what a learner does in a short visit: the LTI launch (login initiation, the
platform's signed id_token posted to the tool, the course page), the pre-work video page, two
progress reports from the player (40 % then 95 %, which unlocks the quiz), the quiz page, one or
two quiz submissions (a third of the learners fail first) and the course page again. Every form
carries an idempotency key; a request that fails (connection refused or cut, 5xx, 503) is sent
again after a second with the same key, as a learner pressing the button again would, for up to
``patience`` seconds. A share of the quiz answers (``resend``) is sent twice on purpose: an answer
lost on the way back. Each request is recorded with its completion time, kind, status and
latency; each submission key with whether an answer confirmed it.
"""

from __future__ import annotations

import random
import re
import threading
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from bench_app_launches import CLIENT_ID, DEPLOYMENT, Platform

CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')
RIGHT = {"answer-q1": "1", "answer-q2": "1", "answer-q3": "0"}
WRONG = {"answer-q1": "0", "answer-q2": "0", "answer-q3": "1"}
RETRYABLE = {500, 502, 503, 504}


class FlowFailed(Exception):
    """A request kept failing for longer than the learner's patience, or answered 4xx."""


@dataclass
class Record:
    """Everything the load saw, appended from many threads (list.append is atomic)."""

    requests: list[tuple[float, str, str, float]] = field(default_factory=list)
    flows: list[tuple[float, str]] = field(default_factory=list)
    # learner -> [(idempotency key, confirmed by an answer, passed)]
    quiz_keys: dict[str, list[tuple[str, bool, bool]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    resends: int = 0
    resend_mismatches: list[str] = field(default_factory=list)
    started_late: int = 0


class Load:
    """Starts ``rate`` flows a second on a pool of ``threads`` until ``stop()``; with ``rate``
    0, each of the ``threads`` runs one flow after another (the tool's capacity)."""

    def __init__(self, base: str, platform: Platform, *, rate: float, threads: int,
                 patience: float = 90.0, resend: float = 0.1, seed: int = 18) -> None:  # fmt: skip
        self.base, self.platform, self.rate = base, platform, rate
        self.patience, self.resend = patience, resend
        self.record = Record()
        self.random = random.Random(seed)
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="learner")
        self.local = threading.local()
        self.stopping = threading.Event()
        self.aborting = threading.Event()  # Ctrl-C: in-flight flows give up at once
        self.started = 0
        self.threads = threads
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._schedule, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self, wait: bool = True) -> None:
        if not wait:
            self.aborting.set()
        self.stopping.set()
        self.thread.join()
        self.pool.shutdown(wait=wait, cancel_futures=not wait)

    def in_flight(self) -> int:
        return self.started - len(self.record.flows)

    def _next(self) -> tuple[int, bool, bool]:
        with self.lock:
            self.started += 1
            return self.started, self.random.random() < 1 / 3, self.random.random() < self.resend

    def _closed_loop(self) -> None:
        while not self.stopping.is_set():
            self._flow(*self._next())

    def _schedule(self) -> None:
        if self.rate <= 0:  # as fast as the tool answers: one learner after another per thread
            for _ in range(self.threads):
                self.pool.submit(self._closed_loop)
            return
        interval = 1.0 / self.rate
        due = time.monotonic()
        while not self.stopping.is_set():
            now = time.monotonic()
            if now < due:
                self.stopping.wait(due - now)
                continue
            if now - due > 1.0:
                self.record.started_late += 1
            self.pool.submit(self._flow, *self._next())
            due += interval

    # --- one learner --------------------------------------------------------------------------

    def _client(self) -> httpx.Client:
        client = getattr(self.local, "client", None)
        if client is None:
            client = self.local.client = httpx.Client(base_url=self.base, timeout=30.0)
        client.cookies.clear()
        return client

    def _flow(self, flow_id: int, fails_first: bool, resend: bool) -> None:
        try:
            self._visit(flow_id, fails_first, resend)
            outcome = "ok"
        except FlowFailed as exc:
            outcome = f"failed: {str(exc)[:120]}"
        except Exception as exc:  # the soak reports it rather than dying
            outcome = f"error: {type(exc).__name__}: {str(exc)[:120]}"
        self.record.flows.append((time.monotonic(), outcome))

    def _send(self, kind: str, method: str, target: str, ok: set[int], **kw: Any) -> httpx.Response:
        """Send until an answer in ``ok``; retry transport errors and 5xx after a second."""
        client = self._client() if kind == "login" else self.local.client
        deadline = time.monotonic() + self.patience
        while True:
            if self.aborting.is_set():
                raise FlowFailed("the soak was interrupted")
            started = time.monotonic()
            try:
                response = client.request(method, target, **kw)
                status = str(response.status_code)
            except httpx.TransportError as exc:
                response, status = None, type(exc).__name__
            now = time.monotonic()
            self.record.requests.append((now, kind, status, now - started))
            if response is not None and response.status_code in ok:
                return response
            if response is not None and response.status_code not in RETRYABLE:
                raise FlowFailed(f"{kind} {target.split('?', maxsplit=1)[0]} answered {status}")
            if now > deadline or (self.stopping.is_set() and kind == "login"):
                raise FlowFailed(f"{kind} still {status} after {self.patience:g} s")
            time.sleep(1.0)

    def _launch(self, sub: str) -> str:
        deadline = time.monotonic() + self.patience
        while True:
            query = urlencode({"iss": self.platform.issuer, "login_hint": sub,
                               "client_id": CLIENT_ID, "target_link_uri": f"{self.base}/lti/launch",
                               "lti_deployment_id": DEPLOYMENT})  # fmt: skip
            login = self._send("login", "GET", f"/lti/login?{query}", {302})
            found = parse_qs(urlsplit(login.headers["location"]).query)
            token = self.platform.id_token(nonce=found["nonce"][0], sub=sub, tool=self.base)
            form = {"id_token": token, "state": found["state"][0]}
            try:
                answer = self._send("launch", "POST", "/lti/launch", {302}, data=form)
            except FlowFailed:
                # a launch that failed may have used its state: log in again, as the LMS would
                if time.monotonic() > deadline:
                    raise
                continue
            return parse_qs(urlsplit(answer.headers["location"]).query)["launch"][0]

    def _visit(self, flow_id: int, fails_first: bool, resend: bool) -> None:
        sub = f"soak-learner-{flow_id}"
        launch = self._launch(sub)
        course = self._send("page", "GET", f"/course?launch={launch}", {200})
        match = CSRF.search(course.text)
        if match is None:
            raise FlowFailed("the course page carries no CSRF token")
        json_headers = {"X-Blendkit-Launch": launch, "X-CSRF-Token": match.group(1)}
        self._send("page", "GET", f"/item/prework-video?launch={launch}", {200})
        for percent in (40, 95):
            body = {"percent": percent, "position": percent * 0.4, "length": 40,
                    "idempotency_key": uuid.uuid4().hex}  # fmt: skip
            self._send("form", "POST", "/item/prework-video/progress", {200},
                       json=body, headers=json_headers)  # fmt: skip
        self._send("page", "GET", f"/item/readiness-quiz?launch={launch}", {200})
        for answers in (WRONG, RIGHT) if fails_first else (RIGHT,):
            key = uuid.uuid4().hex
            form = {"launch": launch, "csrf": match.group(1), "idempotency_key": key, **answers}
            self.record.quiz_keys[sub].append((key, False, answers is RIGHT))
            first = self._send("form", "POST", "/item/readiness-quiz/quiz", {200}, data=form)
            self.record.quiz_keys[sub][-1] = (key, True, answers is RIGHT)
            if resend:  # the answer was lost: the learner sends the same form again
                again = self._send("form", "POST", "/item/readiness-quiz/quiz", {200}, data=form)
                self.record.resends += 1
                if _verdict(again.text) != _verdict(first.text):
                    self.record.resend_mismatches.append(sub)
        self._send("page", "GET", f"/course?launch={launch}", {200})


def _verdict(page: str) -> str:
    return "not passed" if "Not passed yet" in page else "passed" if "Passed" in page else "?"
