"""WSGI entry point for production servers: ``gunicorn examples.flask_app.wsgi:app``.

Settings come from the TOML file named by ``BLENDKIT_CONFIG`` and ``BLENDKIT_*`` variables; each
worker process builds its own app (and its own connection pool) on the shared database.
"""

from __future__ import annotations

from examples.flask_app import create_app

app = create_app()
