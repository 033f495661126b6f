"""Webhook endpoints: meeting providers tell the tool that meetings ended or recordings are
ready; attendance and recordings are then imported into the course records.

``/webhooks/zoom`` (secret ``BLENDKIT_ZOOM_WEBHOOK_SECRET``), ``/webhooks/teams`` (client state
``BLENDKIT_TEAMS_CLIENT_STATE``) and ``/webhooks/fake`` (the demo provider) pass the raw request
to the provider plugin, which verifies it; each event is processed once across processes.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, request
from flask.typing import ResponseReturnValue

from blendkit import NotFound, PluginError
from blendkit.sessions import (
    MeetingProvider,
    WebhookRequest,
    handle_webhook_once,
    load_meeting_provider,
)
from examples.flask_app.app import services

bp = Blueprint("webhooks", __name__)


def _provider(name: str) -> MeetingProvider:
    svc = services()
    if svc.provider.name == name:
        return svc.provider
    if name not in svc.webhook_providers:
        try:
            svc.webhook_providers[name] = load_meeting_provider(svc.settings, name)
        except PluginError as exc:
            raise NotFound(
                f"no {name} webhook here: {exc.message}", code="app.webhook_provider_missing"
            ) from None
    return svc.webhook_providers[name]


@bp.route("/webhooks/<name>", methods=["GET", "POST"])
def receive(name: str) -> ResponseReturnValue:
    if name not in ("zoom", "teams", "fake"):
        raise NotFound(f"no webhook endpoint for {name!r}; use /webhooks/zoom or /webhooks/teams")
    provider = _provider(name)
    incoming = WebhookRequest(
        method=request.method,
        path=request.path,
        headers=dict(request.headers.items()),
        query=request.args.to_dict(flat=True),
        body=request.get_data(cache=False),
        received_at=datetime.now(UTC),
    )
    svc = services()
    result = handle_webhook_once(provider, incoming, svc.ledger)
    try:
        svc.live.handle_events(result.events)
    except Exception:
        # Not processed: forget the events so the provider's retry (after our 5xx) is handled.
        for event in result.events:
            svc.ledger.forget(provider.name, event.event_id)
        raise
    answer = result.response
    return Response(answer.body, status=answer.status, headers=answer.headers)
