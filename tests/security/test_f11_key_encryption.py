"""Finding 11 (second half): the tool's private keys sat as plain PEM in ``tool_keys``.

Anyone with a database dump (a backup, a read replica, a leaked SQLite file) could sign deep
linking responses and AGS token requests as the tool. Keys are now encrypted at rest with
``[tool] key_encryption_keys`` (Fernet; the first encrypts, all decrypt), production refuses to
write or read a plain key, and ``blendkit keys re-encrypt`` moves every stored key and secret to
the first encryption key.
"""

from __future__ import annotations

import logging
from pathlib import Path

import jwt
import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from sqlalchemy import select

from blendkit import ConfigError, Settings
from blendkit.cli import cli
from blendkit.lti import KeySet
from blendkit.store import KeyEncryption, Store, StoredSecrets
from blendkit.store._tables_core import tool_keys, tool_secrets


def _raw_rows(store: Store) -> list[str]:
    with store.transaction() as conn:
        keys = [" ".join(str(v) for v in row) for row in conn.execute(select(tool_keys)).all()]
        stored = [" ".join(str(v) for v in row) for row in conn.execute(select(tool_secrets))]
    return keys + stored


def test_no_private_key_in_the_database(store: Store) -> None:
    keys = KeySet(store, encryption=KeyEncryption([Fernet.generate_key().decode()]))
    keys.rotate()
    keys.rotate()
    token = keys.sign({"iss": "tool", "aud": "platform"})
    rows = _raw_rows(store)
    assert len(rows) == 2
    for row in rows:
        assert "PRIVATE KEY" not in row
        assert "-----BEGIN" not in row
        # No column is the base64 of a DER RSA key; the key column is a Fernet token.
        assert not any(value.startswith("MII") for value in row.split())
        assert any(value.startswith("gAAAAA") for value in row.split())
    (jwk, *_older) = keys.jwks()["keys"]
    public = jwt.PyJWK(jwk).key
    assert jwt.decode(token, public, algorithms=["RS256"], audience="platform")["iss"] == "tool"


def test_a_fresh_process_with_the_key_reads_what_another_wrote(store: Store) -> None:
    secret = Fernet.generate_key().decode()
    first = KeySet(store, encryption=KeyEncryption([secret]))
    kid, _ = first.signing_key()
    again = KeySet(store, encryption=KeyEncryption([secret]))
    assert again.signing_key()[0] == kid
    assert again.jwks() == first.jwks()


def test_wrong_key_is_a_clear_error_that_shows_no_secret(store: Store) -> None:
    right, wrong = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    KeySet(store, encryption=KeyEncryption([right])).rotate()
    with pytest.raises(ConfigError) as caught:
        KeySet(store, encryption=KeyEncryption([wrong])).signing_key()
    assert caught.value.code == "config.key_encryption_wrong_key"
    assert "key_encryption_keys" in caught.value.message
    assert right not in str(caught.value)
    assert wrong not in str(caught.value)


def test_rotation_old_key_decrypts_until_re_encrypted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'tool.sqlite3'}"
    monkeypatch.setenv("BLENDKIT_DATABASE_URL", url)
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    store = Store(url)
    store.migrate()
    try:
        kid, _ = KeySet(store, encryption=KeyEncryption([old])).signing_key()
        StoredSecrets(store, KeyEncryption([old])).value("secret_key")
        both = KeyEncryption([new, old])  # the new key first: it encrypts, both decrypt
        assert KeySet(store, encryption=both).signing_key()[0] == kid
        monkeypatch.setenv("BLENDKIT_TOOL_KEY_ENCRYPTION_KEYS", f'["{new}", "{old}"]')
        result = CliRunner().invoke(cli, ["keys", "re-encrypt"])
        assert result.exit_code == 0, result.output
        assert "1 tool key" in result.output
        assert "1 stored secret" in result.output
        only_new = KeyEncryption([new])
        assert KeySet(store, encryption=only_new).signing_key()[0] == kid
        assert StoredSecrets(store, only_new).value("secret_key")
        with pytest.raises(ConfigError) as caught:
            KeySet(store, encryption=KeyEncryption([old])).signing_key()
        assert caught.value.code == "config.key_encryption_wrong_key"
    finally:
        store.dispose()


