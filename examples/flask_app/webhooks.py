"""Webhook endpoints: meeting providers tell the tool that meetings ended or recordings are
ready; attendance and recordings are then imported into the course records.

``/webhooks/zoom`` (secret ``BLENDKIT_ZOOM_WEBHOOK_SECRET``), ``/webhooks/teams`` (client state
``BLENDKIT_TEAMS_CLIENT_STATE``), ``/webhooks/meet`` (Pub/Sub pushes whose OIDC token carries
``BLENDKIT_MEET_PUSH_AUDIENCE``) and ``/webhooks/fake`` (the demo provider) pass the raw request
to the provider plugin, which verifies it; each event is processed once across processes.

Only configured providers are routed: the ``meeting_provider`` in use, and Zoom, Teams or Meet
when their webhook secret (for Meet: the push audience) is set, so meetings created before a
switch of provider still report. Every other name answers 404 before anything reads the body.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, request
from flask.typing import ResponseReturnValue

from blendkit import BlendkitError, NotFound, PluginError
from blendkit.operations import record_outcome
from blendkit.sessions import (
    MeetingProvider,
    WebhookRequest,
    handle_webhook_once,
    load_meeting_provider,
)
from blendkit_examples.flask_app.app import services

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


def _routed(name: str) -> bool:
    """True for the configured provider, and for Zoom, Teams or Meet with their webhook secret
    (Meet: push audience) set."""
    svc = services()
    if name == svc.provider.name:
        return True
    # The vendor's section names the secret its deliveries are signed with.
    secret_key = {"zoom": "webhook_secret", "teams": "client_state", "meet": "push_audience"}.get(
        name
    )
    section = svc.settings.plugin_sections().get(name)
    return secret_key is not None and getattr(section, secret_key, None) is not None


@bp.route("/webhooks/<name>", methods=["GET", "POST"])
def receive(name: str) -> ResponseReturnValue:
    if not _routed(name):
        raise NotFound(
            f"no webhook endpoint for {name!r} here: only the configured meeting provider "
            "(meeting_provider) and Zoom, Teams or Meet with a webhook secret receive webhooks",
            code="app.webhook_not_configured",
        )
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
    try:
        result = handle_webhook_once(provider, incoming, svc.ledger)
    except BlendkitError:
        record_outcome("webhook", provider.name, "rejected")
        raise
    try:
        svc.live.handle_events(result.events)
    except Exception:
        # Not processed: forget the events so the provider's retry (after our 5xx) is handled.
        for event in result.events:
            svc.ledger.forget(provider.name, event.event_id)
        record_outcome("webhook", provider.name, "failed")
        raise
    answer = result.response
    record_outcome("webhook", provider.name, "accepted" if answer.status < 400 else "rejected")
    return Response(answer.body, status=answer.status, headers=answer.headers)
