"""A stand-in for edx-platform's settings and URL modules, run in its own process.

It assembles settings the way ``lms/envs/common.py`` does (``INSTALLED_APPS`` extended with
``get_plugin_apps``; ``add_plugins`` runs each plugin's ``plugin_settings``) and URLs the way
``lms/urls.py`` does (``get_plugin_url_patterns``), all through edx-django-utils and the
``lms.djangoapp`` entry points of installed distributions. It prints one JSON line of findings.

Usage: ``python openedx_host.py <site-dir with the example's dist-info> <example dir>``
"""

from __future__ import annotations

import json
import sys
import types

PROJECT = "lms.djangoapp"  # edx-platform: ProjectType.LMS
SETTINGS_TYPE = "production"  # edx-platform: SettingsType.PRODUCTION


def _only_the_example_plugin() -> None:
    """Load only the example's ``lms.djangoapp`` plugin: other installed Open edX plugins
    (``lti-consumer-xblock``, which the conformance suite installs, registers one) need the
    LMS's own settings and models, which this stand-in host does not have."""
    from importlib.metadata import entry_points

    from edx_django_utils.plugins.plugin_manager import PluginManager

    ours = {
        ep.name
        for ep in entry_points(group=PROJECT)
        if ep.dist is not None and ep.dist.name == "blendkit-openedx-example"
    }
    every = PluginManager.get_available_plugins

    def example_only(namespace: str | None = None) -> dict[str, object]:
        return {k: v for k, v in every(namespace).items() if k in ours}

    PluginManager.get_available_plugins = example_only  # type: ignore[method-assign,assignment]


def main(site_dir: str, example_dir: str) -> None:
    sys.path[:0] = [site_dir, example_dir]
    import django
    from django.conf import settings
    from edx_django_utils.plugins import add_plugins, get_plugin_apps, get_plugin_url_patterns

    _only_the_example_plugin()

    envs = types.ModuleType("fake_lms_envs")
    envs.INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth"]  # type: ignore[attr-defined]
    envs.MIDDLEWARE = [  # type: ignore[attr-defined]
        "django.middleware.security.SecurityMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
    ]
    envs.ENV_TOKENS = {  # type: ignore[attr-defined]
        "BLENDKIT": {
            "tool": {"base_url": "http://lms.test/blendkit"},
            "database": {"url": "sqlite://"},
        }
    }
    sys.modules["fake_lms_envs"] = envs
    plugin_apps = get_plugin_apps(PROJECT)
    envs.INSTALLED_APPS.extend(plugin_apps)  # type: ignore[attr-defined]
    add_plugins("fake_lms_envs", PROJECT, SETTINGS_TYPE)

    urls = types.ModuleType("fake_lms_urls")
    sys.modules["fake_lms_urls"] = urls
    names = ("INSTALLED_APPS", "MIDDLEWARE", "BLENDKIT", "BLENDKIT_LAUNCH_HANDLER")
    settings.configure(
        **{name: getattr(envs, name) for name in names},
        ROOT_URLCONF="fake_lms_urls",
        SECRET_KEY="openedx-host-test",
        ALLOWED_HOSTS=["lms.test"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    )
    django.setup()
    urls.urlpatterns = get_plugin_url_patterns(PROJECT)  # type: ignore[attr-defined]

    from django.core import checks
    from django.test import Client
    from django.urls import reverse

    from blendkit.integrations.django import install_runtime, settings_from_django

    install_runtime(settings=settings_from_django(), migrate=True)
    client = Client(HTTP_HOST="lms.test")
    canvas = client.get("/blendkit/lti/canvas.json").json()
    findings = {
        "plugin_apps": plugin_apps,
        "installed_apps": list(settings.INSTALLED_APPS),
        "middleware": list(settings.MIDDLEWARE),
        "launch_handler": settings.BLENDKIT_LAUNCH_HANDLER,
        "launch_url": reverse("blendkit_openedx:blendkit:launch"),
        "course_url": reverse("blendkit_openedx:course"),
        "jwks_status": client.get("/blendkit/lti/jwks").status_code,
        "canvas_login": canvas["oidc_initiation_url"],
        "course_without_launch": client.get("/blendkit/course").status_code,
        "checks": [m.id for m in checks.run_checks()],
    }
    print(json.dumps(findings))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
