"""Django is configured once per process: every test that needs Django calls
:func:`configure_django` first (tests that run Open edX's LTI consumer, the Django adapter).

The base settings hold only what Django-based test code needs without a database of its own:
the Open edX LTI consumer (``lti_consumer.lti_1p3``) reads ``PLATFORM_NAME`` and keeps the
launch data between the OIDC login and the launch in Django's cache.
"""

from __future__ import annotations

from typing import Any

BASE_SETTINGS: dict[str, Any] = {
    "PLATFORM_NAME": "Open edX conformance",
    "CACHES": {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
    "USE_TZ": True,
    # edx-django-utils' monitoring: no telemetry backend in tests (the default names New Relic).
    "OPENEDX_TELEMETRY": [],
}


def configure_django(**extra: Any) -> None:
    """``settings.configure(**BASE_SETTINGS, **extra)`` and ``django.setup()``, once.

    Later calls are no-ops when ``extra`` agrees with the settings in force, and raise
    ``RuntimeError`` when it asks for a different value (Django cannot be reconfigured).
    """
    import django
    from django.conf import settings

    if settings.configured:
        different = [k for k, v in extra.items() if getattr(settings, k, object()) != v]
        if different:
            raise RuntimeError(f"Django is already configured with other values for {different}")
        return
    settings.configure(**{**BASE_SETTINGS, **extra})
    django.setup()
