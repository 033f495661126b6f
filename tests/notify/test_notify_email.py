"""The ``email`` notifier against a real SMTP server on loopback (aiosmtpd): plain, STARTTLS,
implicit TLS, AUTH, 4xx/5xx replies, an unreachable server and the address rules."""

from __future__ import annotations

import email
import email.policy
import logging
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blendkit.config import Settings
from blendkit.errors import ConfigError
from blendkit.notify import (
    Delivered,
    EmailNotifier,
    Message,
    MessageAttachment,
    PermanentFailure,
    Recipient,
    RetryableFailure,
    load_notifier,
)
from blendkit.notify._email import _by_code
from tests.notify.smtp_kit import (
    HOST,
    PASSWORD,
    USER,
    Recorder,
    free_port,
    self_signed,
    server_context,
    smtp_server,
)

ICS = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"


def message(key: str = "learner-7:session-3:v1:24h", **fields: Any) -> Message:
    values: dict[str, Any] = {
        "recipient": Recipient(address="ada@example.org", name="Ada Lovelace"),
        "subject": "Live session starts in 24 hours",
        "text": "Your session starts on 9 March at 18:00 (Europe/Paris).\nJoin: https://j/1",
        "html": "<p>Your session starts on <strong>9 March at 18:00</strong>.</p>",
        "attachments": (
            MessageAttachment(filename="session.ics", content_type="text/calendar", content=ICS),
        ),
        "key": key,
        **fields,
    }
    return Message(**values)


def settings(port: int, allowed: tuple[str, ...] = (HOST,), **email_: Any) -> Settings:
    section = {
        "host": HOST,
        "port": port,
        "security": "none",
        "from_address": "courses@example.org",
        "timeout_seconds": 5,
        **email_,
    }
    return Settings(http={"allowed_hosts": list(allowed)}, email=section)


def parsed(recorder: Recorder) -> email.message.EmailMessage:
    raw = recorder.envelopes[-1].original_content
    assert isinstance(raw, bytes)
    mail = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(mail, email.message.EmailMessage)
    return mail


def test_a_message_arrives_with_text_html_and_attachment() -> None:
    recorder = Recorder()
    with smtp_server(recorder) as port:
        outcome = EmailNotifier(settings(port)).send(message())
    assert isinstance(outcome, Delivered)
    envelope = recorder.envelopes[0]
    assert envelope.mail_from == "courses@example.org"
    assert envelope.rcpt_tos == ["ada@example.org"]
    mail = parsed(recorder)
    assert mail["Subject"] == "Live session starts in 24 hours"
    assert mail["To"] == "Ada Lovelace <ada@example.org>"
    text = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert text is not None
    assert html is not None
    assert "18:00 (Europe/Paris)" in text.get_content()
    assert "<strong>9 March at 18:00</strong>" in html.get_content()
    (ics,) = list(mail.iter_attachments())
    assert ics.get_filename() == "session.ics"
    assert ics.get_content_type() == "text/calendar"
    assert ics.get_content() == ICS.decode()


def test_the_message_id_follows_the_idempotency_key() -> None:
    recorder = Recorder()
    with smtp_server(recorder) as port:
        notifier = EmailNotifier(settings(port))
        for key in ("k-1", "k-1", "k-2"):
            assert isinstance(notifier.send(message(key=key)), Delivered)
    ids = [
        email.message_from_bytes(e.original_content)["Message-ID"]  # type: ignore[arg-type]
        for e in recorder.envelopes
    ]
    assert ids[0] == ids[1] != ids[2]
    assert ids[0].endswith("@example.org>")


