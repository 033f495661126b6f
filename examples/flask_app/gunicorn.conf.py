"""gunicorn settings for the example tool: ``gunicorn -c examples/flask_app/gunicorn.conf.py
blendkit_examples.flask_app.wsgi:app``.

The access log goes through blendkit's redacting logger: launch ids, registration invitations
and OAuth/OIDC values in query strings, Referer or Location headers are written as
``[redacted]`` (see docs/operations/production.md). Command-line options still win, e.g.
``--workers`` or ``--bind``.

Metrics (``[metrics] token`` set): every worker writes its samples into
``PROMETHEUS_MULTIPROC_DIR`` (an empty directory, created and emptied before gunicorn starts, set
in gunicorn's environment so it is there before any worker imports ``prometheus_client``), and
``child_exit`` below drops a dead worker's live samples. ``/healthz`` and ``/readyz`` are for the
load balancer; ``[tool] log_format = "json"`` makes gunicorn's own lines JSON too.
"""

import os
from typing import Any

logger_class = "blendkit.integrations.gunicorn.RedactingGunicornLogger"
accesslog = "-"
bind = "127.0.0.1:8000"
workers = 4
forwarded_allow_ips = "127.0.0.1"


def child_exit(server: Any, worker: Any) -> None:
    """A worker ended: its multi-process metric files stop counting as live."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