def test_production_refuses_plain_keys_without_an_encryption_key(store: Store) -> None:
    refusing = KeyEncryption()  # what production builds when no key is configured
    with pytest.raises(ConfigError) as caught:
        KeySet(store, encryption=refusing).signing_key()
    assert caught.value.code == "config.key_encryption_missing"
    assert "key_encryption_keys" in caught.value.message
    assert _raw_rows(store) == [], "nothing was written"
    # A plain key left by development (or by an older blendkit) is not read either.
    KeySet(store, encryption=KeyEncryption(allow_plaintext=True)).rotate()
    with pytest.raises(ConfigError) as again:
        KeySet(store, encryption=refusing).jwks()
    assert again.value.code == "config.key_encryption_missing"
    with pytest.raises(ConfigError) as unencrypted:
        KeySet(store, encryption=KeyEncryption([Fernet.generate_key().decode()])).jwks()
    assert unencrypted.value.code == "config.tool_key_unencrypted"
    assert "blendkit keys re-encrypt" in unencrypted.value.message


def test_settings_decide_the_policy() -> None:
    production = KeyEncryption.from_settings(Settings(tool={"key_encryption_keys": []}))
    assert not production.encrypts
    assert not production.allow_plaintext
    development = KeyEncryption.from_settings(
        Settings(tool={"environment": "development", "key_encryption_keys": []})
    )
    assert development.allow_plaintext


def test_settings_refuse_a_malformed_encryption_key_without_echoing_it() -> None:
    from blendkit import load_settings

    with pytest.raises(ConfigError) as caught:
        load_settings(tool={"key_encryption_keys": ["not-a-fernet-key-but-a-secret"]})
    assert "tool.key_encryption_keys" in caught.value.message
    assert "not-a-fernet-key-but-a-secret" not in str(caught.value)


def test_development_stores_plain_keys_with_a_warning(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="blendkit.keys"):
        KeySet(store, encryption=KeyEncryption(allow_plaintext=True)).rotate()
    assert "key_encryption_keys" in caplog.text
    assert "PRIVATE" not in caplog.text


def test_re_encrypt_encrypts_plain_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'tool.sqlite3'}"
    monkeypatch.setenv("BLENDKIT_DATABASE_URL", url)
    store = Store(url)
    store.migrate()
    try:
        kid = KeySet(store, encryption=KeyEncryption(allow_plaintext=True)).rotate().kid
        assert any("PRIVATE KEY" in row for row in _raw_rows(store))
        secret = Fernet.generate_key().decode()
        monkeypatch.setenv("BLENDKIT_TOOL_KEY_ENCRYPTION_KEYS", f'["{secret}"]')
        result = CliRunner().invoke(cli, ["keys", "re-encrypt"])
        assert result.exit_code == 0, result.output
        assert not any("PRIVATE KEY" in row for row in _raw_rows(store))
        assert KeySet(store, encryption=KeyEncryption([secret])).signing_key()[0] == kid
    finally:
        store.dispose()


def test_re_encrypt_without_a_key_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLENDKIT_TOOL_KEY_ENCRYPTION_KEYS", "[]")
    result = CliRunner().invoke(cli, ["keys", "re-encrypt"])
    assert result.exit_code == 2
    assert "config.key_encryption_missing" in result.output


def test_new_encryption_key_prints_a_usable_key() -> None:
    result = CliRunner().invoke(cli, ["keys", "new-encryption-key"])
    assert result.exit_code == 0
    KeyEncryption([result.output.strip()])  # a valid Fernet key
