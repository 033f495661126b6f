"""A small Django project hosting the plugin app the way the LMS does (for running the example
without Open edX): the plugin's ``plugin_settings`` is applied at the end, as edx-platform's
``add_plugins`` would."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from blendkit_openedx.settings import common

HERE = Path(__file__).resolve().parent.parent

DEBUG = os.environ.get("DJANGO_DEBUG", "") == "1"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-only-change-me")
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "blendkit_openedx",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "tool_project.urls"
WSGI_APPLICATION = "tool_project.wsgi.application"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": HERE / "django.sqlite3"}}
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Django refuses bodies above this when a view reads them; blendkit's middleware caps the declared
# length per route first ([tool] max_request_bytes / max_webhook_bytes): keep them in step.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1_048_576

# blendkit's settings: the TOML sections as a dict (BLENDKIT_* environment variables win).
BLENDKIT = {
    "tool": {"base_url": "http://127.0.0.1:8000/blendkit", "title": "blendkit example"},
    "database": {"url": f"sqlite:///{HERE / 'blendkit.sqlite3'}"},
}

common.plugin_settings(sys.modules[__name__])
