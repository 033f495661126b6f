"""A FastAPI app on the Starlette adapter, driven in-process through ``httpx.ASGITransport``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from pydantic import BaseModel
from sqlalchemy import text

from blendkit import Settings, Store
from blendkit.integrations.fastapi import CsrfProtected, InstructorLaunch, LtiLaunch
from blendkit.integrations.starlette import Blendkit
from blendkit.lti import Launch

METRICS_TOKEN = "starlette-metrics-token-0123456789"


class Note(BaseModel):
    text: str


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def a_launch(*roles: str, sub: str = "learner-1") -> Launch:
    return Launch.model_validate(
        {
            "message_type": "LtiResourceLinkRequest",
            "version": "1.3.0",
            "issuer": "https://lms.example.edu",
            "client_id": "tool-1",
            "deployment_id": "dep-1",
            "user": {"sub": sub},
            "roles": list(roles),
            "target_link_uri": "https://tool.example.edu/lti/launch",
        }
    )


LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"


def build_app(store: Store, **sections: Any) -> tuple[FastAPI, Blendkit]:
    """The adapter on ``store`` with a few host routes (JSON, role-restricted, a CSRF-protected
    form, a page that reads the database, a body reader)."""
    tool = {"base_url": "http://tool.test", "secret_key": "starlette-test-secret"}
    tool.update(sections.pop("tool", {}))
    settings = Settings(database={"url": "sqlite://"}, tool=tool, **sections)
    bk = Blendkit(settings=settings, store=store)
    app = FastAPI(lifespan=bk.lifespan)
    bk.install(app)

    @app.get("/api/me")
    async def me(launch: LtiLaunch) -> dict[str, str]:
        return {"sub": launch.user.sub, "tenant": launch.tenant.key}

    @app.get("/api/teach")
    async def teach(launch: InstructorLaunch) -> dict[str, str]:
        return {"sub": launch.user.sub}

    @app.post("/api/answer", dependencies=[CsrfProtected])
    async def answer(launch: LtiLaunch) -> dict[str, str]:
        return {"saved_for": launch.user.sub}

    @app.get("/page")
    async def page() -> dict[str, int]:
        with store.engine.connect() as conn:
            return {"one": int(conn.execute(text("SELECT 1")).scalar_one())}

    @app.post("/api/notes")
    async def notes(note: Note) -> dict[str, int]:
        return {"length": len(note.text)}

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"received": len(await request.body())}

    return app, bk


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app started (its lifespan entered) and a client talking to it in-process."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://tool.test") as client:
            yield client


AppBuilder = Callable[..., tuple[FastAPI, Blendkit]]
