"""The built-in ``email`` notifier: SMTP with STARTTLS (or implicit TLS) and AUTH, through the
standard library's :mod:`smtplib`, behind the same outbound rules as HTTP.

The SMTP host is resolved first and every address judged by the ``[http]`` policy (private,
loopback and link-local addresses only when ``[http] allowed_hosts`` lists the host or its
network); the connection then goes to one of the judged addresses, never to a second DNS
answer. In production the connection is encrypted (``security = "starttls"`` or ``"ssl"``)
unless the host is allowed explicitly; a server that does not offer STARTTLS when asked is a
permanent failure, never a fallback to plain text. The password is a ``SecretStr`` and appears in
no log line and no outcome.
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
import socket
import ssl
from collections.abc import Sequence
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr

from blendkit._fence_checks import Resolver, system_resolver
from blendkit._fence_rules import OutboundPolicy, _ip_literal, normalise_host
from blendkit.config import Settings, SettingsSection
from blendkit.errors import NotifierConfigError
from blendkit.notify._message import (
    Delivered,
    Message,
    PermanentFailure,
    RetryableFailure,
    SendOutcome,
)

__all__ = ["EmailNotifier", "EmailSettings"]

_log = logging.getLogger("blendkit.notify.email")


class EmailSettings(SettingsSection):
    """``[email]``: the SMTP server notifications are submitted to."""

    host: str | None = Field(default=None, description="The SMTP submission server.")
    port: int = Field(default=587, ge=1, le=65535, description="587 (STARTTLS) or 465 (ssl).")
    security: Literal["starttls", "ssl", "none"] = Field(
        default="starttls",
        description="starttls: upgrade after EHLO (required when asked); ssl: TLS from the first "
        "byte; none: plain text, refused in production unless the host is in [http] "
        "allowed_hosts.",
    )
    username: str | None = None
    password: SecretStr | None = None
    from_address: str | None = Field(default=None, description="The envelope and From address.")
    from_name: str = "blendkit"
    timeout_seconds: float = Field(default=20.0, gt=0, le=300)
    ca_file: Path | None = Field(
        default=None, description="CA bundle for a server whose certificate a private CA signed."
    )

    @classmethod
    def of(cls, settings: Settings) -> EmailSettings:
        """The ``[email]`` section of ``settings``."""
        return settings.plugin("email", cls)


class _PinnedSMTP(smtplib.SMTP):
    """SMTP connecting only to addresses judged beforehand (the name is kept for TLS)."""

    pinned: Sequence[str] = ()

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        last: OSError = OSError(f"{host} has no usable address")
        for address in self.pinned:
            try:
                return socket.create_connection((address, port), timeout, self.source_address)
            except OSError as exc:
                last = exc
        raise last


class _PinnedSMTPSSL(smtplib.SMTP_SSL, _PinnedSMTP):
    """Implicit TLS over a pinned connection (``SMTP_SSL`` wraps what ``_PinnedSMTP`` opens)."""


def _reply(code: int, text: bytes | str) -> str:
    shown = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(shown.split())}"[:500]


def _by_code(code: int, text: bytes | str) -> SendOutcome:
    """4xx replies are temporary (try again later), everything else is final (RFC 5321 §4.2.1)."""
    reason = _reply(code, text)
    if 400 <= code < 500:
        return RetryableFailure(reason=reason)
    return PermanentFailure(reason=reason)


class EmailNotifier:
    """Sends each :class:`~blendkit.notify.Message` as one MIME e-mail (text, HTML alternative,
    attachments) over a fresh SMTP connection. ``resolver`` is injectable for tests."""

    name = "email"

    def __init__(self, settings: Settings, *, resolver: Resolver = system_resolver) -> None:
        email = EmailSettings.of(settings)
        if not email.host or not email.from_address:
            raise NotifierConfigError(
                "[email] needs host and from_address to send notifications (e.g. host = "
                '"smtp.example.org", from_address = "courses@example.org")'
            )
        self.settings = email
        self._host = normalise_host(email.host)
        http = settings.http
        self._policy = OutboundPolicy.allowing(http.allowed_hosts)
        self._production = settings.tool.production
        self._resolver = resolver

    # --- the destination ----------------------------------------------------------------------

    def _addresses(self) -> list[str] | PermanentFailure:
        """The judged addresses of the SMTP host, or why none may be used."""
        host = self._host
        literal = _ip_literal(host)
        allowed = host in self._policy.allowed_hosts or (
            literal is not None and any(literal in n for n in self._policy.allowed_networks)
        )
        if self.settings.security == "none" and self._production and not allowed:
            return PermanentFailure(
                reason=f"[email] security = none sends mail and passwords to {host} in plain "
                "text; use starttls or ssl, or add the host to [http] allowed_hosts"
            )
        if literal is not None:
            found = [str(literal)]
        else:
            try:
                found = list(self._resolver(host, self.settings.port))
            except OSError:
                found = []
            if not found:
                raise _Unreachable(f"the SMTP host {host} does not resolve")
        for text in found:
            address = _ip_literal(text)
            if not allowed and (address is None or not self._policy.address_allowed(address)):
                _log.warning("SMTP connection refused: %s resolves to %s", host, text)
                return PermanentFailure(
                    reason=f"the SMTP host {host} is not a public address (private, loopback, "
                    "link-local or reserved); to use a relay on a private network, add it to "
                    "[http] allowed_hosts"
                )
        return found

    def _tls(self) -> ssl.SSLContext:
        ca = self.settings.ca_file
        return ssl.create_default_context(cafile=str(ca) if ca is not None else None)

    def _connect(self, addresses: list[str]) -> smtplib.SMTP:
        s = self.settings
        smtp: _PinnedSMTP
        if s.security == "ssl":
            smtp = _PinnedSMTPSSL(timeout=s.timeout_seconds, context=self._tls())
        else:
            smtp = _PinnedSMTP(timeout=s.timeout_seconds)
        smtp.pinned = addresses
        smtp._host = self._host  # type: ignore[attr-defined]  # the name TLS checks, set by __init__ only
        try:
            smtp.connect(self._host, s.port)
            smtp.ehlo()
            if s.security == "starttls":
                smtp.starttls(context=self._tls())
                smtp.ehlo()
            if s.username:
                password = s.password.get_secret_value() if s.password is not None else ""
                _login(smtp, s.username, password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    # --- the message --------------------------------------------------------------------------

    def build(self, message: Message) -> EmailMessage:
        """The MIME message for ``message`` (exposed so its shape can be inspected)."""
        s = self.settings
        assert s.from_address is not None
        mail = EmailMessage()
        mail["From"] = formataddr((s.from_name, s.from_address))
        mail["To"] = formataddr((message.recipient.name or "", message.recipient.address))
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(localtime=False, usegmt=True)
        digest = hashlib.sha256(message.key.encode()).hexdigest()[:40]
        mail["Message-ID"] = f"<{digest}@{s.from_address.rpartition('@')[2] or 'blendkit'}>"
        mail["Auto-Submitted"] = "auto-generated"
        for name, value in message.headers:
            mail[name] = value
        mail.set_content(message.text)
        if message.html is not None:
            mail.add_alternative(message.html, subtype="html")
        for item in message.attachments:
            kind, _, params = item.content_type.partition(";")
            maintype, _, subtype = kind.partition("/")
            extra: dict[str, Any] = {}
            for param in filter(None, (p.strip() for p in params.split(";"))):
                key, _, value = param.partition("=")
                extra[key] = value
            mail.add_attachment(
                item.content, maintype, subtype, filename=item.filename, params=extra
            )
        return mail

    def send(self, message: Message) -> SendOutcome:
        """Submit ``message``; 4xx replies and unreachable servers are retryable, 5xx final."""
        recipient = message.recipient.address
        if not _single_address(recipient):
            return PermanentFailure(reason="the recipient is not one e-mail address")
        try:
            addresses = self._addresses()
            if isinstance(addresses, PermanentFailure):
                return addresses
            smtp = self._connect(addresses)
            try:
                refused = smtp.send_message(
                    self.build(message), from_addr=self.settings.from_address, to_addrs=[recipient]
                )
            finally:
                _quit(smtp)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()), (550, b"recipient refused"))
            return _by_code(code, text)
        except smtplib.SMTPResponseException as exc:
            return _by_code(exc.smtp_code, exc.smtp_error)
        except smtplib.SMTPNotSupportedError as exc:
            return PermanentFailure(
                reason=f"the SMTP server {self._host} lacks what [email] requires: {exc}"
            )
        except ssl.SSLCertVerificationError as exc:
            return PermanentFailure(
                reason=f"the SMTP server {self._host}'s certificate is not trusted "
                f"({exc.verify_message}); set [email] ca_file for a private CA"
            )
        except (_Unreachable, smtplib.SMTPException, OSError) as exc:
            return RetryableFailure(reason=f"{self._host}: {type(exc).__name__}: {exc}"[:500])
        if refused:
            code, text = next(iter(refused.values()))
            return _by_code(code, text)
        return Delivered(detail=f"accepted by {self._host}")


def _single_address(text: str) -> bool:
    """True for exactly one ``local@domain`` address: never a list that adds recipients."""
    try:
        address = Address(addr_spec=text)
    except (ValueError, IndexError, HeaderParseError):
        return False
    return bool(address.username and address.domain) and address.addr_spec == text


def _login(smtp: smtplib.SMTP, user: str, password: str) -> None:
    """One AUTH attempt with PLAIN (or LOGIN): unlike ``SMTP.login`` no round of further
    mechanisms after a refusal, so a wrong password is one clear 535."""
    if not smtp.has_extn("auth"):
        raise smtplib.SMTPNotSupportedError("the SMTP AUTH extension is not offered")
    offered = smtp.esmtp_features["auth"].upper().split()
    mechanism = next((m for m in ("PLAIN", "LOGIN") if m in offered), None)
    if mechanism is None:
        raise smtplib.SMTPNotSupportedError("neither AUTH PLAIN nor AUTH LOGIN is offered")
    smtp.user, smtp.password = user, password
    smtp.auth(mechanism, smtp.auth_plain if mechanism == "PLAIN" else smtp.auth_login)


class _Unreachable(Exception):
    """The SMTP host has no address now (DNS may answer later)."""


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()
