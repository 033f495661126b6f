"""What a notifier sends and what it answers: the sans-IO message model and the ``Notifier``
protocol that every channel (the built-in ``email`` and ``webhook``, or a plugin's) implements.

A :class:`Message` is complete in itself (recipient, subject, a text body that stands on its own,
an optional HTML body, attachments and a stable idempotency key); how it travels is the
notifier's business. Every send ends in one of three typed outcomes, so a queue can decide
without parsing text: :class:`Delivered`, :class:`RetryableFailure` (try again later, after the
server's ``retry_after`` when it gave one) or :class:`PermanentFailure` (a dead letter).
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

__all__ = [
    "Delivered",
    "Message",
    "MessageAttachment",
    "Notifier",
    "PermanentFailure",
    "Recipient",
    "RetryableFailure",
    "SendOutcome",
]

_Text = Annotated[str, StringConstraints(min_length=1, max_length=998)]
_HEADER_SAFE = r"^[^\r\n]*$"
_HeaderName = Annotated[str, StringConstraints(pattern=r"^(List|X)-[A-Za-z0-9-]{1,60}$")]
_HeaderValue = Annotated[str, StringConstraints(max_length=2000, pattern=_HEADER_SAFE)]


class Recipient(BaseModel):
    """Who receives a message: an address the channel understands (an e-mail address, a chat
    handle, a phone number) and, optionally, the name to greet them with."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    address: Annotated[str, StringConstraints(min_length=1, max_length=320, pattern=_HEADER_SAFE)]
    name: Annotated[str, StringConstraints(max_length=200, pattern=_HEADER_SAFE)] | None = None


class MessageAttachment(BaseModel):
    """A file sent with a message, e.g. an ``.ics`` invitation (``text/calendar``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    filename: Annotated[
        str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\r\n/\\\"]+$")
    ]
    content_type: Annotated[
        str, StringConstraints(pattern=r"^[a-z0-9.+-]+/[a-z0-9.+-]+(; ?[a-z-]+=[A-Za-z0-9-]+)*$")
    ]
    content: bytes = Field(max_length=10 * 1024 * 1024)


class Message(BaseModel):
    """One notification for one recipient, as every channel receives it.

    ``text`` is the whole message in plain text (read by text-only mail clients, chat channels
    and screen readers alike); ``html`` is an optional richer rendering of the same content.
    ``key`` is stable across retries of the same notification, so a channel or a receiver that
    deduplicates can recognise a repeat (e-mail uses it for the ``Message-ID``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    recipient: Recipient
    subject: Annotated[str, StringConstraints(min_length=1, max_length=250, pattern=_HEADER_SAFE)]
    text: Annotated[str, StringConstraints(min_length=1)]
    html: str | None = None
    attachments: tuple[MessageAttachment, ...] = ()
    key: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=_HEADER_SAFE)]
    headers: tuple[tuple[_HeaderName, _HeaderValue], ...] = ()
    """Extra headers for channels that have them (e-mail): ``List-*`` (e.g. RFC 8058's
    ``List-Unsubscribe`` and ``List-Unsubscribe-Post``) and ``X-*`` names only."""


class Delivered(BaseModel):
    """The channel's server accepted the message."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: ClassVar[Literal["delivered"]] = "delivered"
    detail: str = ""
    """What the server answered (an SMTP reply, an HTTP status), for the record."""


class RetryableFailure(BaseModel):
    """Not delivered this time; the same message may succeed later (a busy or unreachable
    server, a 4xx SMTP reply, an HTTP 429/5xx)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: ClassVar[Literal["retryable"]] = "retryable"
    reason: str
    """The server's reason (its reply or the transport failure), never a secret."""
    retry_after: float | None = Field(default=None, ge=0)
    """Seconds the server asked to wait, when it said (``Retry-After``)."""


class PermanentFailure(BaseModel):
    """Not delivered and sending it again will not help (a 5xx SMTP reply, an HTTP 4xx, a
    refused destination, a misconfiguration): a dead letter, with the reason."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: ClassVar[Literal["permanent"]] = "permanent"
    reason: str


SendOutcome = Delivered | RetryableFailure | PermanentFailure
"""What :meth:`Notifier.send` returns; it never raises for a delivery problem."""


@runtime_checkable
class Notifier(Protocol):
    """A notification channel. A plugin registers a factory ``factory(settings) -> Notifier`` in
    the entry-point group ``blendkit.notifiers`` (see :func:`blendkit.notify.load_notifier`).

    ``send`` does the I/O and reports every delivery problem as an outcome; it raises only for
    programming errors. It is called from worker threads, one message at a time per call.
    """

    name: str

    def send(self, message: Message) -> SendOutcome:
        """Deliver ``message`` once and say how it went."""
        ...
