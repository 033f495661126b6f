"""A minimal Flask app on the adapter, for the operator routes and error handling."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import text

from blendkit import Settings, Store
from blendkit.integrations.flask import Blendkit

AppFactory = Callable[..., Flask]


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[AppFactory]:
    """``make_app(store, migrate=True, **settings_sections)``: the adapter on ``store`` with one
    page (``/page``) that reads the database."""
    built: list[Store] = []

    def make(store: Store, *, migrate: bool = True, **sections: object) -> Flask:
        tool = {"base_url": "http://tool.test", "secret_key": "test-secret"}
        tool.update(sections.pop("tool", {}))  # type: ignore[call-overload]
        settings = Settings(database={"url": "sqlite://"}, tool=tool, **sections)
        app = Flask("ops_test")
        Blendkit(app, settings=settings, store=store, migrate=migrate)

        @app.get("/page")
        def page() -> str:
            with store.engine.connect() as conn:
                return str(conn.execute(text("SELECT 1")).scalar())

        built.append(store)
        return app

    yield make
    for store in built:
        store.dispose()
