"""``blendkit platform`` and ``blendkit keys``: LTI registrations and the tool's signing keys."""

from __future__ import annotations

import getpass
from collections.abc import Callable
from typing import TypeVar

import click
import orjson
from pydantic import ValidationError

from blendkit.cli._shared import handle_errors, open_store, settings
from blendkit.errors import ConfigError, RegistrationError
from blendkit.lti._admin import Administrator
from blendkit.lti._invites import RegistrationInvite, RegistrationInvites, parse_lifetime
from blendkit.lti._keys import KeySet
from blendkit.lti._platforms import Platform, StorePlatformRegistry, check_endpoint_url
from blendkit.lti._tool_config import ToolConfig
from blendkit.store import KeyEncryption, StoredSecrets

__all__ = ["commands"]

F = TypeVar("F", bound=Callable[..., object])


def _url(option: str) -> Callable[[F], F]:
    return click.option(
        f"--{option}",
        required=True,
        help=f"The platform's {option.replace('-', ' ')} (https; http only on localhost).",
    )


def _validated(**urls: str) -> None:
    for option, value in urls.items():
        check_endpoint_url(value, f"--{option.replace('_', '-')}")


def _platform_dict(platform: Platform) -> dict[str, object]:
    return platform.model_dump(mode="json")


@click.group()
def platform() -> None:
    """Register the LTI 1.3 platforms (issuer + client id) allowed to launch the tool."""


