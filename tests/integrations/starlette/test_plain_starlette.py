"""A plain Starlette app (no FastAPI): ``create_app``, ``launch_required`` and its role and CSRF
checks, ``request.state.lti_launch``."""

from __future__ import annotations

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from blendkit import Settings, Store
from blendkit.integrations.starlette import Blendkit, create_app, launch_required
from tests.integrations.starlette.conftest import INSTRUCTOR, LEARNER, a_launch

pytestmark = pytest.mark.anyio


@launch_required(roles=("instructor",))
async def teach(request: Request) -> Response:
    return JSONResponse({"sub": request.state.lti_launch.user.sub})


@launch_required
async def save(request: Request) -> Response:
    return JSONResponse({"saved_for": request.state.lti_launch.user.sub})


async def test_launch_required_sets_the_launch_and_checks_roles_and_csrf(
    sqlite_store: Store,
) -> None:
    settings = Settings(tool={"base_url": "http://tool.test", "secret_key": "plain-secret"})
    bk = Blendkit(settings=settings, store=sqlite_store)
    app = create_app(bk, routes=[Route("/teach", teach), Route("/save", save, methods=["POST"])])
    async with app.router.lifespan_context(app):
        teacher = bk.runtime.launches.save(a_launch(INSTRUCTOR, sub="teacher-9"))
        learner = bk.runtime.launches.save(a_launch(LEARNER, sub="learner-9"))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://tool.test") as client:
            taught = await client.get("/teach", params={"launch": teacher})
            refused = await client.get("/teach", params={"launch": learner})
            missing = await client.get("/teach")
            forged = await client.post("/save", data={"launch": learner, "csrf": "x"})
            saved = await client.post(
                "/save", data={"launch": learner, "csrf": bk.csrf_token(learner)}
            )
            jwks = await client.get("/lti/jwks")
    assert taught.json() == {"sub": "teacher-9"}
    assert (refused.status_code, refused.json()["error"]) == (403, "lti.role_required")
    assert (missing.status_code, missing.json()["error"]) == (401, "lti.launch_session_expired")
    assert (forged.status_code, forged.json()["error"]) == (403, "app.csrf_failed")
    assert saved.json() == {"saved_for": "learner-9"}
    assert jwks.status_code == 200


def test_unknown_role_names_are_a_programming_error() -> None:
    from blendkit.integrations.starlette import require_role

    with pytest.raises(ValueError, match="unknown role names"):
        require_role(a_launch(LEARNER), ("teacher",))
