"""gunicorn settings for the example tool: ``gunicorn -c examples/flask_app/gunicorn.conf.py
blendkit_examples.flask_app.wsgi:app``.

The access log goes through blendkit's redacting logger: launch ids, registration invitations
and OAuth/OIDC values in query strings, Referer or Location headers are written as
``[redacted]`` (see docs/operations/production.md). Command-line options still win, e.g.
``--workers`` or ``--bind``.

Metrics (``[metrics] token`` or ``bind`` set): every worker writes its samples into
``PROMETHEUS_MULTIPROC_DIR`` (an empty directory, created and emptied before gunicorn starts, set
in gunicorn's environment so it is there before any worker imports ``prometheus_client``), and
``child_exit`` below drops a dead worker's live samples. With ``[metrics] bind`` the master
serves them on that address (``when_ready``), and the public port has no ``/metrics``.
``/healthz`` and ``/readyz`` are for the load balancer; ``[tool] log_format = "json"`` makes
gunicorn's own lines JSON too.

``when_ready`` migrates the database once, in the master, before any worker is forked (workers
never race to create the schema); drop it if you migrate only with ``blendkit db upgrade``.
"""

import os
from typing import Any

logger_class = "blendkit.integrations.gunicorn.RedactingGunicornLogger"
accesslog = "-"
bind = "127.0.0.1:8000"
workers = 4
forwarded_allow_ips = "127.0.0.1"


def when_ready(server: Any) -> None:
    """The master is listening and no worker exists yet: bring the schema up to date once, and
    serve /metrics on [metrics] bind (the workers' samples added up) when it is set."""
    from blendkit.integrations.gunicorn import migrate_before_workers, serve_metrics_before_workers

    migrate_before_workers(server)
    serve_metrics_before_workers(server)


def child_exit(server: Any, worker: Any) -> None:
    """A worker ended: its multi-process metric files stop counting as live."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
