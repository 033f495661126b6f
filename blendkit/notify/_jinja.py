"""The Jinja2 environments and gettext catalogs behind :func:`blendkit.notify.render_message`.

Imported only when a message is rendered (Jinja2 and Babel come with the ``notify`` extra).
Catalogs are ``.po`` files shipped in ``blendkit/notify/locale/<lang>/LC_MESSAGES/``, compiled in
memory with Babel the first time a language is used: no compiled ``.mo`` file is kept in the
source tree or needed at build time. ``messages.pot`` is the template a translator starts from.
"""

from __future__ import annotations

import functools
from io import BytesIO
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

__all__ = ["DEFAULT_LOCALE", "LOCALE_DIR", "TEMPLATE_DIR", "available_locales", "environment"]

HERE = Path(__file__).resolve().parent
TEMPLATE_DIR = HERE / "templates"
LOCALE_DIR = HERE / "locale"
DEFAULT_LOCALE = "en"
DOMAIN = "messages"


def available_locales() -> list[str]:
    """The languages a catalog ships for, sorted."""
    return sorted(p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def supported(locale: str) -> str:
    """``locale`` if a catalog ships for it, else its language, else English."""
    shipped = available_locales()
    for candidate in (locale.replace("-", "_"), locale.replace("-", "_").split("_")[0]):
        if candidate in shipped:
            return candidate
    return DEFAULT_LOCALE


@functools.cache
def _translations(locale: str) -> Translations:
    with (LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as po:
        catalog = read_po(po, locale=locale, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def _filters(locale: str) -> dict[str, Any]:
    try:
        babel_locale = Locale.parse(locale)
    except (UnknownLocaleError, ValueError):
        babel_locale = Locale.parse(DEFAULT_LOCALE)

    def when(moment: Any, zone: str) -> str:
        """A moment as the reader says it, in their zone: the date in full, the time short."""
        from blendkit.notify._contexts import local

        shown = local(moment, zone)
        return (
            f"{format_date(shown, 'full', locale=babel_locale)}, "
            f"{format_time(shown, 'short', locale=babel_locale)} ({zone})"
        )

    def day(value: Any) -> str:
        return format_date(value, "full", locale=babel_locale)

    def clock(moment: Any, zone: str) -> str:
        from blendkit.notify._contexts import local

        shown = local(moment, zone)
        return (
            f"{format_date(shown, 'medium', locale=babel_locale)}, "
            f"{format_time(shown, 'short', locale=babel_locale)}"
        )

    return {"when": when, "day": day, "clock": clock}


@functools.cache
def environment(locale: str, html: bool) -> Environment:
    """The environment for ``locale`` (a shipped one) and the text or HTML templates; HTML
    escapes every value (``autoescape``), text escapes nothing."""
    # Text bodies are plain text, never HTML: escaping there would show "&lt;" to the reader.
    escape = select_autoescape(enabled_extensions=("html",), default=False) if html else False
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=escape,  # noqa: S701 (HTML templates escape; text is not HTML)
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(_translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(_filters(locale))
    return env
