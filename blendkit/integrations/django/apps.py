"""The Django app config: ``INSTALLED_APPS += ["blendkit.integrations.django"]``.

Nothing happens at start-up beyond registering a system check and a settings-change receiver:
the runtime is built on first use, and the database is migrated by ``manage.py
blendkit_migrate`` (never at import or ``ready()`` time).
"""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks
from django.core.signals import setting_changed

__all__ = ["BlendkitConfig", "check_middleware"]

MIDDLEWARE_PATH = "blendkit.integrations.django.middleware.BlendkitMiddleware"


def check_middleware(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """``blendkit.W001``: the middleware is missing (no body cap, no ``request.lti_launch``,
    no JSON errors for host views); ``blendkit.W002``: it runs after the CSRF middleware (which
    reads a POST body before the cap is checked)."""
    middleware = list(getattr(settings, "MIDDLEWARE", None) or [])
    if MIDDLEWARE_PATH not in middleware:
        return [
            checks.Warning(
                f"{MIDDLEWARE_PATH} is not in MIDDLEWARE: request bodies are not capped and "
                "request.lti_launch is not set",
                hint=f"add {MIDDLEWARE_PATH!r} near the top of MIDDLEWARE",
                id="blendkit.W001",
            )
        ]
    csrf = "django.middleware.csrf.CsrfViewMiddleware"
    if csrf in middleware and middleware.index(csrf) < middleware.index(MIDDLEWARE_PATH):
        return [
            checks.Warning(
                f"{MIDDLEWARE_PATH} comes after {csrf}, which reads POST bodies first",
                hint=f"move {MIDDLEWARE_PATH!r} before {csrf!r}",
                id="blendkit.W002",
            )
        ]
    return []


class BlendkitConfig(AppConfig):
    """blendkit's LTI endpoints, operator endpoints and management commands for Django."""

    name = "blendkit.integrations.django"
    label = "blendkit"
    verbose_name = "blendkit (LTI 1.3)"
    default = True

    def ready(self) -> None:
        from blendkit.integrations.django._state import settings_changed

        checks.register(check_middleware)
        setting_changed.connect(settings_changed, dispatch_uid="blendkit.settings_changed")
        redact_request_logs()


def redact_request_logs() -> None:
    """Redact credentials (launch ids, invites, calendar feed tokens) from the lines Django's
    ``runserver`` (``django.server``) and its 4xx warnings (``django.request``: "Not Found:
    /calendar/<token>.ics") log, and from werkzeug's when it serves the project (idempotent)."""
    import logging

    from blendkit.integrations.access_log import RedactingLogFilter, install_werkzeug_redaction

    for name in ("django.server", "django.request"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingLogFilter) for f in logger.filters):
            logger.addFilter(RedactingLogFilter())
    install_werkzeug_redaction()
