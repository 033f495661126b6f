"""Secrets at rest: the tool's private keys and generated secrets, encrypted in the database.

:class:`KeyEncryption` wraps ``cryptography``'s :class:`~cryptography.fernet.MultiFernet` over
``[tool] key_encryption_keys``: the first key encrypts, every key decrypts, so keys rotate by
putting a new key first and running ``blendkit keys re-encrypt``. In production a value is never
written or read in clear; development may keep plain values (with a warning) so a laptop needs
no key. :class:`StoredSecrets` keeps random secrets that every process of one install must share
(the CSRF signing key when ``[tool] secret_key`` is empty, the fake meeting provider's webhook
secret): generated once, stored once, read by every worker.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Connection, Table, select, update

from blendkit.errors import ConfigError
from blendkit.store._store import Store
from blendkit.store._tables_core import tool_secrets

if TYPE_CHECKING:
    from blendkit.config import Settings

__all__ = ["KeyEncryption", "StoredSecrets"]

log = logging.getLogger("blendkit.keys")

_HOW_TO_SET = (
    "set [tool] key_encryption_keys (BLENDKIT_TOOL_KEY_ENCRYPTION_KEYS, a JSON list; "
    "`blendkit keys new-encryption-key` prints a new key)"
)


class KeyEncryption:
    """Encrypts and decrypts values kept at rest; refuses plain values unless allowed.

    ``keys`` are Fernet keys, newest first. With no key, values are refused
    (``config.key_encryption_missing``) unless ``allow_plaintext`` (development).
    """

    def __init__(self, keys: Sequence[str | bytes] = (), *, allow_plaintext: bool = False) -> None:
        fernets: list[Fernet] = []
        for position, key in enumerate(keys, start=1):
            raw = key.encode("ascii") if isinstance(key, str) else key
            try:
                fernets.append(Fernet(raw))
            except ValueError:
                raise ConfigError(
                    f"[tool] key_encryption_keys: key {position} is not a Fernet key (32 "
                    "url-safe base64-encoded bytes); make one with "
                    "`blendkit keys new-encryption-key`",
                    code="config.key_encryption_invalid",
                ) from None
        self._first = fernets[0] if fernets else None
        self._all = MultiFernet(fernets) if fernets else None
        self.allow_plaintext = allow_plaintext
        self._warned = False

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyEncryption:
        """``[tool] key_encryption_keys``; plain values allowed only in development."""
        tool = settings.tool
        return cls(
            [key.get_secret_value() for key in tool.key_encryption_keys],
            allow_plaintext=not tool.production,
        )

    @classmethod
    def generate(cls) -> KeyEncryption:
        """Encryption with one new random key (tests, throw-away stores)."""
        return cls([cls.new_key()])

    @staticmethod
    def new_key() -> str:
        """A new random Fernet key, for ``[tool] key_encryption_keys``."""
        return Fernet.generate_key().decode("ascii")

    @property
    def encrypts(self) -> bool:
        """True when at least one encryption key is configured."""
        return self._first is not None

    def _missing(self, what: str) -> ConfigError:
        return ConfigError(
            f"{what}: production keeps it encrypted in the database, and no encryption key is "
            f"configured; {_HOW_TO_SET}, or run a laptop with [tool] environment = "
            '"development"',
            code="config.key_encryption_missing",
        )

    def _wrong_key(self, what: str) -> ConfigError:
        return ConfigError(
            f"{what} cannot be decrypted with any of [tool] key_encryption_keys: the key it was "
            "encrypted with is missing (keep the old key in the list, after the new one, until "
            "`blendkit keys re-encrypt` has run)",
            code="config.key_encryption_wrong_key",
        )

    def require(self, what: str) -> None:
        """Raise ``config.key_encryption_missing`` now if ``what`` could not be stored later.

        Lets an application refuse to start in production without an encryption key, instead
        of failing at the first request that needs the tool's key.
        """
        if not self.encrypts and not self.allow_plaintext:
            raise self._missing(what)

    def seal(self, plain: str, *, what: str) -> tuple[str, bool]:
        """``(stored value, encrypted?)`` for ``plain``; raises when it may not be stored."""
        if self._first is not None:
            return self._first.encrypt(plain.encode("utf-8")).decode("ascii"), True
        if not self.allow_plaintext:
            raise self._missing(what)
        if not self._warned:
            self._warned = True
            log.warning(
                "%s is stored unencrypted: [tool] key_encryption_keys is empty (allowed in "
                "development only; production refuses it)",
                what,
            )
        return plain, False

    def open(self, stored: str, encrypted: bool, *, what: str) -> str:
        """The plain value of a stored one; raises when it may not be read."""
        if encrypted:
            if self._all is None:
                raise self._missing(what)
            try:
                return self._all.decrypt(stored.encode("ascii")).decode("utf-8")
            except (InvalidToken, UnicodeError):
                raise self._wrong_key(what) from None
        if self.allow_plaintext:
            return stored
        if self._all is None:
            raise self._missing(what)
        raise ConfigError(
            f"{what} is stored unencrypted, which production refuses; run "
            "`blendkit keys re-encrypt` to encrypt it with [tool] key_encryption_keys",
            code="config.tool_key_unencrypted",
        )

    def reseal(self, stored: str, encrypted: bool, *, what: str) -> str:
        """``stored`` encrypted with the first key (plain values are encrypted)."""
        if self._first is None or self._all is None:
            raise self._missing(what)
        if not encrypted:
            return self._first.encrypt(stored.encode("utf-8")).decode("ascii")
        try:
            return self._all.rotate(stored.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeError):
            raise self._wrong_key(what) from None

    def reseal_table(
        self, conn: Connection, table: Table, key: str, value: str, *, what: str
    ) -> int:
        """Re-encrypt column ``value`` of every row of ``table`` (rows named by column ``key``,
        with an ``encrypted`` flag) with the first key, in the caller's transaction; returns how
        many rows were rewritten. ``what`` names a row in errors, e.g. ``"tool key"``."""
        columns = table.c
        rows = conn.execute(select(columns[key], columns[value], columns.encrypted)).all()
        for name, stored, encrypted in rows:
            sealed = self.reseal(stored, bool(encrypted), what=f"{what} {name!r}")
            conn.execute(
                update(table).where(columns[key] == name).values({value: sealed, "encrypted": True})
            )
        return len(rows)


class StoredSecrets:
    """Random secrets generated once per install and shared by every process through the store."""

    def __init__(self, store: Store, encryption: KeyEncryption) -> None:
        self._store = store
        self._encryption = encryption

    def _read(self, name: str) -> tuple[str, bool] | None:
        with self._store.autocommit() as conn:
            row = conn.execute(
                select(tool_secrets.c.value, tool_secrets.c.encrypted).where(
                    tool_secrets.c.name == name
                )
            ).first()
        return None if row is None else (row.value, bool(row.encrypted))

    def value(self, name: str, *, what: str | None = None) -> str:
        """The secret ``name``; the first caller of an install generates and stores it.

        Concurrent first callers (workers starting together) all end up with the one value
        that was stored first. ``what`` names the secret in error messages.
        """
        described = what or f"stored secret {name!r}"
        found = self._read(name)
        if found is None:
            stored, encrypted = self._encryption.seal(secrets.token_urlsafe(32), what=described)
            insert = self._store.insert_ignoring_conflicts(tool_secrets, "name").values(
                name=name, value=stored, encrypted=encrypted, created_at=datetime.now(UTC)
            )
            with self._store.transaction() as conn:
                conn.execute(insert)
            found = self._read(name)
            assert found is not None
        return self._encryption.open(*found, what=described)

    def re_encrypt(self) -> int:
        """Encrypt every stored secret with the first encryption key; returns how many."""
        with self._store.transaction() as conn:
            return self._encryption.reseal_table(
                conn, tool_secrets, "name", "value", what="stored secret"
            )
