"""WSGI entry point: ``gunicorn tool_project.wsgi`` (from examples/django_app)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tool_project.settings")
application = get_wsgi_application()
