"""WSGI entry point for production servers:
``gunicorn -c examples/flask_app/gunicorn.conf.py examples.flask_app.wsgi:app`` (the config
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

from examples.flask_app import create_app

app = create_app()
gc.collect()
gc.freeze()
