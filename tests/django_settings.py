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

    A later call adds the settings of ``extra`` that are not set yet, and raises
    ``RuntimeError`` when it asks for another value of one that is (Django cannot be
    reconfigured, and its app registry is filled once).
    """
    import django
    from django.conf import settings

    if settings.configured:
        missing = object()
        different = [
            k for k, v in extra.items() if getattr(settings, k, missing) not in (v, missing)
        ]
        if different:
            raise RuntimeError(f"Django is already configured with other values for {different}")
        for name, value in extra.items():
            setattr(settings, name, value)
        return
    settings.configure(**{**BASE_SETTINGS, **extra})
    django.setup()