def test_starttls_and_auth(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cert, key = self_signed(tmp_path)
    recorder = Recorder()
    caplog.set_level(logging.DEBUG)
    with smtp_server(
        recorder,
        tls_context=server_context(cert, key),
        require_starttls=True,
        authenticator=recorder.authenticate,
        auth_require_tls=True,
    ) as port:
        config = settings(
            port, security="starttls", username=USER, password=PASSWORD, ca_file=str(cert)
        )
        notifier = load_notifier("email", config)
        outcome = notifier.send(message())
        bad = settings(
            port, security="starttls", username=USER, password="wrong", ca_file=str(cert)
        )
        wrong = EmailNotifier(bad).send(message())
    assert isinstance(outcome, Delivered)
    assert recorder.logins == [USER]
    assert len(recorder.envelopes) == 1
    assert isinstance(wrong, PermanentFailure)
    assert wrong.reason.startswith("535")
    shown = caplog.text + repr(outcome) + repr(wrong) + repr(config) + repr(notifier.__dict__)
    assert PASSWORD not in shown


def test_implicit_tls(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    recorder = Recorder()
    with smtp_server(recorder, ssl_context=server_context(cert, key)) as port:
        outcome = EmailNotifier(settings(port, security="ssl", ca_file=str(cert))).send(message())
    assert isinstance(outcome, Delivered)
    assert len(recorder.envelopes) == 1


def test_an_untrusted_certificate_is_a_permanent_failure(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    recorder = Recorder()
    with smtp_server(recorder, tls_context=server_context(cert, key)) as port:
        outcome = EmailNotifier(settings(port, security="starttls")).send(message())
    assert isinstance(outcome, PermanentFailure)
    assert "ca_file" in outcome.reason
    assert recorder.envelopes == []


def test_starttls_is_never_skipped_when_the_server_lacks_it() -> None:
    recorder = Recorder()
    with smtp_server(recorder) as port:  # no tls_context: STARTTLS is not offered
        outcome = EmailNotifier(settings(port, security="starttls")).send(message())
    assert isinstance(outcome, PermanentFailure)
    assert "STARTTLS" in outcome.reason
    assert recorder.envelopes == []


@pytest.mark.parametrize(
    ("stage", "reply", "kind"),
    [
        ("data", "451 4.3.0 mail system busy, try later", RetryableFailure),
        ("data", "554 5.7.1 message rejected as spam", PermanentFailure),
        ("rcpt", "450 4.2.1 mailbox busy", RetryableFailure),
        ("rcpt", "550 5.1.1 no such user", PermanentFailure),
    ],
)
def test_smtp_replies_map_to_outcomes(stage: str, reply: str, kind: type[Any]) -> None:
    recorder = Recorder()
    setattr(recorder, "reply" if stage == "data" else "rcpt_reply", reply)
    with smtp_server(recorder) as port:
        outcome = EmailNotifier(settings(port)).send(message())
    assert isinstance(outcome, kind)
    assert outcome.reason == reply


def test_a_server_that_is_down_is_retryable() -> None:
    outcome = EmailNotifier(settings(free_port())).send(message())
    assert isinstance(outcome, RetryableFailure)
    assert "ConnectionRefused" in outcome.reason


def test_loopback_is_refused_unless_allowed() -> None:
    recorder = Recorder()
    with smtp_server(recorder) as port:
        outcome = EmailNotifier(settings(port, allowed=())).send(message())
    assert isinstance(outcome, PermanentFailure)
    assert "allowed_hosts" in outcome.reason
    assert recorder.envelopes == []


def test_a_name_resolving_to_a_private_address_is_refused() -> None:
    config = settings(25, allowed=(), host="relay.example.org", security="starttls")
    resolved: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        resolved.append(host)
        return ["93.184.215.14", "10.0.0.5"]

    outcome = EmailNotifier(config, resolver=resolver).send(message())
    assert resolved == ["relay.example.org"]
    assert isinstance(outcome, PermanentFailure)
    assert "not a public address" in outcome.reason


def test_plain_text_to_a_public_host_is_refused_in_production() -> None:
    config = settings(25, allowed=(), host="relay.example.org", security="none")
    outcome = EmailNotifier(config, resolver=lambda h, p: ["93.184.215.14"]).send(message())
    assert isinstance(outcome, PermanentFailure)
    assert "plain text" in outcome.reason


def test_missing_settings_name_the_keys() -> None:
    with pytest.raises(ConfigError, match=r"\[email\] needs host and from_address"):
        EmailNotifier(Settings())


@given(st.integers(min_value=400, max_value=499), st.text(max_size=50))
def test_every_4xx_reply_is_retryable(code: int, text: str) -> None:
    outcome = _by_code(code, text)
    assert isinstance(outcome, RetryableFailure)
    assert outcome.reason.startswith(str(code))


@given(st.integers(min_value=500, max_value=599), st.binary(max_size=50))
def test_every_5xx_reply_is_permanent(code: int, text: bytes) -> None:
    assert isinstance(_by_code(code, text), PermanentFailure)


def test_a_rendered_session_reminder_arrives_in_the_learners_local_time() -> None:
    from datetime import UTC, datetime

    from blendkit.notify import SessionStarting, render_message

    rendered = render_message(
        SessionStarting(
            recipient_name="Ada <Lovelace>",
            course_title="BIO101",
            session_title="Week 3 live session",
            starts=datetime(2027, 3, 15, 8, 30, tzinfo=UTC),
            time_zone="Asia/Kathmandu",  # UTC+5:45
            join_url="https://meet.example/j/123?tk=ada-only",
        )
    )
    ics = MessageAttachment(filename="session.ics", content_type="text/calendar", content=ICS)
    recorder = Recorder()
    with smtp_server(recorder) as port:
        outcome = EmailNotifier(settings(port)).send(
            rendered.to_message(Recipient(address="ada@example.org"), "ada:s3:v1:24h", (ics,))
        )
    assert isinstance(outcome, Delivered)
    mail = parsed(recorder)
    text = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert text is not None
    assert html is not None
    shown = text.get_content().replace("\u202f", " ")
    assert "Monday, March 15, 2027, 2:15 PM (Asia/Kathmandu)" in shown
    assert "https://meet.example/j/123?tk=ada-only" in shown
    assert "Hello Ada <Lovelace>," in shown
    assert "Hello Ada &lt;Lovelace&gt;," in html.get_content()
    assert [a.get_filename() for a in mail.iter_attachments()] == ["session.ics"]


@pytest.mark.parametrize(
    "address",
    ["ada@example.org, eve@evil.example", "Ada <ada@example.org>", "ada", "ada@example.org>"],
)
def test_a_recipient_is_exactly_one_address(address: str) -> None:
    recorder = Recorder()
    with smtp_server(recorder) as port:
        bad = message().model_copy(update={"recipient": Recipient(address=address)})
        outcome = EmailNotifier(settings(port)).send(bad)
    assert outcome == PermanentFailure(reason="the recipient is not one e-mail address")
    assert recorder.envelopes == []
