"""Finding 10: launch ids (valid 8 h) travelled in URLs and so landed in access logs.

A launch id is a bearer credential for the page it names. Now the access logs of gunicorn (the
logger class the example's gunicorn config names) and of werkzeug's development server redact
every sensitive query parameter, launches live an hour by default (``[lti]
launch_session_seconds``), forms carry the launch in a hidden field rather than in their action
URL, and every answer says ``Referrer-Policy: no-referrer``.
"""

from __future__ import annotations

import logging
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.serving import make_server

from blendkit import Settings
from blendkit.integrations.access_log import (
    SENSITIVE_QUERY_PARAMETERS,
    redact_query_parameters,
)
from blendkit.integrations.flask import Blendkit
from blendkit.lti import Launch, LaunchContext, MessageType, ResourceLink, UserIdentity
from blendkit.sessions import FakeMeetingProvider

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
SECRETS = {
    "launch": "LAUNCHxSECRETx0001",
    "invite": "INVITExSECRETx0002",
    "registration_token": "REGTOKxSECRETx0003",
    "id_token": "IDTOKENxSECRETx0004",
    "state": "STATExSECRETx0005",
    "code": "CODExSECRETx0006",
    "token": "TOKENxSECRETx0007",
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


FEED_TOKEN = "Zq3bT0kenOfACalendarFeed_0123456789-abcdefg"  # the secret path of a feed


def test_a_calendar_feed_token_in_a_path_is_redacted_wherever_it_is_logged() -> None:
    for line in (
        f'"GET /calendar/{FEED_TOKEN}.ics HTTP/1.1" 200',
        f"Not Found: /calendar/{FEED_TOKEN}.ics",
        f"database unavailable on GET /calendar/{FEED_TOKEN}.ics?launch=x",
        f"\x1b[33mGET /calendar/{FEED_TOKEN}.ics HTTP/1.1\x1b[0m",
    ):
        redacted = redact_query_parameters(line)
        assert FEED_TOKEN not in redacted
        assert "/calendar/[redacted]" in redacted


def _query() -> str:
    return "&".join(f"{name}={value}" for name, value in SECRETS.items()) + "&page=2"


@pytest.mark.e2e
def test_gunicorn_access_log_never_shows_launch_ids(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = _free_port()
    access_log = tmp_path / "access.log"
    monkeypatch.setenv("BLENDKIT_TOOL_BASE_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("BLENDKIT_TOOL_SECRET_KEY", "gunicorn-test-secret-0123456789abcdef")
    monkeypatch.setenv("BLENDKIT_TOOL_KEY_ENCRYPTION_KEYS", f'["{Fernet.generate_key().decode()}"]')
    monkeypatch.setenv("BLENDKIT_DATABASE_URL", f"sqlite:///{tmp_path / 'tool.sqlite3'}")
    # Production: the schema is upgraded by command before the workers start (they never migrate).
    upgrade = [str(GUNICORN.with_name("blendkit")), "db", "upgrade"]
    subprocess.run(upgrade, cwd=ROOT, check=True, capture_output=True, timeout=120)
    process = subprocess.Popen(
        [
            str(GUNICORN),
            "--config", str(ROOT / "examples" / "flask_app" / "gunicorn.conf.py"),
            "--bind", f"127.0.0.1:{port}",
            "--workers", "1",
            "--access-logfile", str(access_log),
            # gunicorn's default format plus atoms an operator might add
            "--access-logformat",
            '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" '
            "q=%(q)s loc=%({location}o)s hdr=%({x-blendkit-launch}i)s "
            "env=%({query_string}e)s",
            "blendkit_examples.flask_app.wsgi:app",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                httpx.get(f"{base}/lti/jwks", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        headers = {
            "Referer": f"{base}/item/x?launch={SECRETS['launch']}",
            "X-Blendkit-Launch": SECRETS["launch"],
        }
        for path in ("/course", "/", "/lti/register", "/no/such/page"):
            httpx.get(f"{base}{path}?{_query()}", headers=headers, timeout=5)
        httpx.get(f"{base}/calendar/{FEED_TOKEN}.ics", timeout=5)
        for _ in range(50):  # gunicorn writes the access log after answering
            if access_log.read_text().count("\n") >= 6:
                break
            time.sleep(0.1)
    finally:
        process.terminate()
        process.wait(timeout=30)
    logged = access_log.read_text()
    assert "/course?" in logged, logged
    assert "page=2" in logged, "harmless parameters stay readable"
    assert "launch=[redacted]" in logged
    assert "hdr=[redacted]" in logged
    assert "loc=/course?launch=[redacted]" in logged, "the redirect's Location too"
    for name, value in SECRETS.items():
        assert value not in logged, f"{name} leaked into the access log"
    assert FEED_TOKEN not in logged
    assert "/calendar/[redacted].ics" in logged


def test_werkzeug_development_server_log_is_redacted(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            httpx.get(f"http://127.0.0.1:{server.server_port}/course?{_query()}", timeout=5)
    finally:
        server.shutdown()
        thread.join(timeout=10)
    assert "/course?" in caplog.text
    for value in SECRETS.values():
        assert value not in caplog.text


def test_redaction_covers_every_spelling() -> None:
    line = (
        'GET /a?LAUNCH=x1&b=1;state=x2&launch=&launch=x3#frag HTTP/1.1 "https://h/?code=x4" '
        "/b?id_token=x5&invite=x6&token=x7&registration_token=x8&%6caunch=x9"
    )
    redacted = redact_query_parameters(line)
    for value in ("x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9"):
        assert f"={value}" not in redacted
    assert "b=1" in redacted
    coloured = redact_query_parameters("\x1b[31m\x1b[1mGET /c?launch=x10\x1b[0m")  # werkzeug
    assert coloured == "\x1b[31m\x1b[1mGET /c?launch=[redacted]\x1b[0m"


def _spelling(name: str, draw: st.DrawFn) -> str:
    """``name`` as a client might send it: any case, any letter percent-encoded."""
    out = []
    for char in name:
        how = draw(st.sampled_from(("lower", "upper", "percent")))
        if how == "percent":
            out.append(f"%{ord(char):02{draw(st.sampled_from('xX'))}}")
        else:
            out.append(char.upper() if how == "upper" else char)
    return "".join(out)


@st.composite
def _log_lines(draw: st.DrawFn) -> tuple[str, list[str], str]:
    """A log line with sensitive parameters (letters) among harmless ones (digits)."""
    names = draw(st.lists(st.sampled_from(sorted(SENSITIVE_QUERY_PARAMETERS)), min_size=1))
    # no "r": a value can never be the word in "[redacted]"
    secrets = [draw(st.text("abcdefghijklmnopqstuvwxyzABCDEF-_.~", min_size=8)) for _ in names]
    harmless = [f"p{i}={draw(st.integers(0, 10**9))}" for i in range(draw(st.integers(0, 3)))]
    pairs = [f"{_spelling(n, draw)}={v}" for n, v in zip(names, secrets, strict=True)]
    mixed = draw(st.permutations(pairs + harmless))
    separators = [draw(st.sampled_from("&;")) for _ in mixed]
    query = "".join(
        f"{sep if i else ''}{pair}"
        for i, (sep, pair) in enumerate(zip(separators, mixed, strict=True))
    )
    shape = draw(st.sampled_from(('"GET /course?{} HTTP/1.1" 200', "{}", '"https://lms/x?{}#top"')))
    return shape.format(query), secrets, "&".join(harmless)


@given(_log_lines())
def test_no_spelling_of_a_sensitive_parameter_survives(case: tuple[str, list[str], str]) -> None:
    line, secrets, harmless = case
    redacted = redact_query_parameters(line)
    for value in secrets:
        assert value not in redacted
    for pair in filter(None, harmless.split("&")):
        assert pair in redacted, "harmless parameters stay readable"


@given(st.text())
def test_lines_without_sensitive_parameters_are_unchanged(text: str) -> None:
    if "/calendar/" in text or "/unsubscribe/" in text:  # a token's path: redacted on purpose
        return
    if not any(name in text.lower() or "%" in text for name in SENSITIVE_QUERY_PARAMETERS):
        assert redact_query_parameters(text) == text


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    from blendkit_examples.flask_app import create_app

    settings = Settings(
        database={"url": f"sqlite:///{tmp_path / 'tool.sqlite3'}"},
        tool={"base_url": "http://tool.test", "secret_key": "test-secret-0123456789abcdef"},
        lti={"launch_session_seconds": 600},
    )
    app = create_app(settings, provider=FakeMeetingProvider(), migrate=True, TESTING=True)
    yield app
    Blendkit.state(app).store.dispose()


def _launch(app: Flask, *, roles: tuple[str, ...] = (LEARNER,), age: float = 0) -> str:
    launch = Launch(
        message_type=MessageType.RESOURCE_LINK,
        version="1.3.0",
        issuer="https://lms.example.edu",
        client_id="client-1",
        deployment_id="dep-1",
        user=UserIdentity(sub="ana" if LEARNER in roles else "rivera", name="A"),
        roles=roles,
        context=LaunchContext(id="bio-101", title="Biology"),
        resource_link=ResourceLink(id="rl-1"),
        target_link_uri="http://tool.test/lti/launch",
    )
    with app.app_context():
        sessions = Blendkit.state().launches
        clock = sessions.clock
        sessions.clock = lambda: clock() - age
        try:
            return sessions.save(launch)
        finally:
            sessions.clock = clock


def test_launch_lifetime_is_a_setting_with_a_short_default(app: Flask) -> None:
    assert Settings().lti.launch_session_seconds == 3600
    assert Blendkit.state(app).launches.ttl_seconds == 600
    client = app.test_client()
    fresh = _launch(app, age=590)
    assert client.get("/course", query_string={"launch": fresh}).status_code == 200
    stale = _launch(app, age=610)
    refused = client.get("/course", query_string={"launch": stale})
    assert refused.status_code == 401
    assert "lti.launch_session_expired" in refused.get_data(as_text=True)


def test_forms_carry_the_launch_in_a_hidden_field_not_in_the_url(app: Flask) -> None:
    client = app.test_client()
    learner = _launch(app)
    teacher = _launch(app, roles=(INSTRUCTOR,))
    pages = [("/course", learner), ("/teach", teacher), ("/teach/sessions", teacher)]
    course = client.get("/course", query_string={"launch": learner}).get_data(as_text=True)
    pages += [(f"/item/{i}", learner) for i in set(re.findall(r'href="/item/([\w-]+)', course))]
    pages += [("/teach/path", teacher), ("/teach/quizzes", teacher)]
    forms = 0
    for path, launch_id in pages:
        answer = client.get(path, query_string={"launch": launch_id})
        assert answer.status_code == 200, path
        assert answer.headers["Referrer-Policy"] == "no-referrer"
        html = answer.get_data(as_text=True)
        for form in re.findall(r"<form\b[^>]*>.*?</form>", html, flags=re.S):
            opening = form.split(">", 1)[0]
            assert launch_id not in opening, f"{path}: {opening}"
            assert "launch=" not in opening, f"{path}: {opening}"
            if 'method="post"' in opening:
                forms += 1
                assert f'name="launch" value="{launch_id}"' in form, f"{path}: {opening}"
    assert forms >= 5


def test_every_answer_says_no_referrer(app: Flask) -> None:
    client = app.test_client()
    for path in ("/lti/jwks", "/course", "/webhooks/nothing", "/lti/launch"):
        answer = client.get(path)
        assert answer.headers.get("Referrer-Policy") == "no-referrer", path
