"""Suspicion 12: an empty ``[tool] secret_key`` was replaced by a random key in each process.

Every gunicorn worker then signed CSRF tokens with its own key: a form rendered by one worker and
posted to another failed with ``app.csrf_failed``. The key is now generated once, kept in the
database (encrypted with ``[tool] key_encryption_keys``) and read by every worker; production
with neither a secret key nor an encryption key refuses to start.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from flask import Flask

from blendkit import ConfigError, Settings, Store
from blendkit.integrations.flask import Blendkit
from blendkit.lti import Launch, LaunchContext, MessageType, ResourceLink, UserIdentity
from blendkit.sessions import FakeMeetingProvider

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"


def _worker(url: str, **tool: object) -> Flask:
    """One gunicorn worker: its own app and its own connection pool on the shared database."""
    from blendkit_examples.flask_app import create_app

    settings = Settings(
        database={"url": url},
        tool={"base_url": "http://tool.test", "secret_key": "", **tool},
    )
    return create_app(settings, provider=FakeMeetingProvider(), migrate=True, TESTING=True)


def _launch(app: Flask) -> str:
    launch = Launch(
        message_type=MessageType.RESOURCE_LINK,
        version="1.3.0",
        issuer="https://lms.example.edu",
        client_id="client-1",
        deployment_id="dep-1",
        user=UserIdentity(sub="ana", name="Ana"),
        roles=(LEARNER,),
        context=LaunchContext(id="bio-101", title="Biology"),
        resource_link=ResourceLink(id="rl-1"),
        target_link_uri="http://tool.test/lti/launch",
    )
    with app.app_context():
        return Blendkit.state().launches.save(launch)


def test_a_csrf_token_minted_by_one_worker_is_accepted_by_another(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tool.sqlite3'}"
    encryption = [Fernet.generate_key().decode()]
    first = _worker(url, key_encryption_keys=encryption)
    second = _worker(url, key_encryption_keys=encryption)
    launch_id = _launch(first)
    page = first.test_client().get("/course", query_string={"launch": launch_id})
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', page.get_data(as_text=True))
    assert token, "the page carries its launch-bound CSRF token"
    answer = second.test_client().post(
        "/timezone",
        data={"launch": launch_id, "csrf": token.group(1), "time_zone": "Europe/Paris"},
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)[:400]
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert len(first.config["SECRET_KEY"]) >= 32


def test_the_stored_secret_key_is_not_in_the_database_in_clear(tmp_path: Path) -> None:
    from sqlalchemy import select

    from blendkit.store._tables_core import tool_secrets

    url = f"sqlite:///{tmp_path / 'tool.sqlite3'}"
    app = _worker(url, key_encryption_keys=[Fernet.generate_key().decode()])
    store = Store(url)
    try:
        with store.transaction() as conn:
            values = [row.value for row in conn.execute(select(tool_secrets))]
    finally:
        store.dispose()
    assert values, "the generated key is kept once for every worker"
    assert app.config["SECRET_KEY"] not in " ".join(values)


def test_production_without_secret_or_encryption_key_refuses_to_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        _worker(f"sqlite:///{tmp_path / 'tool.sqlite3'}", key_encryption_keys=[])
    assert caught.value.code == "config.key_encryption_missing"
    assert "secret_key" in caught.value.message


def test_an_explicit_secret_key_is_used_as_given(tmp_path: Path) -> None:
    app = _worker(
        f"sqlite:///{tmp_path / 'tool.sqlite3'}", secret_key="from-the-config-file-0123456789"
    )
    assert app.config["SECRET_KEY"] == "from-the-config-file-0123456789"
