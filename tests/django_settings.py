"""Django configured once per test process (Django settings cannot be configured twice).

``configure_django(**extra)`` is idempotent: the first call configures and runs
``django.setup()``; a later call checks that what it asks for is already there (apps it needs
are installed, the same values are set) and raises otherwise, naming the difference.
"""

from __future__ import annotations

from typing import Any

BASE_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "blendkit.integrations.django",
]
BASE_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "blendkit.integrations.django.middleware.BlendkitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]


def configure_django(**extra: Any) -> None:
    """Configure Django for the tests (``INSTALLED_APPS`` extras are appended to the base list;
    every other keyword is a setting)."""
    import django
    from django.conf import settings

    apps = [*BASE_APPS, *(a for a in extra.pop("INSTALLED_APPS", []) if a not in BASE_APPS)]
    if settings.configured:
        missing = [a for a in apps if a not in settings.INSTALLED_APPS]
        different = [k for k, v in extra.items() if getattr(settings, k, object()) != v]
        if missing or different:
            raise RuntimeError(
                "Django is already configured in this test process without "
                f"apps {missing} / with other values for {different}"
            )
        return
    values: dict[str, Any] = {
        "DEBUG": False,
        "SECRET_KEY": "django-tests-only",
        "ALLOWED_HOSTS": ["127.0.0.1", "localhost", "testserver", "tool.test"],
        "INSTALLED_APPS": apps,
        "MIDDLEWARE": BASE_MIDDLEWARE,
        "ROOT_URLCONF": "tests.integrations.django.urls",
        "DATABASES": {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        "USE_TZ": True,
        "DEFAULT_AUTO_FIELD": "django.db.models.AutoField",
        # Open edX's LTI consumer (lti_consumer.lti_1p3) reads PLATFORM_NAME and keeps the
        # launch data between the OIDC login and the launch in Django's cache.
        "PLATFORM_NAME": "Open edX conformance",
        "CACHES": {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        # edx-django-utils' monitoring: no telemetry backend in tests (the default names New Relic).
        "OPENEDX_TELEMETRY": [],
    }
    values.update(extra)
    settings.configure(**values)
    django.setup()
