"""gunicorn settings for the example tool: ``gunicorn -c examples/flask_app/gunicorn.conf.py
examples.flask_app.wsgi:app``.

The access log goes through blendkit's redacting logger: launch ids, registration invitations
and OAuth/OIDC values in query strings, Referer or Location headers are written as
``[redacted]`` (see docs/operations/production.md). Command-line options still win, e.g.
``--workers`` or ``--bind``.
"""

logger_class = "blendkit.integrations.gunicorn.RedactingGunicornLogger"
accesslog = "-"
bind = "127.0.0.1:8000"
workers = 4
forwarded_allow_ips = "127.0.0.1"
