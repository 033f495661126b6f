"""Decorators for a project's own views: a launch required (optionally a role), one store
transaction, and how blendkit errors answer (JSON or the HTML page)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, TypeVar, cast, overload

from django.http import HttpRequest as DjangoRequest

from blendkit.errors import LaunchRejected
from blendkit.integrations.django._state import get_runtime
from blendkit.integrations.django._translate import mark_errors
from blendkit.integrations.django.middleware import current_launch
from blendkit.lti import Launch

__all__ = ["ROLE_CHECKS", "html_errors", "in_one_transaction", "json_errors", "lti_launch_required"]

_View = TypeVar("_View", bound=Callable[..., Any])

ROLE_CHECKS: dict[str, Callable[[Launch], bool]] = {
    "learner": lambda launch: launch.is_learner,
    "instructor": lambda launch: launch.is_instructor,
    "teaching_assistant": lambda launch: launch.is_teaching_assistant,
    "content_developer": lambda launch: launch.is_content_developer,
    "mentor": lambda launch: launch.is_mentor,
    "institution_admin": lambda launch: launch.is_institution_admin,
}
"""The role names :func:`lti_launch_required` accepts, each a test on the launch."""


def json_errors(view: _View) -> _View:
    """blendkit errors raised by ``view`` answer ``{"error": code, "message": …}`` whatever the
    client accepts (an API endpoint)."""
    return cast(_View, mark_errors("json")(view))


def html_errors(view: _View) -> _View:
    """blendkit errors raised by ``view`` answer with the refusal page (a page in the frame)."""
    return cast(_View, mark_errors("html")(view))


def _role_checker(roles: Iterable[str]) -> Callable[[Launch], bool]:
    wanted = tuple(roles)
    unknown = sorted(set(wanted) - ROLE_CHECKS.keys())
    if unknown:
        raise ValueError(f"unknown role(s) {unknown}: use some of {sorted(ROLE_CHECKS)}")
    return lambda launch: not wanted or any(ROLE_CHECKS[role](launch) for role in wanted)


@overload
def lti_launch_required(view: _View, /) -> _View: ...
@overload
def lti_launch_required(*, roles: Iterable[str] = ()) -> Callable[[_View], _View]: ...
def lti_launch_required(
    view: _View | None = None, /, *, roles: Iterable[str] = ()
) -> _View | Callable[[_View], _View]:
    """The view runs only for a request that names a kept launch (``launch`` parameter or
    ``X-Blendkit-Launch`` header) and, with ``roles``, only for one of those roles
    (``instructor``, ``learner`` …: :data:`ROLE_CHECKS`). Inside, ``request.lti_launch`` is
    the :class:`~blendkit.lti.Launch` and ``request.lti_tenant`` its
    :class:`~blendkit.lti.Tenant` (the deployment: the boundary of an institution's data).

    No launch: 401 ``lti.launch_session_expired``; another role: 403 ``lti.role_required``.
    """
    allowed = _role_checker(roles)
    wanted = ", ".join(roles)

    def decorate(inner: _View) -> _View:
        @functools.wraps(inner)
        def wrapper(request: DjangoRequest, *args: Any, **kwargs: Any) -> Any:
            launch = current_launch(request, required=True)
            assert launch is not None
            if not allowed(launch):
                raise LaunchRejected(
                    f"this page is for the course's {wanted} role(s); your role in the course "
                    "does not include one of them. Open it with such a role in the LMS",
                    code="lti.role_required",
                    http_status=403,
                )
            request.lti_launch = launch  # type: ignore[attr-defined]
            request.lti_tenant = launch.tenant  # type: ignore[attr-defined]
            return inner(request, *args, **kwargs)

        return cast(_View, wrapper)

    return decorate(view) if view is not None else decorate


def in_one_transaction(view: _View) -> _View:
    """Run a view in one blendkit store transaction (:meth:`blendkit.Store.unit_of_work`):
    every blendkit service it calls joins it, and a view that raises leaves no partial writes."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with get_runtime().store.unit_of_work():
            return view(*args, **kwargs)

    return cast(_View, wrapper)
