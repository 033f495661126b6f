"""FastAPI dependencies over the Starlette adapter (:mod:`blendkit.integrations.starlette`).

    bk = Blendkit(settings=settings)
    app = FastAPI(lifespan=bk.lifespan)
    bk.install(app)

    @app.get("/course")
    async def course(launch: LtiLaunch) -> dict[str, str]: ...

    @app.post("/quiz", dependencies=[CsrfProtected])
    async def quiz(launch: LearnerLaunch, grades: Grades) -> ...: ...

Every dependency finds the adapter on ``request.app.state`` (``bk.install`` puts it there) and
reads the store in the thread pool. A missing or expired launch is ``lti.launch_session_expired``
(401), a launch without the role ``lti.role_required`` (403); the adapter's handlers answer them
as JSON on the app's JSON routes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

try:
    from fastapi import Depends, Request
except ImportError as missing:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "blendkit.integrations.fastapi needs FastAPI: pip install 'blendkit[fastapi]'"
    ) from missing

from blendkit.integrations.starlette import Blendkit, require_role
from blendkit.lti import AsyncAssignmentGradeService, AsyncNamesRoleService, Launch

__all__ = [
    "CsrfProtected",
    "Grades",
    "InstructorLaunch",
    "LearnerLaunch",
    "LtiLaunch",
    "Roster",
    "adapter",
    "csrf_protect",
    "current_launch",
    "grades",
    "launch_with_role",
    "roster",
]


def adapter(request: Request) -> Blendkit:
    """The :class:`Blendkit` installed on the app."""
    return Blendkit.of(request)


async def current_launch(request: Request) -> Launch:
    """The launch the request names (``launch`` query/form parameter or header)."""
    return await Blendkit.of(request).current_launch(request)


LtiLaunch = Annotated[Launch, Depends(current_launch)]
"""A parameter receiving the request's launch."""


def launch_with_role(*roles: str) -> Callable[[Request], Awaitable[Launch]]:
    """A dependency for the request's launch, refused unless it holds one of ``roles``
    ("instructor", "learner", "admin")."""
    require_role_names = tuple(roles)

    async def launch_in_role(request: Request) -> Launch:
        launch = await Blendkit.of(request).current_launch(request)
        require_role(launch, require_role_names)
        return launch

    return launch_in_role


InstructorLaunch = Annotated[Launch, Depends(launch_with_role("instructor"))]
"""The request's launch, 403 unless an instructor's."""
LearnerLaunch = Annotated[Launch, Depends(launch_with_role("learner"))]
"""The request's launch, 403 unless a learner's."""


async def grades(request: Request, launch: LtiLaunch) -> AsyncAssignmentGradeService:
    """Assignment and Grade Services of the launch's context (``lti.no_ags`` without them)."""
    return await Blendkit.of(request).grades(launch)


async def roster(request: Request, launch: LtiLaunch) -> AsyncNamesRoleService:
    """Names and Role Provisioning of the launch's context (``lti.no_nrps`` without it)."""
    return await Blendkit.of(request).roster(launch)


Grades = Annotated[AsyncAssignmentGradeService, Depends(grades)]
Roster = Annotated[AsyncNamesRoleService, Depends(roster)]


async def csrf_protect(request: Request) -> None:
    """Refuse a state-changing request without the CSRF token of its launch (403
    ``app.csrf_failed``): form field ``csrf`` or header ``X-CSRF-Token``."""
    await Blendkit.of(request).verify_csrf(request)


CsrfProtected = Depends(csrf_protect)
"""``dependencies=[CsrfProtected]`` on a route, or on a router for all of its routes."""
