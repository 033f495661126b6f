"""A small FastAPI tool on blendkit's Starlette adapter: launch, course page, a quiz graded
into the LMS gradebook through AGS, the roster for instructors, and deep linking.

    uvicorn --factory blendkit_examples.fastapi_app:create_app --port 8000

Settings come from ``BLENDKIT_CONFIG`` and ``BLENDKIT_*`` variables, as for every blendkit tool.
"""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from blendkit import Settings, Store
from blendkit.integrations.fastapi import (
    CsrfProtected,
    Grades,
    InstructorLaunch,
    LearnerLaunch,
    LtiLaunch,
    Roster,
)
from blendkit.integrations.starlette import CSRF_FIELD, Blendkit
from blendkit.lti import AGSScore, Launch, ResourceLinkItem

__all__ = ["QUIZ", "create_app"]

QUIZ: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("Which organelle makes most of a cell's ATP?", ("Nucleus", "Mitochondrion", "Ribosome"), "1"),
    ("What surrounds every cell?", ("Cell wall", "Membrane", "Capsule"), "1"),
    ("Where is DNA kept in an animal cell?", ("Nucleus", "Golgi body", "Vacuole"), "0"),
)
"""(question, choices, index of the right choice) — the readiness quiz."""
QUIZ_RESOURCE = "readiness-quiz"
_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; frame-ancestors *; form-action 'self' https:",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title></head><body>{body}</body></html>"
    )
    return HTMLResponse(html, status_code=status, headers=_HEADERS)


def _hidden(bk: Blendkit, launch_id: str) -> str:
    """The launch id and its CSRF token, on every form of the frame."""
    return (
        f"<input type='hidden' name='launch' value='{escape(launch_id, quote=True)}'>"
        f"<input type='hidden' name='{CSRF_FIELD}' value='{bk.csrf_token(launch_id)}'>"
    )


def _role(launch: Launch) -> str:
    return "Instructor" if launch.is_instructor else "Learner" if launch.is_learner else "Other"


def create_app(
    settings: Settings | None = None, store: Store | None = None, **adapter: Any
) -> FastAPI:
    """The tool: ``settings`` and ``store`` default to ``load_settings()`` and its database;
    ``adapter`` passes further :class:`Blendkit` options (``async_client=``, ``fence=`` …)."""
    bk = Blendkit(settings=settings, store=store, **adapter)
    app = FastAPI(title="blendkit FastAPI example", lifespan=bk.lifespan, docs_url=None)
    bk.install(app)

    @bk.on_launch
    async def launched(request: Request, launch: Launch, launch_id: str) -> Response:
        if launch.is_deep_linking:  # the instructor adds the quiz to the course
            base = bk.runtime.settings.tool.base_url.rstrip("/")
            item = ResourceLinkItem(title="Readiness quiz", url=f"{base}/lti/launch")
            return await bk.deep_linking_response(request, launch, [item])
        return RedirectResponse(f"/course?launch={launch_id}", status_code=303)

    @app.get("/course", response_class=HTMLResponse)
    async def course(request: Request, launch: LtiLaunch) -> HTMLResponse:
        launch_id = await Blendkit.launch_id(request) or ""
        title = launch.context.title if launch.context and launch.context.title else "(course)"
        body = (
            f"<h1>{escape(title)}</h1><p>Signed in as {escape(launch.user.sub)} "
            f"(<strong class='role'>{_role(launch)}</strong>).</p>"
        )
        if launch.is_instructor:
            body += f"<p><a href='/roster?launch={escape(launch_id)}'>Course roster</a></p>"
        elif launch.ags is not None:
            questions = "".join(
                f"<fieldset><legend>{escape(q)}</legend>"
                + "".join(
                    f"<label><input type='radio' name='q{n}' value='{i}'>{escape(c)}</label>"
                    for i, c in enumerate(choices)
                )
                + "</fieldset>"
                for n, (q, choices, _) in enumerate(QUIZ)
            )
            body += (
                f"<form method='post' action='/quiz'>{_hidden(bk, launch_id)}{questions}"
                "<button>Submit</button></form>"
            )
        return _page(title, body)

    @app.post("/quiz", dependencies=[CsrfProtected], response_class=HTMLResponse)
    async def quiz(request: Request, launch: LearnerLaunch, grades: Grades) -> HTMLResponse:
        form = await request.form()
        right = sum(form.get(f"q{n}") == answer for n, (_, _, answer) in enumerate(QUIZ))
        item = await grades.line_item_for(
            QUIZ_RESOURCE, label="Readiness quiz", maximum=float(len(QUIZ))
        )
        await grades.post_score(
            AGSScore(
                user_id=launch.user.sub,
                score_given=right,
                score_maximum=len(QUIZ),
                activity_progress="Completed",
                grading_progress="FullyGraded",
            ),
            line_item=item,
        )
        return _page(
            "Quiz sent", f"<p class='score'>Score {right}/{len(QUIZ)} sent to the LMS.</p>"
        )

    @app.get("/roster", response_class=HTMLResponse)
    async def roster_page(launch: InstructorLaunch, roster: Roster) -> HTMLResponse:
        rows = "".join(
            [
                f"<li>{escape(m.name or m.user_id)} ({escape(m.user_id)})</li>"
                async for m in roster.members()
            ]
        )
        return _page("Roster", f"<h1>Roster</h1><ul class='roster'>{rows}</ul>")

    @app.get("/api/me")
    async def me(launch: LtiLaunch) -> JSONResponse:
        """A JSON route of the host app: blendkit's errors answer it as JSON."""
        data: dict[str, Any] = {
            "sub": launch.user.sub,
            "role": _role(launch),
            "context_id": launch.context.id if launch.context else None,
            # The boundary of an institution's data: scope anything you store by it.
            "tenant": launch.tenant.key,
        }
        return JSONResponse(data, headers={"Cache-Control": "no-store"})

    return app
