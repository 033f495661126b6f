"""Registration invites: a dynamic registration happens only through a link an administrator minted.

``blendkit platform invite --expires 1h`` mints a random token and prints
``<base_url>/lti/register?invite=<token>``; the administrator pastes that URL into the platform's
"register a tool" box (Moodle and Canvas keep the ``invite`` parameter and add
``openid_configuration`` and ``registration_token``). The database keeps only a SHA-256 of the
token. An invite is checked before any network call, and consumed, once, in the same transaction
that stores the registration: a refused or failed registration leaves it usable until it expires.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Final
from urllib.parse import urlencode, urlsplit

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, update

from blendkit.errors import NotFound, RegistrationError
from blendkit.lti._admin import Administrator
from blendkit.store import Store
from blendkit.store._tables_core import lti_registration_invites

__all__ = [
    "INVITE_PARAM",
    "MintedInvite",
    "RegistrationInvite",
    "RegistrationInvites",
    "parse_lifetime",
]

INVITE_PARAM: Final = "invite"
"""The query parameter that carries the invite token (keep it out of access logs)."""
MIN_LIFETIME: Final = timedelta(minutes=1)
MAX_LIFETIME: Final = timedelta(days=7)
_LIFETIME = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS: Final = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_HOST = re.compile(r"^[a-z0-9*?.\-\[\]]+$")


def parse_lifetime(text: str) -> timedelta:
    """``"90s"``, ``"30m"``, ``"1h"``, ``"2d"`` as a timedelta between 1 minute and 7 days."""
    found = _LIFETIME.match(text.lower())
    if not found:
        raise RegistrationError(
            f"invite lifetime {text!r} is not a number with a unit s, m, h or d (e.g. 1h)",
            code="lti.registration_invite_lifetime",
        )
    lifetime = timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})
    if not MIN_LIFETIME <= lifetime <= MAX_LIFETIME:
        raise RegistrationError(
            f"invite lifetime {text!r} must be between 1 minute and 7 days; mint a new invite "
            "when a registration is due instead of keeping one open",
            code="lti.registration_invite_lifetime",
        )
    return lifetime


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


class RegistrationInvite(BaseModel):
    """One invite as stored: never its token."""

    model_config = ConfigDict(frozen=True)

    id: int
    created_at: datetime
    expires_at: datetime
    created_by: str
    note: str = ""
    host: str | None = None
    """When set, only a platform on this host (an fnmatch pattern) may use the invite."""
    used_at: datetime | None = None
    used_issuer: str | None = None
    used_client_id: str | None = None
    revoked_at: datetime | None = None

    def host_allowed(self, host: str) -> bool:
        """True when the invite names no host, or ``host`` matches it."""
        return self.host is None or fnmatch.fnmatch(host.lower(), self.host)


class MintedInvite(BaseModel):
    """A new invite and its token: shown once, to the administrator who minted it."""

    model_config = ConfigDict(frozen=True)

    invite: RegistrationInvite
    token: str = Field(repr=False)

    def url(self, registration_url: str) -> str:
        """The link to paste into the platform: ``registration_url?invite=<token>``."""
        joiner = "&" if urlsplit(registration_url).query else "?"
        return f"{registration_url}{joiner}{urlencode({INVITE_PARAM: self.token})}"


class RegistrationInvites:
    """Invites in the ``lti_registration_invites`` table."""

    def __init__(self, store: Store, *, clock: Callable[[], datetime] | None = None) -> None:
        self.store = store
        self.clock = clock or (lambda: datetime.now(UTC))

    def create(
        self,
        *,
        expires_in: timedelta,
        by: Administrator,
        note: str = "",
        host: str | None = None,
    ) -> MintedInvite:
        """Mint an invite valid for ``expires_in`` (1 minute to 7 days). Only a tool
        administrator may (AccessDenied otherwise): a registration adds a tenant to the tool."""
        by.require_tool_wide("minting a registration link")
        created_by = by.name
        if not MIN_LIFETIME <= expires_in <= MAX_LIFETIME:
            raise RegistrationError(
                "an invite lives between 1 minute and 7 days",
                code="lti.registration_invite_lifetime",
            )
        if not created_by.strip():
            raise RegistrationError("name who mints the invite (e.g. --by alice)")
        pinned = host.strip().lower() if host else None
        if pinned is not None and not _HOST.match(pinned):
            raise RegistrationError(
                f"--host {host!r} must be a host name or fnmatch pattern such as "
                "moodle.example.edu or *.instructure.com (no scheme, port or path)"
            )
        token = secrets.token_urlsafe(32)
        now = self.clock()
        values = {
            "token_hash": _hash(token),
            "created_at": now,
            "expires_at": now + expires_in,
            "created_by": created_by.strip()[:255],
            "note": note.strip()[:512],
            "host": pinned,
        }
        with self.store.transaction() as conn:
            invite_id = conn.execute(
                lti_registration_invites.insert()
                .values(**values)
                .returning(lti_registration_invites.c.id)
            ).scalar_one()
        invite = RegistrationInvite(
            id=invite_id,
            created_at=now,
            expires_at=now + expires_in,
            created_by=values["created_by"],
            note=values["note"],
            host=pinned,
        )
        return MintedInvite(invite=invite, token=token)

    def _row_to_invite(self, row: object) -> RegistrationInvite:
        mapping = dict(row._mapping)  # type: ignore[attr-defined]
        mapping.pop("token_hash", None)
        for key in ("created_at", "expires_at", "used_at", "revoked_at"):
            mapping[key] = _utc(mapping[key])
        return RegistrationInvite.model_validate(mapping)

    def _find(self, token: str) -> RegistrationInvite | None:
        with self.store.transaction() as conn:
            row = conn.execute(
                select(lti_registration_invites).where(
                    lti_registration_invites.c.token_hash == _hash(token)
                )
            ).first()
        return None if row is None else self._row_to_invite(row)

    def active(self) -> list[RegistrationInvite]:
        """Invites that can still be used, oldest first."""
        t = lti_registration_invites.c
        query = (
            select(lti_registration_invites)
            .where(t.used_at.is_(None), t.revoked_at.is_(None), t.expires_at > self.clock())
            .order_by(t.id)
        )
        with self.store.transaction() as conn:
            return [self._row_to_invite(row) for row in conn.execute(query)]

    def get(self, invite_id: int) -> RegistrationInvite:
        """The invite with ``invite_id``, or NotFound."""
        with self.store.transaction() as conn:
            row = conn.execute(
                select(lti_registration_invites).where(lti_registration_invites.c.id == invite_id)
            ).first()
        if row is None:
            raise NotFound(
                f"no registration invite {invite_id}; `blendkit platform invites` lists them"
            )
        return self._row_to_invite(row)

    def revoke(self, invite_id: int, *, by: Administrator) -> RegistrationInvite:
        """Make an unused invite unusable at once (tool administrators only)."""
        by.require_tool_wide("revoking a registration link")
        invite = self.get(invite_id)
        if invite.used_at is not None:
            raise RegistrationError(
                f"invite {invite_id} was already used (by {invite.used_issuer}); remove that "
                "registration with `blendkit platform remove` if it should not exist",
                code="lti.registration_invite_used",
            )
        t = lti_registration_invites.c
        with self.store.transaction() as conn:
            conn.execute(
                update(lti_registration_invites)
                .where(t.id == invite_id, t.revoked_at.is_(None), t.used_at.is_(None))
                .values(revoked_at=self.clock())
            )
        return self.get(invite_id)

    def check(self, token: str | None) -> RegistrationInvite:
        """The usable invite for ``token``; raises a RegistrationError (403) naming why not."""
        if not token:
            raise RegistrationError(
                "dynamic registration needs a registration link minted by the tool's "
                "administrator (`blendkit platform invite`); paste that whole link, with its "
                "invite, into the platform",
                code="lti.registration_invite_missing",
                http_status=403,
            )
        invite = self._find(token)
        if invite is None:
            raise RegistrationError(
                "this registration link is not one the tool issued; ask the tool's "
                "administrator for a new one (`blendkit platform invite`)",
                code="lti.registration_invite_unknown",
                http_status=403,
            )
        self._usable(invite)
        return invite

    def _usable(self, invite: RegistrationInvite) -> None:
        if invite.revoked_at is not None:
            raise RegistrationError(
                f"registration invite {invite.id} was revoked; ask the tool's administrator "
                "for a new link",
                code="lti.registration_invite_revoked",
                http_status=403,
            )
        if invite.used_at is not None:
            raise RegistrationError(
                f"registration invite {invite.id} was already used; each link registers one "
                "platform: ask the tool's administrator for a new one",
                code="lti.registration_invite_used",
                http_status=403,
            )
        if invite.expires_at <= self.clock():
            raise RegistrationError(
                f"registration invite {invite.id} expired at "
                f"{invite.expires_at.isoformat(timespec='minutes')}; ask the tool's "
                "administrator for a new link",
                code="lti.registration_invite_expired",
                http_status=403,
            )

    def consume(self, token: str, *, issuer: str, client_id: str) -> RegistrationInvite:
        """Mark the invite used by ``issuer`` + ``client_id``, once: a concurrent or later use
        is refused. Call it in the transaction that stores the registration."""
        t = lti_registration_invites.c
        now = self.clock()
        with self.store.transaction() as conn:
            used = conn.execute(
                update(lti_registration_invites)
                .where(
                    t.token_hash == _hash(token),
                    t.used_at.is_(None),
                    t.revoked_at.is_(None),
                    t.expires_at > now,
                )
                .values(used_at=now, used_issuer=issuer, used_client_id=client_id)
                .returning(t.id)
            ).scalar_one_or_none()
        invite = self._find(token)
        if invite is None:
            raise RegistrationError(
                "this registration link is not one the tool issued",
                code="lti.registration_invite_unknown",
                http_status=403,
            )
        if used is None:
            self._usable(invite)
            raise RegistrationError(
                f"registration invite {invite.id} was already used",
                code="lti.registration_invite_used",
                http_status=403,
            )
        return invite
