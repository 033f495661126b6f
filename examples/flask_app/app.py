"""Application factory of the example tool."""

from __future__ import annotations

import secrets
from html import escape
from typing import Any

from flask import Flask, redirect, url_for
from flask.typing import ResponseReturnValue

from blendkit import Settings, Store, load_settings
from blendkit.integrations.flask import Blendkit
from blendkit.lti import Launch


def create_app(
    settings: Settings | None = None, *, store: Store | None = None, **config: Any
) -> Flask:
    """Build the tool. ``settings`` default to ``load_settings()`` (file + environment)."""
    settings = settings or load_settings()
    app = Flask(__name__)
    secret = settings.tool.secret_key.get_secret_value() or secrets.token_hex(32)
    app.config.update(SECRET_KEY=secret, **config)
    bk = Blendkit(app, settings=settings, store=store)

    @bk.on_launch
    def launched(launch: Launch, launch_id: str) -> ResponseReturnValue:
        return redirect(url_for("course", launch=launch_id))

    @app.get("/course")
    def course() -> ResponseReturnValue:
        launch = Blendkit.current_launch()
        assert launch is not None
        title = launch.context.title if launch.context and launch.context.title else "Your course"
        role = "Instructor" if launch.is_instructor else "Learner" if launch.is_learner else "Guest"
        name = launch.user.name or launch.user.sub
        return (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{escape(title)}</title></head><body><main>"
            f"<h1>{escape(title)}</h1><p>Welcome, {escape(name)}. Role: "
            f"<strong class='role'>{escape(role)}</strong></p></main></body></html>"
        )

    return app
