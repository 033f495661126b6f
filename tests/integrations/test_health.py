"""``/healthz`` answers without the database; ``/readyz`` checks it and its migrations."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from blendkit import Store
from tests.integrations.conftest import AppFactory

CLOSED_PORT_URL = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"


def test_healthz_answers_without_touching_the_database(make_app: AppFactory) -> None:
    app = make_app(Store(CLOSED_PORT_URL), migrate=False)
    answer = app.test_client().get("/healthz")
    assert answer.status_code == 200
    assert answer.get_json() == {"status": "ok"}
    assert answer.headers["Cache-Control"] == "no-store"


def test_readyz_is_ready_on_a_migrated_store(make_app: AppFactory, store: Store) -> None:
    answer = make_app(store).test_client().get("/readyz")
    assert answer.status_code == 200
    assert answer.get_json() == {"status": "ready"}


def test_readyz_refuses_when_the_database_is_unreachable(make_app: AppFactory) -> None:
    app = make_app(Store(CLOSED_PORT_URL), migrate=False)
    answer = app.test_client().get("/readyz")
    assert answer.status_code == 503
    assert int(answer.headers["Retry-After"]) > 0
    body = answer.get_json()
    assert body["status"] == "unavailable"
    assert body["reason"] == "database_unreachable"
    assert "127.0.0.1" not in answer.get_data(as_text=True), "no host details for anonymous"


def test_readyz_refuses_while_migrations_are_pending(make_app: AppFactory, tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    app = make_app(store, migrate=False)  # never migrated: every head is missing
    answer = app.test_client().get("/readyz")
    assert answer.status_code == 503
    assert answer.get_json()["reason"] == "migrations_pending"
    store.migrate()
    assert app.test_client().get("/readyz").status_code == 200


def test_readyz_refuses_a_schema_newer_than_the_code(make_app: AppFactory, store: Store) -> None:
    app = make_app(store)
    with store.engine.begin() as conn:
        conn.execute(text("INSERT INTO alembic_version (version_num) VALUES ('f00dfeed0000')"))
    answer = app.test_client().get("/readyz")
    assert answer.status_code == 503
    assert answer.get_json()["reason"] == "schema_not_current"


def test_readyz_is_ready_when_a_branch_depends_on_another_branchs_newest_revision(
    make_app: AppFactory, tmp_path: Path
) -> None:
    """``recordings_0001`` depends on ``courses_0007``, the courses branch's head, and
    ``links_0001`` on ``recordings_0001``: alembic then keeps only ``links_0001`` of the three in
    ``alembic_version``, and nothing is pending."""
    store = Store(f"sqlite:///{tmp_path / 'branches.sqlite3'}")
    store.migrate()
    with store.engine.connect() as conn:
        stored = set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    assert "links_0001" in stored
    assert not {"recordings_0001", "courses_0007"} & stored
    assert store.pending_migrations() == []
    app = make_app(store, migrate=False)
    assert app.test_client().get("/readyz").get_json() == {"status": "ready"}
