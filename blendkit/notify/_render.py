"""Rendering a :class:`~blendkit.notify.MessageContext` into a subject, a text body and an HTML
body, in the recipient's language (Jinja2 and Babel load here, on first use)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from blendkit.notify._contexts import MessageContext
from blendkit.notify._message import Message, MessageAttachment, Recipient

__all__ = ["RenderedMessage", "render_message"]


class RenderedMessage(BaseModel):
    """A rendered notification: ``text`` is complete on its own, ``html`` says the same."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject: str
    text: str
    html: str
    locale: str

    def to_message(
        self,
        recipient: Recipient,
        key: str,
        attachments: tuple[MessageAttachment, ...] = (),
    ) -> Message:
        """The :class:`~blendkit.notify.Message` a notifier sends."""
        return Message(
            recipient=recipient,
            subject=self.subject,
            text=self.text,
            html=self.html,
            attachments=attachments,
            key=key,
        )


def render_message(context: MessageContext, *, locale: str = "en") -> RenderedMessage:
    """Render ``context`` with its templates in ``locale`` (a language without a shipped
    catalog falls back to its base language, then English)."""
    try:
        from blendkit.notify import _jinja
    except ModuleNotFoundError as exc:  # the extra is missing: say which one
        raise ModuleNotFoundError(
            f"rendering notifications needs {exc.name!r}, which is not installed: "
            "pip install 'blendkit[notify]'",
            name=exc.name,
        ) from exc
    lang = _jinja.supported(locale)
    values = {name: getattr(context, name) for name in type(context).model_fields}
    text_template = _jinja.environment(lang, html=False).get_template(f"{context.template}.txt")
    module = text_template.make_module(values)
    subject = " ".join(str(getattr(module, "subject")).split())  # noqa: B009 (set by the template)
    html = _jinja.environment(lang, html=True).get_template(f"{context.template}.html")
    return RenderedMessage(
        subject=subject,
        text=str(module).strip() + "\n",
        html=html.render(values, subject=subject, lang=lang.replace("_", "-")),
        locale=lang,
    )
