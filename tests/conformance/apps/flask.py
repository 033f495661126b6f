"""The conformance app on the Flask adapter: ``Blendkit(app, settings=..., store=...)`` and the
routes the suite calls, written only with :mod:`blendkit.integrations.flask`."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue

from blendkit import Settings, Store
from blendkit.integrations.flask import Blendkit
from blendkit.lti import AGSScore, Launch, LineItem, ResourceLinkItem
from tests.conformance.apps import CONFORMANCE_ITEM_TITLE
from tests.e2e.servers import ThreadedServer


def describe(launch: Launch, launch_id: str | None) -> dict[str, Any]:
    """The JSON every conformance app answers for a launch."""
    return {
        "launch_id": launch_id,
        "sub": launch.user.sub,
        "context_id": launch.context.id if launch.context else None,
        "roles": list(launch.roles),
        "message_type": str(launch.message_type),
    }


def create_app(settings: Settings, store: Store) -> Flask:
    app = Flask("blendkit_conformance")
    bk = Blendkit(app, settings=settings, store=store, migrate=False)
    base = settings.tool.base_url.rstrip("/")

    @bk.on_launch
    def launched(launch: Launch, launch_id: str) -> ResponseReturnValue:
        if launch.is_deep_linking:
            item = ResourceLinkItem(title=CONFORMANCE_ITEM_TITLE, url=f"{base}/item")
            return Blendkit.deep_linking_response(launch, [item])
        return jsonify(describe(launch, launch_id))

    @app.get("/conformance/launch/<launch_id>")
    def kept_launch(launch_id: str) -> ResponseReturnValue:
        launch = Blendkit.current_launch()
        assert launch is not None
        return jsonify(describe(launch, Blendkit.current_launch_id()))

    @app.post("/conformance/score")
    def score() -> ResponseReturnValue:
        launch = Blendkit.current_launch()
        assert launch is not None
        grades = Blendkit.grades(launch)
        maximum = float(request.form["max"])
        item = next(iter(grades.line_items(resource_id="conformance")), None)
        if item is None:
            item = grades.create_line_item(
                LineItem(label="Conformance", scoreMaximum=maximum, resourceId="conformance")
            )
        grades.post_score(
            AGSScore(
                userId=launch.user.sub,
                scoreGiven=float(request.form["score"]),
                scoreMaximum=maximum,
                activityProgress="Completed",
                gradingProgress="FullyGraded",
            ),
            line_item=item,
        )
        return jsonify({"line_item": item.id})

    @app.get("/conformance/roster")
    def roster() -> ResponseReturnValue:
        launch = Blendkit.current_launch()
        assert launch is not None
        members = Blendkit.roster(launch).members()
        return jsonify([{"user_id": m.user_id, "roles": list(m.roles)} for m in members])

    @app.get("/conformance/api")
    def api() -> ResponseReturnValue:
        # Without ``launch=`` this raises LaunchRejected (lti.launch_session_expired, 401).
        launch = Blendkit.current_launch()
        assert launch is not None
        return jsonify(describe(launch, Blendkit.current_launch_id()))

    return app


class FlaskServer:
    """The Flask conformance app on werkzeug's threaded server (real HTTP on loopback)."""

    def __init__(self) -> None:
        self._server = ThreadedServer()
        self.url = self._server.url

    def start(self, settings: Settings, store: Store) -> None:
        self._server.start(create_app(settings, store))

    def stop(self) -> None:
        self._server.stop()


def bind() -> FlaskServer:
    return FlaskServer()