@platform.command("add")
@click.option(
    "--issuer", required=True, help="The platform's issuer (iss), exactly as it sends it."
)
@click.option("--client-id", required=True, help="The client id the platform gave the tool.")
@click.option(
    "--deployment-id",
    "deployment_ids",
    multiple=True,
    help="A deployment id allowed to launch (repeat for several).",
)
@_url("auth-login-url")
@_url("auth-token-url")
@_url("jwks-url")
@click.option("--name", default="", help="A label for people (e.g. 'Moodle production').")
@click.option(
    "--auth-audience", default=None, help="Audience of client assertions, if not the token URL."
)
@click.option(
    "--accept-new-deployments",
    is_flag=True,
    help="Record unknown deployment ids on their first signed launch (platforms that deploy "
    "after registering, e.g. Canvas) instead of refusing them.",
)
@click.option(
    "--service-host",
    "service_hosts",
    multiple=True,
    help="Pin the service URLs of launches (AGS, NRPS, deep-linking return) to this host or "
    "*.domain (repeat for several); without it any public https host is accepted.",
)
@handle_errors
def platform_add(
    *,
    issuer: str,
    client_id: str,
    deployment_ids: tuple[str, ...],
    auth_login_url: str,
    auth_token_url: str,
    jwks_url: str,
    name: str,
    auth_audience: str | None,
    accept_new_deployments: bool,
    service_hosts: tuple[str, ...],
) -> None:
    """Register a platform: launches from it are accepted for the given deployments."""
    _validated(
        issuer=issuer,
        auth_login_url=auth_login_url,
        auth_token_url=auth_token_url,
        jwks_url=jwks_url,
    )
    try:
        record = Platform(
            issuer=issuer,
            client_id=client_id,
            deployment_ids=deployment_ids,
            auth_login_url=auth_login_url,
            auth_token_url=auth_token_url,
            jwks_url=jwks_url,
            auth_audience=auth_audience,
            name=name,
            accept_new_deployments=accept_new_deployments,
            service_hosts=service_hosts,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(map(str, first["loc"])).replace("_", "-")
        raise RegistrationError(f"--{field}: {first['msg']}") from None
    StorePlatformRegistry(open_store()).add(record)
    click.echo(
        f"registered issuer {issuer} client_id {client_id} "
        f"({len(record.deployment_ids)} deployment(s))"
    )
    if not record.deployment_ids and not accept_new_deployments:
        click.echo(
            "note: no deployment id yet; launches are refused until you run "
            "`blendkit platform add-deployment`",
            err=True,
        )


@platform.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array instead of a table.")
@handle_errors
def platform_list(as_json: bool) -> None:
    """Show every registered platform."""
    platforms = StorePlatformRegistry(open_store()).list()
    if as_json:
        click.echo(orjson.dumps([_platform_dict(p) for p in platforms]).decode())
        return
    if not platforms:
        click.echo("no platform registered; add one with `blendkit platform add`")
        return
    for p in platforms:
        deployments = ", ".join(p.deployment_ids) or "(none)"
        if p.accept_new_deployments:
            deployments += " (new ones are recorded on their first launch)"
        click.echo(f"{p.name or '-'}\n  issuer: {p.issuer}\n  client_id: {p.client_id}")
        click.echo(f"  deployments: {deployments}\n  auth_login_url: {p.auth_login_url}")
        click.echo(f"  auth_token_url: {p.auth_token_url}\n  jwks_url: {p.jwks_url}")
        if p.registered_at is not None:
            how = (
                f"with invite {p.invite_id} from {p.invited_by}"
                if p.invite_id is not None
                else "by hand"
            )
            click.echo(f"  registered: {p.registered_at.isoformat(timespec='seconds')} {how}")
        pinned = " ".join(p.service_hosts) or "(any public https host)"
        click.echo(f"  service_hosts: {pinned}")


@platform.command("remove")
@click.option("--issuer", required=True, help="Issuer of the registration to remove.")
@click.option("--client-id", required=True, help="Client id of the registration to remove.")
@handle_errors
def platform_remove(issuer: str, client_id: str) -> None:
    """Forget a registration and its deployments: its launches are refused from now on."""
    StorePlatformRegistry(open_store()).remove(issuer, client_id)
    click.echo(f"removed issuer {issuer} client_id {client_id}")


@platform.command("add-deployment")
@click.option("--issuer", required=True, help="Issuer of the registration.")
@click.option("--client-id", required=True, help="Client id of the registration.")
@click.option("--deployment-id", required=True, help="The deployment id to allow.")
@handle_errors
def platform_add_deployment(issuer: str, client_id: str, deployment_id: str) -> None:
    """Allow launches from one more deployment of a registered platform."""
    record = StorePlatformRegistry(open_store()).add_deployment(issuer, client_id, deployment_id)
    click.echo(f"deployments of {issuer} {client_id}: {', '.join(record.deployment_ids)}")


def _key_set() -> KeySet:
    """The configured store's keys, encrypted at rest as the settings say."""
    return KeySet(open_store(), encryption=KeyEncryption.from_settings(settings()))


def _invite_dict(invite: RegistrationInvite) -> dict[str, object]:
    return invite.model_dump(mode="json")


@platform.command("invite")
@click.option(
    "--expires",
    default="1h",
    show_default=True,
    help="How long the link stays valid: 30m, 1h, 2d … (1 minute to 7 days).",
)
@click.option("--note", default="", help="What the invite is for (e.g. 'Moodle production').")
@click.option(
    "--by",
    "by",
    default=None,
    help="Who mints it, recorded on the registration (default: the operating-system user).",
)
@click.option(
    "--host",
    default=None,
    help="Only a platform on this host may use the link (e.g. moodle.example.edu, "
    "*.instructure.com).",
)
@handle_errors
def platform_invite(expires: str, note: str, by: str | None, host: str | None) -> None:
    """Mint a one-time dynamic registration link to paste into the platform.

    Moodle: Site administration › Plugins › Activity modules › External tool › Manage tools ›
    Tool URL. Canvas: Admin › Developer Keys › + Developer Key › LTI Registration. The link
    registers one platform, once, before it expires; only a hash of its token is stored.
    """
    config = settings()
    actor = Administrator.command_line(by or getpass.getuser())
    minted = RegistrationInvites(open_store()).create(
        expires_in=parse_lifetime(expires), by=actor, note=note, host=host
    )
    invite = minted.invite
    click.echo(minted.url(ToolConfig.from_settings(config).registration_url))
    click.echo(
        f"invite {invite.id}: one registration"
        + (f" from {invite.host}" if invite.host else "")
        + f", valid until {invite.expires_at.isoformat(timespec='minutes')}",
        err=True,
    )
    if not config.lti.registration_enabled:
        click.echo(
            "note: dynamic registration is switched off; set [lti] registration_enabled = true "
            "(BLENDKIT_LTI_REGISTRATION_ENABLED=true) for the link to work",
            err=True,
        )


@platform.command("invites")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array instead of lines.")
@handle_errors
def platform_invites(as_json: bool) -> None:
    """Show the registration invites that can still be used (never their tokens)."""
    active = RegistrationInvites(open_store()).active()
    if as_json:
        click.echo(orjson.dumps([_invite_dict(i) for i in active]).decode())
        return
    if not active:
        click.echo("no active invite; mint one with `blendkit platform invite`")
        return
    for i in active:
        click.echo(
            f"{i.id}  by {i.created_by}  until {i.expires_at.isoformat(timespec='minutes')}"
            + (f"  host {i.host}" if i.host else "")
            + (f"  {i.note}" if i.note else "")
        )


@platform.command("revoke-invite")
@click.argument("invite_id", type=int)
@handle_errors
def platform_revoke_invite(invite_id: int) -> None:
    """Make an unused registration invite unusable at once."""
    actor = Administrator.command_line(getpass.getuser())
    RegistrationInvites(open_store()).revoke(invite_id, by=actor)
    click.echo(f"revoked invite {invite_id}")


@platform.command("set-service-hosts")
@click.option("--issuer", required=True, help="Issuer of the registration.")
@click.option("--client-id", required=True, help="Client id of the registration.")
@click.argument("hosts", nargs=-1)
@handle_errors
def platform_set_service_hosts(issuer: str, client_id: str, hosts: tuple[str, ...]) -> None:
    """Pin the service URLs of launches to HOSTS (host names or *.domain); none: any public host.

    No access token is requested or sent for an AGS, NRPS or deep-linking URL on another host.
    """
    try:
        record = StorePlatformRegistry(open_store()).set_service_hosts(issuer, client_id, hosts)
    except ValueError as exc:
        raise RegistrationError(str(exc)) from None
    pinned = " ".join(record.service_hosts) or "any public https host"
    click.echo(f"service hosts of {issuer} {client_id}: {pinned}")


@click.group()
def keys() -> None:
    """The tool's RSA signing keys, published as a JWKS for platforms."""


@keys.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array instead of lines.")
@handle_errors
def keys_list(as_json: bool) -> None:
    """Show every key (newest first); the first active one signs."""
    records = _key_set().list_keys()
    if as_json:
        click.echo(orjson.dumps([k.model_dump(mode="json") for k in records]).decode())
        return
    if not records:
        click.echo("no key yet; one is generated on first use (or run `blendkit keys rotate`)")
    current = next((k.kid for k in records if k.active), None)
    for k in records:
        status = "signing" if k.kid == current else ("published" if k.active else "retired")
        click.echo(f"{k.kid}  {status:9}  created {k.created_at.isoformat(timespec='seconds')}")


@keys.command("rotate")
@handle_errors
def keys_rotate() -> None:
    """Add a new signing key; older keys stay published until `blendkit keys retire`."""
    record = _key_set().rotate()
    click.echo(f"new signing key {record.kid}; retire the old ones once platforms have refetched")


@keys.command("retire")
@click.option(
    "--kid",
    default=None,
    help="Retire this key only (default: every key older than the signing key).",
)
@handle_errors
def keys_retire(kid: str | None) -> None:
    """Stop publishing old keys (never the current signing key)."""
    retired = _key_set().retire(kid)
    if not retired:
        click.echo("nothing to retire")
    for record in retired:
        click.echo(f"retired {record.kid}")


@keys.command("jwks")
@handle_errors
def keys_jwks() -> None:
    """Print the public JWKS (what the tool serves at /lti/jwks)."""
    click.echo(orjson.dumps(_key_set().jwks(), option=orjson.OPT_INDENT_2).decode())


@keys.command("re-encrypt")
@handle_errors
def keys_re_encrypt() -> None:
    """Encrypt every stored private key and secret with the first of [tool] key_encryption_keys.

    Plain keys (written in development or by an older blendkit) are encrypted; values under an
    older encryption key move to the first one. To rotate: put the new key first, keep the old
    one after it, run this command, then drop the old key from the list.
    """
    configured = settings()
    encryption = KeyEncryption.from_settings(configured)
    if not encryption.encrypts:
        raise ConfigError(
            "re-encrypting needs an encryption key: set [tool] key_encryption_keys "
            "(BLENDKIT_TOOL_KEY_ENCRYPTION_KEYS, a JSON list; "
            "`blendkit keys new-encryption-key` prints a new key)",
            code="config.key_encryption_missing",
        )
    store = open_store()
    key_count = KeySet(store, encryption=encryption).re_encrypt()
    secret_count = StoredSecrets(store, encryption).re_encrypt()
    click.echo(
        f"re-encrypted {key_count} tool key{'s' if key_count != 1 else ''} and "
        f"{secret_count} stored secret{'s' if secret_count != 1 else ''} with the first "
        "encryption key"
    )


@keys.command("new-encryption-key")
def keys_new_encryption_key() -> None:
    """Print a new random key for [tool] key_encryption_keys (Fernet, url-safe base64)."""
    click.echo(KeyEncryption.new_key())


commands: list[click.Command] = [platform, keys]
