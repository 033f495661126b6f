"""The production entry point builds the app from settings and freezes its start-up objects."""

from __future__ import annotations

import gc
import importlib
import sys
from pathlib import Path

import pytest
from flask import Flask

from blendkit import Store


def test_wsgi_module_builds_the_app_and_freezes_start_up_objects(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'tool.sqlite3'}"
    monkeypatch.setenv("BLENDKIT_DATABASE_URL", url)
    store = Store(url)
    store.migrate()  # production: `blendkit db upgrade` runs before the app starts
    store.dispose()
    monkeypatch.setenv("BLENDKIT_TOOL_BASE_URL", "https://tool.example.edu")
    monkeypatch.setenv("BLENDKIT_TOOL_SECRET_KEY", "wsgi-test-secret")
    sys.modules.pop("blendkit_examples.flask_app.wsgi", None)
    gc.unfreeze()
    try:
        module = importlib.import_module("blendkit_examples.flask_app.wsgi")
        assert isinstance(module.app, Flask)
        assert gc.get_freeze_count() > 0, "start-up objects are kept out of full collections"
        assert module.app.test_client().get("/lti/jwks").status_code == 200
    finally:
        gc.unfreeze()
        sys.modules.pop("blendkit_examples.flask_app.wsgi", None)
