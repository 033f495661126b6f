"""The key-encryption key every test runs with (production requires one; never used elsewhere)."""

from __future__ import annotations

from blendkit.store import KeyEncryption

TEST_KEY_ENCRYPTION_KEY = "dGVzdC1vbmx5LWtleS1lbmNyeXB0aW9uLWtleS0wMDA="
ENCRYPTION = KeyEncryption([TEST_KEY_ENCRYPTION_KEY])
