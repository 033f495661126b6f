"""Routes of the demo LMS: the course page with its iframe, OIDC auth, keys, deep-link return."""

from __future__ import annotations

import base64
import html
import io
import json
import typing as t

from flask import Blueprint, Response, jsonify, redirect, request, send_file
from flask.typing import ResponseReturnValue

from blendkit.lti import is_time_zone
from blendkit_examples.flask_app.demo_recording import recap_audio

if t.TYPE_CHECKING:
    from blendkit_examples.flask_app.demo_lms import DemoLMS

_AUTOSUBMIT = 'document.getElementById("launch").submit();\n'


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>"
        '<link rel="stylesheet" href="/static/app.css"></head><body>'
        f"{body}</body></html>"
    )


def build_blueprint(lms: DemoLMS) -> Blueprint:
    from blendkit_examples.flask_app.demo_lms import CLIENT_ID, CONTEXT_TITLE, PEOPLE

    bp = Blueprint("demo_lms", __name__, url_prefix="/demo-lms")
    people = {p.sub: p for p in PEOPLE}

    def launcher(person_sub: str, label: str, message: str = "resource", item: str = "") -> str:
        placed = (
            f'<input type="hidden" name="item" value="{html.escape(item, quote=True)}">'
            if item
            else ""
        )
        return (
            f'<form method="get" action="/demo-lms/launch" target="tool">'
            f'<input type="hidden" name="user" value="{person_sub}">'
            f'<input type="hidden" name="message" value="{message}">{placed}'
            f'<button type="submit" data-user="{person_sub}" data-message="{message}" '
            f'data-item="{html.escape(item, quote=True)}">{html.escape(label)}</button></form>'
        )

    @bp.get("")
    def course_page() -> ResponseReturnValue:
        learners = "".join(
            launcher(p.sub, f"{p.name} ({p.zone if is_time_zone(p.zone) else 'no time zone'})")
            for p in PEOPLE
            if p.role == "learner"
        )
        staff = "".join(
            launcher(p.sub, f"{p.name} ({p.role})") for p in PEOPLE if p.role != "learner"
        )
        teacher = next(p for p in PEOPLE if p.role == "instructor")
        picker = launcher(teacher.sub, "Add an activity (deep linking)", "deeplink")
        first = next(p for p in PEOPLE if p.role == "learner")
        placed = "".join(
            launcher(first.sub, f"{title} (as {first.name})", item=item)
            for title, item in lms.placed()
        )
        if placed:
            placed = (
                '<h2 id="placed">Placed activities</h2>'
                f'<div role="group" aria-labelledby="placed">{placed}</div>'
            )
        body = (
            '<a class="skip" href="#main">Skip to the tool</a>'
            '<div class="lms"><nav class="lms-side" aria-label="Demo LMS">'
            f"<h1>Demo LMS · {html.escape(CONTEXT_TITLE)}</h1>"
            "<p>Each button performs a real, signed LTI 1.3 launch into the tool below.</p>"
            '<h2 id="as-learner">Open as a learner</h2>'
            f'<div role="group" aria-labelledby="as-learner">{learners}</div>'
            '<h2 id="as-staff">Open as staff</h2>'
            f'<div role="group" aria-labelledby="as-staff">{staff}</div>'
            '<h2 id="as-dl">Place content</h2>'
            f'<div role="group" aria-labelledby="as-dl">{picker}</div>{placed}'
            '<p><a href="/demo-mail">Mail catcher: the notifications sent</a></p>'
            "</nav>"
            '<main id="main"><iframe class="lms-frame" id="tool" name="tool" '
            'title="blendkit tool" src="/demo-lms/welcome"></iframe></main></div>'
        )
        return _page("Demo LMS", body)

    @bp.get("/welcome")
    def welcome() -> ResponseReturnValue:
        return _page(
            "Welcome",
            "<main><h1>Pick someone on the left</h1><p>The tool opens here, inside the LMS "
            "frame, exactly as it would in Moodle or Canvas.</p></main>",
        )

    @bp.get("/autosubmit.js")
    def autosubmit() -> ResponseReturnValue:
        return Response(_AUTOSUBMIT, content_type="text/javascript; charset=utf-8")

    @bp.get("/launch")
    def launch() -> ResponseReturnValue:
        person = people.get(request.args.get("user", ""))
        message = request.args.get("message", "resource")
        item = request.args.get("item") or None
        if person is None or message not in ("resource", "deeplink"):
            return Response("unknown demo user or message type", status=400)
        if item is not None and item not in {i for _, i in lms.placed()}:
            return Response("that activity was not placed in the demo course", status=400)
        from lti1p3platform.oidc_login import OIDCLoginAbstract

        hint = lms.hint(person, message, item)

        class Login(OIDCLoginAbstract):  # type: ignore[misc]
            def set_lti_message_hint(self, **kwargs: t.Any) -> None:
                self._lti_message_hint = kwargs["hint"]

            def get_redirect(self, url: str) -> t.Any:
                return redirect(url)

        login = Login(_request(), lms._config())
        login.set_lti_message_hint(hint=hint)
        answer: ResponseReturnValue = login.initiate_login(person.sub)
        return answer

    @bp.route("/auth", methods=["GET", "POST"])
    def auth() -> ResponseReturnValue:
        params = request.values
        # lti1p3platform does not check redirect_uri: only the registered launch URL may be used.
        if params.get("redirect_uri") != lms.launch_url:
            return Response("redirect_uri is not the tool's registered launch URL", status=400)
        if params.get("response_type") != "id_token" or params.get("scope") != "openid":
            return Response("bad OIDC parameters (response_type, scope)", status=400)
        if params.get("client_id") != CLIENT_ID:
            return Response("unknown client_id", status=400)
        try:
            hint = json.loads(base64.urlsafe_b64decode(params.get("lti_message_hint", "")))
        except ValueError:
            return Response("lti_message_hint is malformed", status=400)
        person = people.get(hint.get("user", ""))
        if person is None or params.get("login_hint") != person.sub:
            return Response("login_hint does not match the message hint", status=400)
        return lms.launch_form(person, hint.get("message", "resource"), params, hint.get("item"))

    @bp.get("/jwks")
    def jwks() -> ResponseReturnValue:
        return jsonify(lms._config().get_jwks())

    @bp.post("/deep-link-return")
    def deep_link_return() -> ResponseReturnValue:
        try:
            items = lms._config().validate_deeplinking_resp(request.form.to_dict())
        except Exception as exc:  # the LMS refuses anything it cannot verify
            return Response(
                _page(
                    "Refused",
                    "<main><h1>The LMS refused the content</h1>"
                    f"<p>{html.escape(str(exc))}</p></main>",
                ),
                status=400,
            )
        lms.received.extend(items)
        listing = "".join(
            f"<li>{html.escape(str(i.get('title', '?')))} "
            f"(<code>{html.escape(json.dumps(i.get('custom', {})))}</code>)</li>"
            for i in items
        )
        return _page(
            "Content added",
            f"<main><h1>The LMS added {len(items)} item(s)</h1><ul class='received'>{listing}</ul>"
            "<p>They appear under <em>Placed activities</em> in the LMS: "
            '<a href="/demo-lms" target="_top">reload the course page</a> and launch one to open '
            "that item directly.</p></main>",
        )

    @bp.get("/media/lecture.wav")
    def media() -> ResponseReturnValue:
        return Response(lms.audio(), content_type="audio/wav")

    @bp.get("/media/recap.wav")
    def recap_media() -> ResponseReturnValue:
        # conditional: answers Range requests, without which a browser cannot seek in it
        return send_file(io.BytesIO(recap_audio()), mimetype="audio/wav", conditional=True)

    @bp.get("/meet/j/<meeting_id>")
    def meeting(meeting_id: str) -> ResponseReturnValue:
        return _page(
            "Meeting",
            f"<main><h1>Fake meeting {html.escape(meeting_id)}</h1><p>In production this is the "
            "Zoom or Teams join page, opened with the learner's personal link.</p></main>",
        )

    @bp.get("/meet/rec/play/<file_id>")
    def recording(file_id: str) -> ResponseReturnValue:
        return _page(
            "Recording",
            f"<main><h1>Recording {html.escape(file_id)}</h1><audio controls "
            f'src="/demo-lms/media/lecture.wav"></audio></main>',
        )

    return bp


def _request() -> t.Any:
    from lti1p3platform.request import Request

    class Req(Request):  # type: ignore[misc]
        def build_metadata(self, req: t.Any) -> t.Any:
            return {
                "method": req.method,
                "form_data": req.form.to_dict(),
                "get_data": req.args.to_dict(),
                "headers": dict(req.headers),
                "content_type": req.content_type,
                "path": req.path,
                "json": None,
            }

    return Req(request)
