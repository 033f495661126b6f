"""Launch and role guards for Starlette endpoints (FastAPI has dependencies for the same)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from blendkit.errors import LaunchRejected
from blendkit.lti import Launch

__all__ = ["Endpoint", "launch_required", "require_role"]

Endpoint = Callable[[Request], Awaitable[Response]]


def launch_required(
    endpoint: Endpoint | None = None, *, roles: tuple[str, ...] = (), csrf: bool = True
) -> Any:
    """Decorate a Starlette endpoint: the launch is in ``request.state.lti_launch`` before it
    runs; ``roles`` ("instructor", "learner", "admin") restricts it, and ``csrf`` checks the
    token of state-changing requests."""

    def wrap(view: Endpoint) -> Endpoint:
        async def guarded(request: Request) -> Response:
            from blendkit.integrations.starlette import Blendkit

            adapter = Blendkit.of(request)
            launch = await adapter.current_launch(request)
            require_role(launch, roles)
            if csrf:
                await adapter.verify_csrf(request)
            return await view(request)

        guarded.__name__ = getattr(view, "__name__", "endpoint")
        guarded.__doc__ = view.__doc__
        return guarded

    return wrap(endpoint) if endpoint is not None else wrap


def require_role(launch: Launch, roles: tuple[str, ...]) -> None:
    """Refuse (403 ``lti.role_required``) a launch holding none of ``roles``."""
    held = {
        "instructor": launch.is_instructor,
        "learner": launch.is_learner,
        "admin": launch.is_institution_admin,
    }
    unknown = set(roles) - set(held)
    if unknown:
        raise ValueError(f"unknown role names {sorted(unknown)}; use {sorted(held)}")
    if roles and not any(held[name] for name in roles):
        raise LaunchRejected(
            f"this page is for {' or '.join(roles)} roles in the course; your launch has none "
            "of them (ask the course's instructor if that is wrong)",
            code="lti.role_required",
            http_status=403,
        )
