"""WSGI entry point for production servers:
``gunicorn -c examples/flask_app/gunicorn.conf.py blendkit_examples.flask_app.wsgi:app`` (the config
names blendkit's access-log logger, which redacts launch ids and other credentials in URLs).

Settings come from the TOML file named by ``BLENDKIT_CONFIG`` and ``BLENDKIT_*`` variables; each
worker process builds its own app (and its own connection pool) on the shared database.

Everything built at start-up (the app, its templates, SQLAlchemy tables, pydantic schemas) lives
as long as the process, so it is moved out of the garbage collector's sight with
``gc.freeze()``: a full collection then scans only what requests create. Without it, each full
collection in a worker scanned every start-up object and stalled a request for about 120 ms on a
small machine.
"""

from __future__ import annotations

import gc

from blendkit import load_settings
from blendkit.operations import configure_logging
from blendkit_examples.flask_app import create_app

settings = load_settings()
# Every log line of the tool in the chosen format, "text" or "json" ([tool] log_format), set
# before the app exists so Flask adds no handler of its own.
configure_logging(settings.tool.log_format)
app = create_app(settings)
gc.collect()
gc.freeze()
