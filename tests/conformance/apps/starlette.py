"""The conformance app on the Starlette adapter: ``Blendkit(settings=..., store=...)`` installed
on a plain Starlette app and served by uvicorn, with the routes the suite calls, written only with
:mod:`blendkit.integrations.starlette`."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from blendkit import Settings, Store
from blendkit.integrations.starlette import Blendkit, launch_required
from blendkit.lti import AGSScore, Launch, ResourceLinkItem
from tests.conformance.apps import CONFORMANCE_ITEM_TITLE
from tests.integrations.starlette.servers import UvicornServer


def describe(launch: Launch, launch_id: str | None) -> dict[str, Any]:
    """The JSON every conformance app answers for a launch."""
    return {
        "launch_id": launch_id,
        "sub": launch.user.sub,
        "context_id": launch.context.id if launch.context else None,
        "roles": list(launch.roles),
        "message_type": str(launch.message_type),
    }


def create_app(settings: Settings, store: Store) -> Starlette:
    bk = Blendkit(settings=settings, store=store)
    base = settings.tool.base_url.rstrip("/")

    @bk.on_launch
    async def launched(request: Request, launch: Launch, launch_id: str) -> Response:
        if launch.is_deep_linking:
            item = ResourceLinkItem(title=CONFORMANCE_ITEM_TITLE, url=f"{base}/item")
            return await bk.deep_linking_response(request, launch, [item])
        return JSONResponse(describe(launch, launch_id))

    async def kept_launch(request: Request) -> Response:
        launch = await bk.current_launch(request)
        return JSONResponse(describe(launch, await bk.launch_id(request)))

    @launch_required(csrf=False)  # the suite posts like a script in the frame, with no token
    async def score(request: Request) -> Response:
        launch = request.state.lti_launch
        form = await request.form()
        maximum = float(str(form["max"]))
        grades = await bk.grades(launch)
        item = await grades.line_item_for("conformance", label="Conformance", maximum=maximum)
        await grades.post_score(
            AGSScore(
                user_id=launch.user.sub,
                score_given=float(str(form["score"])),
                score_maximum=maximum,
                activity_progress="Completed",
                grading_progress="FullyGraded",
            ),
            line_item=item,
        )
        return JSONResponse({"line_item": item.id})

    @launch_required
    async def roster(request: Request) -> Response:
        service = await bk.roster(request.state.lti_launch)
        members = [{"user_id": m.user_id, "roles": list(m.roles)} async for m in service.members()]
        return JSONResponse(members)

    async def api(request: Request) -> Response:
        # Without ``launch=`` this raises LaunchRejected (lti.launch_session_expired, 401).
        launch = await bk.current_launch(request)
        return JSONResponse(describe(launch, await bk.launch_id(request)))

    app = Starlette(
        routes=[
            Route("/conformance/launch/{launch_id}", kept_launch),
            Route("/conformance/score", score, methods=["POST"]),
            Route("/conformance/roster", roster),
            Route("/conformance/api", api),
        ],
        lifespan=bk.lifespan,
    )
    bk.install(app)
    return app


class StarletteServer:
    """The Starlette conformance app under uvicorn (:class:`UvicornServer`)."""

    def __init__(self) -> None:
        self._server = UvicornServer()
        self.url = self._server.url

    def start(self, settings: Settings, store: Store) -> None:
        self._server.start(create_app(settings, store), access_log=False)

    def stop(self) -> None:
        self._server.stop()


def bind() -> StarletteServer:
    return StarletteServer()
