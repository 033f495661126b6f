"""``plugin_settings`` for every environment: install blendkit's Django app and middleware and
name this app's launch handler. The tool's own settings (``BLENDKIT``) come from the operator."""

from __future__ import annotations

from typing import Any

BLENDKIT_APP = "blendkit.integrations.django"
MIDDLEWARE = "blendkit.integrations.django.middleware.BlendkitMiddleware"
CSRF = "django.middleware.csrf.CsrfViewMiddleware"


def plugin_settings(settings: Any) -> None:
    """Called by edx-django-utils' ``add_plugins`` with the settings module being built."""
    if BLENDKIT_APP not in settings.INSTALLED_APPS:
        settings.INSTALLED_APPS.append(BLENDKIT_APP)
    middleware = settings.MIDDLEWARE
    if MIDDLEWARE not in middleware:
        # Before the CSRF middleware, which reads POST bodies: the cap must come first.
        at = middleware.index(CSRF) if CSRF in middleware else len(middleware)
        middleware.insert(at, MIDDLEWARE)
    settings.BLENDKIT_LAUNCH_HANDLER = "blendkit_openedx.views.launched"
    if not hasattr(settings, "BLENDKIT"):
        settings.BLENDKIT = {}
