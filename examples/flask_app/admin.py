"""Admin pages: platform registrations, meeting-provider and LRS settings, outbox status.

Tool administrators (``[tool] admins``) see and manage everything; an institution or system
administrator sees only the registration and deployment their launch came through, read-only.
Every rule is :class:`blendkit.lti.Administrator`'s: the routes only ask it.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request
from flask.typing import ResponseReturnValue
from pydantic import SecretStr, ValidationError

from blendkit import AlreadyExists, BlendkitError, Settings
from blendkit.integrations.flask import Blendkit
from blendkit.lti import Platform, RegistrationInvites, parse_lifetime
from blendkit.sessions import available_meeting_providers
from blendkit_examples.flask_app.app import services
from blendkit_examples.flask_app.pages import bad_request, link, require_admin

bp = Blueprint("admin", __name__)


def _is_set(value: object) -> str:
    return "set" if value else "not set"


def _tool_urls(base: str, registration_enabled: bool) -> dict[str, str]:
    urls = {
        "Login (OIDC initiation)": f"{base}/lti/login",
        "Launch (redirect URI)": f"{base}/lti/launch",
        "Public keys (JWKS)": f"{base}/lti/jwks",
        "Canvas developer key JSON": f"{base}/lti/canvas.json",
    }
    urls["Dynamic registration"] = (
        "a one-time link from `blendkit platform invite`"
        if registration_enabled
        else "switched off ([lti] registration_enabled)"
    )
    return urls


def _plugin_settings(settings: Settings, base: str) -> dict[str, dict[str, str]]:
    """Each installed plugin's settings section as the page shows it: secrets only as set or
    not, each key with its variable; a meeting provider's with its webhook URL."""
    providers = available_meeting_providers()
    shown: dict[str, dict[str, str]] = {}
    for name, section in sorted(settings.plugin_sections().items()):
        values = {}
        for key, value in section:
            label = f"{key} (BLENDKIT_{name.upper()}_{key.upper()})"
            hidden = isinstance(value, SecretStr)
            values[label] = _is_set(value) if hidden or value is None else str(value)
        if name in providers:
            values["webhook URL"] = f"{base}/webhooks/{name}"
        shown[name] = values
    return shown


@bp.get("/admin")
def overview() -> ResponseReturnValue:
    current, admin = require_admin()
    svc = services()
    settings = svc.settings
    base = settings.tool.base_url.rstrip("/")
    xapi = settings.xapi
    if not admin.tool_wide:
        own = current.launch
        return render_template(
            "admin.html",
            admin=admin,
            platforms=admin.visible(svc.registry.for_issuer(own.issuer)),
            tool_urls=_tool_urls(base, settings.lti.registration_enabled),
        )
    return render_template(
        "admin.html",
        admin=admin,
        platforms=svc.registry.list(),
        tool_urls=_tool_urls(base, settings.lti.registration_enabled),
        provider=settings.meeting_provider,
        installed=sorted(available_meeting_providers()),
        provider_settings=_plugin_settings(settings, base),
        lrs={
            "endpoint": xapi.endpoint or "none: statements are kept in the local store",
            "auth": xapi.auth,
            "username": xapi.username or "not set",
            "password": _is_set(xapi.password),
            "version": xapi.version,
            "batch size": str(xapi.batch_size),
        },
        outbox=svc.outbox.status(),
        dead=svc.outbox.dead_letters(limit=20),
        invites=RegistrationInvites(svc.store).active(),
        registration_enabled=settings.lti.registration_enabled,
    )


@bp.post("/admin/platforms")
def add_platform() -> ResponseReturnValue:
    _, admin = require_admin()
    admin.require_tool_wide("adding a registration")
    form = request.form
    deployment = form.get("deployment_id", "").strip()
    try:
        platform = Platform(
            issuer=form.get("issuer", "").strip(),
            client_id=form.get("client_id", "").strip(),
            deployment_ids=(deployment,) if deployment else (),
            auth_login_url=form.get("auth_login_url", "").strip(),
            auth_token_url=form.get("auth_token_url", "").strip(),
            jwks_url=form.get("jwks_url", "").strip(),
            name=form.get("name", "").strip(),
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'form'}: {e['msg']}" for e in exc.errors()
        )
        raise bad_request(f"the registration is incomplete or invalid: {problems}") from None
    admin.check_add(platform)
    try:
        services().registry.add(platform)
    except AlreadyExists as exc:
        raise bad_request(exc.message, exc.code) from None
    return redirect(link("admin.overview"))


@bp.post("/admin/platforms/remove")
def remove_platform() -> ResponseReturnValue:
    current, admin = require_admin()
    issuer, client_id = request.form.get("issuer", ""), request.form.get("client_id", "")
    admin.check_remove(issuer, client_id)
    if (issuer, client_id) == (current.launch.issuer, current.launch.client_id):
        raise bad_request(
            "this is the registration you launched through; remove it from another platform's "
            "launch or with `blendkit platform remove`"
        )
    services().registry.remove(issuer, client_id)
    return redirect(link("admin.overview"))


@bp.post("/admin/invites")
def mint_invite() -> ResponseReturnValue:
    _, admin = require_admin()
    form = request.form
    svc = services()
    minted = RegistrationInvites(svc.store).create(
        expires_in=parse_lifetime(form.get("expires", "1h")),
        by=admin,
        note=form.get("note", ""),
        host=form.get("host", "").strip() or None,
    )
    link_url = minted.url(Blendkit.state().tool_config.registration_url)
    return render_template(
        "admin_invite.html",
        admin=admin,
        invite=minted.invite,
        url=link_url,
        registration_enabled=svc.settings.lti.registration_enabled,
    )


@bp.post("/admin/invites/revoke")
def revoke_invite() -> ResponseReturnValue:
    _, admin = require_admin()
    try:
        invite_id = int(request.form.get("invite_id", ""))
    except ValueError:
        raise bad_request("invite_id must be a number") from None
    try:
        RegistrationInvites(services().store).revoke(invite_id, by=admin)
    except BlendkitError as exc:
        if exc.http_status == 403:
            raise
        raise bad_request(exc.message, exc.code) from None
    return redirect(link("admin.overview"))


@bp.post("/admin/outbox/retry")
def retry_dead() -> ResponseReturnValue:
    _, admin = require_admin()
    admin.require_tool_wide("sending refused statements again")
    services().outbox.retry_dead()
    return redirect(link("admin.overview"))
