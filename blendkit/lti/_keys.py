"""The tool's own RSA keys: generated on first use, published as a JWKS, rotated with overlap.

Platforms verify what the tool signs (deep-linking responses, client assertions for AGS/NRPS
tokens) against the JWKS the tool publishes. Rotation adds a new signing key while the old one
stays published, so tokens signed just before the rotation still verify; retiring removes the
old keys from the JWKS once platforms have refreshed their caches.

Private keys are stored in ``tool_keys`` as PEM encrypted with ``[tool] key_encryption_keys``
(:class:`~blendkit.store.KeyEncryption`; plain PEM only in development), and never logged,
printed or put in errors.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import jwt
import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select, update

from blendkit.errors import LTIError, NotFound
from blendkit.store import KeyEncryption, Store
from blendkit.store._tables_core import tool_keys

__all__ = ["KeySet", "ToolKey", "jwk_thumbprint", "public_jwk"]

Clock = Callable[[], datetime]
_Stored = tuple[str, bool]  # (private_pem column, encrypted?)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes: every stored time is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _b64_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8 or 1, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def public_jwk(key: rsa.RSAPublicKey, kid: str) -> dict[str, str]:
    """The RFC 7517 JSON Web Key of an RSA public key, marked for RS256 signatures."""
    numbers = key.public_numbers()
    return {
        "kty": "RSA",
        "kid": kid,
        "alg": "RS256",
        "use": "sig",
        "n": _b64_uint(numbers.n),
        "e": _b64_uint(numbers.e),
    }


def jwk_thumbprint(key: rsa.RSAPublicKey) -> str:
    """RFC 7638 SHA-256 thumbprint: a stable key id derived from the key itself."""
    numbers = key.public_numbers()
    canonical = orjson.dumps(
        {"e": _b64_uint(numbers.e), "kty": "RSA", "n": _b64_uint(numbers.n)},
        option=orjson.OPT_SORT_KEYS,
    )
    digest = hashlib.sha256(canonical).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class ToolKey(BaseModel):
    """Public facts about one tool key (never the private part)."""

    model_config = ConfigDict(frozen=True)

    kid: str
    created_at: datetime
    active: bool
    retired_at: datetime | None = None


class KeySet:
    """The tool's signing keys in the store; parsed private keys are cached per ``kid``.

    ``encryption`` encrypts private keys at rest; without one (``KeyEncryption()``, what
    production builds when no key is configured) keys are neither written nor read.
    """

    def __init__(
        self, store: Store, *, encryption: KeyEncryption | None = None, clock: Clock = _utcnow
    ) -> None:
        self._store = store
        self._encryption = encryption if encryption is not None else KeyEncryption()
        self._clock = clock
        self._parsed: dict[str, rsa.RSAPrivateKey] = {}
        self._lock = threading.Lock()

    # --- reading -----------------------------------------------------------------------------

    def list_keys(self) -> list[ToolKey]:
        """Every key, newest first, retired ones included."""
        with self._store.transaction() as session:
            rows = session.execute(
                select(
                    tool_keys.c.kid,
                    tool_keys.c.created_at,
                    tool_keys.c.active,
                    tool_keys.c.retired_at,
                ).order_by(tool_keys.c.created_at.desc(), tool_keys.c.kid)
            ).all()
        return [
            ToolKey(
                kid=row.kid,
                created_at=_aware(row.created_at),
                active=row.active,
                retired_at=_aware(row.retired_at) if row.retired_at else None,
            )
            for row in rows
        ]

    def _active_pems(self) -> list[tuple[str, _Stored]]:
        with self._store.autocommit() as session:
            rows = session.execute(
                select(tool_keys.c.kid, tool_keys.c.private_pem, tool_keys.c.encrypted)
                .where(tool_keys.c.active.is_(True))
                .order_by(tool_keys.c.created_at.desc(), tool_keys.c.kid)
            ).all()
        return [(row.kid, (row.private_pem, bool(row.encrypted))) for row in rows]

    def _load(self, kid: str, stored: _Stored) -> rsa.RSAPrivateKey:
        cached = self._parsed.get(kid)
        if cached is not None:
            return cached
        pem = self._encryption.open(*stored, what=f"tool key {kid}")
        key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise LTIError(
                f"tool key {kid} in the tool_keys table is not an RSA key; retire it with "
                "`blendkit keys retire --kid` after `blendkit keys rotate`",
                code="lti.bad_tool_key",
            )
        self._parsed[kid] = key
        return key

    def signing_key(self) -> tuple[str, rsa.RSAPrivateKey]:
        """``(kid, private key)`` of the newest active key; generates the first key when none."""
        active = self._active_pems()
        if not active:
            with self._lock:
                active = self._active_pems()
                if not active:
                    self.rotate()
                    active = self._active_pems()
        kid, stored = active[0]
        return kid, self._load(kid, stored)

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The public JWKS: every key that is not retired, newest first."""
        active = self._active_pems()
        if not active:
            self.signing_key()
            active = self._active_pems()
        return {"keys": [public_jwk(self._load(kid, key).public_key(), kid) for kid, key in active]}

    # --- changing ----------------------------------------------------------------------------

    def rotate(self) -> ToolKey:
        """Add a new RSA-2048 signing key; older keys stay published until retired."""
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        kid = jwk_thumbprint(private.public_key())
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")
        sealed, encrypted = self._encryption.seal(pem, what=f"tool key {kid}")
        now = self._clock()
        with self._store.transaction() as session:
            session.execute(
                tool_keys.insert().values(
                    kid=kid, private_pem=sealed, encrypted=encrypted, created_at=now, active=True
                )
            )
        self._parsed[kid] = private
        return ToolKey(kid=kid, created_at=now, active=True)

    def re_encrypt(self) -> int:
        """Encrypt every stored key (retired ones too) with the first encryption key.

        Plain keys are encrypted, keys under an older encryption key move to the first one;
        returns how many keys were rewritten.
        """
        with self._store.transaction() as conn:
            return self._encryption.reseal_table(
                conn, tool_keys, "kid", "private_pem", what="tool key"
            )

    def retire(self, kid: str | None = None) -> list[ToolKey]:
        """Stop publishing ``kid``, or every key older than the current signing key.

        The current signing key is never retired: rotate first.
        """
        active = self._active_pems()
        if not active:
            return []
        current = active[0][0]
        if kid is None:
            targets = [k for k, _ in active[1:]]
        else:
            known = {k.kid: k for k in self.list_keys()}
            if kid not in known:
                raise NotFound(
                    f"no tool key with kid {kid!r}; `blendkit keys list` shows the known keys"
                )
            if kid == current:
                raise LTIError(
                    f"key {kid} is the current signing key; run `blendkit keys rotate` first, "
                    "then retire it once platforms have fetched the new JWKS",
                    code="lti.key_in_use",
                )
            targets = [kid] if known[kid].active else []
        if not targets:
            return []
        now = self._clock()
        with self._store.transaction() as session:
            session.execute(
                update(tool_keys)
                .where(tool_keys.c.kid.in_(targets))
                .values(active=False, retired_at=now)
            )
        for target in targets:
            self._parsed.pop(target, None)
        return [k for k in self.list_keys() if k.kid in targets]

    # --- using -------------------------------------------------------------------------------

    def sign(self, claims: Mapping[str, Any], headers: Mapping[str, Any] | None = None) -> str:
        """A compact RS256 JWT of ``claims`` signed with the current key (``kid`` in the header)."""
        kid, key = self.signing_key()
        header: dict[str, Any] = {"typ": "JWT", **(headers or {}), "kid": kid, "alg": "RS256"}
        return jwt.encode(dict(claims), key, algorithm="RS256", headers=header)
