"""Finding 9: files holding keys or secrets are readable by their owner only.

``blendkit demo`` wrote ``secret_key`` and the SQLite database holding the tool's private key with
mode 644 (anyone on the machine could read them). Secrets are now created 0600 (with the mode,
not chmod-ed afterwards), the demo's data directory 0700, and a SQLite file the store creates
(with its -wal and -shm companions) 0600.
"""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from blendkit.lti import KeySet
from blendkit.store import KeyEncryption, Store


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """The usual umask 022, which made every new file world-readable."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.usefixtures("permissive_umask")
def test_demo_keeps_its_secret_and_database_to_the_owner(tmp_path: Path) -> None:
    from blendkit_examples.flask_app.demo import build_demo

    data = tmp_path / "demo-data"
    app, _url = build_demo(data, host="127.0.0.1", port=_free_port())
    app.test_client().get("/lti/jwks")  # the tool's private key is written now
    assert _mode(data) == 0o700
    assert _mode(data / "secret_key") == 0o600
    database = data / "demo.sqlite3"
    assert _mode(database) == 0o600
    for companion in (Path(f"{database}-wal"), Path(f"{database}-shm")):
        if companion.exists():
            assert _mode(companion) == 0o600, companion.name


@pytest.mark.usefixtures("permissive_umask")
def test_a_kept_demo_directory_is_closed_to_others(tmp_path: Path) -> None:
    from blendkit_examples.flask_app.demo import build_demo

    data = tmp_path / "demo-data"
    data.mkdir(mode=0o755)
    build_demo(data, host="127.0.0.1", port=_free_port())
    assert _mode(data) == 0o700
    assert _mode(data / "secret_key") == 0o600


@pytest.mark.usefixtures("permissive_umask")
def test_a_new_sqlite_database_and_its_journal_are_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "tool.sqlite3"
    path.parent.mkdir()
    store = Store(f"sqlite:///{path}")
    try:
        store.migrate()
        KeySet(store, encryption=KeyEncryption.generate()).rotate()
        assert _mode(path) == 0o600
        for companion in (Path(f"{path}-wal"), Path(f"{path}-shm")):
            assert companion.exists(), "WAL mode keeps a write-ahead log next to the database"
            assert _mode(companion) == 0o600, companion.name
    finally:
        store.dispose()


def test_an_existing_database_keeps_the_mode_its_owner_chose(tmp_path: Path) -> None:
    path = tmp_path / "tool.sqlite3"
    first = Store(f"sqlite:///{path}")
    first.migrate()
    first.dispose()
    path.chmod(0o640)  # e.g. shared with a backup group on purpose
    again = Store(f"sqlite:///{path}")
    again.migrate()
    again.dispose()
    assert _mode(path) == 0o640
