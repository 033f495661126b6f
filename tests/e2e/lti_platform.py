"""An independent LTI 1.3 platform for end-to-end tests, built on PyPI ``lti1p3platform``.

The package implements the platform side (OIDC login initiation, id_token signing, access tokens
with client-assertion validation, AGS and NRPS services, deep-linking response validation); this
module only supplies the Flask routes and in-memory records around it. It never imports blendkit,
so a launch that blendkit accepts was produced by someone else's code.
"""

from __future__ import annotations

import base64
import html
import json
import threading
import typing as t
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlparse

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, Response, jsonify, redirect, request
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.membership import Context
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import Request, TRequest
from lti1p3platform.service_connector import (
    AssignmentsGradesService,
    NamesRoleProvisioningService,
    TPage,
)
from werkzeug.serving import BaseWSGIServer, make_server

ROLE_URIS = {
    "learner": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
    "instructor": [
        "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor",
        # Canvas sends this system role to everyone, teachers included.
        "http://purl.imsglobal.org/vocab/lis/v2/system/person#User",
    ],
}


@dataclass
class PlatformRecords:
    """What the tool did to the platform, for assertions."""

    scores: list[dict[str, t.Any]] = field(default_factory=list)
    lineitems: dict[str, dict[str, t.Any]] = field(default_factory=dict)
    content_items: list[dict[str, t.Any]] = field(default_factory=list)
    deep_link_claims: list[dict[str, t.Any]] = field(default_factory=list)
    tokens_issued: int = 0
    members: list[dict[str, t.Any]] = field(default_factory=list)
    nrps_pages_served: int = 0


def _pem_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


class _FlaskRequest(Request):
    def build_metadata(self, req: t.Any) -> TRequest:
        return {
            "method": req.method,
            "form_data": req.form.to_dict(),
            "get_data": req.args.to_dict(),
            "headers": dict(req.headers),
            "content_type": req.content_type,
            "path": req.path,
            "json": req.get_json(silent=True),
        }


class _PagedFlaskRequest(_FlaskRequest):
    """lti1p3platform adds 1 to ``page`` as given: hand it numbers, not query strings.

    ``default_limit`` pages a roster the tool asked for whole, as real platforms do (Canvas
    answers 10 members a page unless told otherwise).
    """

    def __init__(self, request: t.Any, default_limit: int | None = None) -> None:
        self._default_limit = default_limit
        super().__init__(request)

    def build_metadata(self, req: t.Any) -> TRequest:
        meta = super().build_metadata(req)
        args = dict(meta["get_data"])
        if self._default_limit is not None:
            args.setdefault("limit", self._default_limit)
        for key in ("page", "limit"):
            if key in args:
                args[key] = int(args[key])
        meta["get_data"] = args
        return meta


class LTIPlatform:
    """A platform on 127.0.0.1 with one registered tool, one course and a small roster."""

    def __init__(
        self,
        *,
        client_id: str = "blendkit-e2e",
        deployment_id: str = "dep-1",
        host: str = "127.0.0.1",
        nrps_page_size: int | None = None,
    ) -> None:
        self.client_id = client_id
        self.nrps_page_size = nrps_page_size
        self.deployment_id = deployment_id
        self.private_pem, self.public_pem = _pem_pair()
        self.records = PlatformRecords()
        self.tool_login_url = ""
        self.tool_launch_url = ""
        self.tool_jwks_url = ""
        self.context = Context(id="course-101", label="BIO101", title="Biology 101: Cells")
        self.records.members = [
            {
                "user_id": f"student-{i}",
                "roles": ROLE_URIS["learner"],
                "name": f"Student {i}",
                "email": f"student{i}@example.edu",
                "status": "Active",
            }
            for i in range(1, 8)
        ] + [
            {
                "user_id": "teacher-1",
                "roles": ROLE_URIS["instructor"],
                "name": "Dr Teacher",
                "email": "teacher@example.edu",
                "status": "Active",
            }
        ]
        self.app = self._build_app()
        self._server: BaseWSGIServer = make_server("127.0.0.1", 0, self.app, threaded=True)
        # ``host="localhost"`` puts the platform on another site than a tool on 127.0.0.1, as a
        # real LMS and tool are: the browser then treats the tool frame as third-party.
        self.base_url = f"http://{host}:{self._server.server_port}"
        self.issuer = self.base_url
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # -- lifecycle ------------------------------------------------------------------------------

    def configure_tool(self, tool_base_url: str) -> None:
        self.tool_login_url = f"{tool_base_url}/lti/login"
        self.tool_launch_url = f"{tool_base_url}/lti/launch"
        self.tool_jwks_url = f"{tool_base_url}/lti/jwks"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    @property
    def auth_login_url(self) -> str:
        return f"{self.base_url}/auth"

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/token"

    @property
    def jwks_url(self) -> str:
        return f"{self.base_url}/jwks"

    def launch_url(
        self,
        *,
        user: str,
        role: str,
        message: str = "resource",
        storage: bool = False,
        dl_data: str | None = None,
    ) -> str:
        url = f"{self.base_url}/launch?user={user}&role={role}&message={message}"
        if dl_data:
            url += f"&dl_data={dl_data}"
        return url + "&storage=1" if storage else url

    def course_page_url(self, *, user: str, role: str, storage: bool) -> str:
        """A platform page framing the tool, as an LMS course page does."""
        flag = "1" if storage else "0"
        return f"{self.base_url}/course-page?user={user}&role={role}&storage={flag}"

    # -- lti1p3platform glue --------------------------------------------------------------------

    def _registration(self) -> Registration:
        reg = Registration()
        reg.set_iss(self.issuer)
        reg.set_client_id(self.client_id)
        reg.set_deployment_id(self.deployment_id)
        reg.set_oidc_login_url(self.tool_login_url)
        reg.set_launch_url(self.tool_launch_url)
        reg.set_deeplink_launch_url(self.tool_launch_url)
        reg.set_tool_key_set_url(self.tool_jwks_url)
        reg.set_platform_public_key(self.public_pem)
        reg.set_platform_private_key(self.private_pem)
        return reg

    def _config(self) -> LTI1P3PlatformConfAbstract:
        platform = self

        class Config(LTI1P3PlatformConfAbstract):
            def init_platform_config(self, **kwargs: t.Any) -> None:
                return None

            def get_registration_by_params(self, **kwargs: t.Any) -> Registration:
                return platform._registration()

        return Config()

    def _build_app(self) -> Flask:
        app = Flask("lti-platform")
        platform = self

        @app.get("/jwks")
        def jwks() -> Response:
            return jsonify(platform._config_with_registration().get_jwks())

        @app.get("/launch")
        def launch() -> t.Any:
            hint = base64.urlsafe_b64encode(
                json.dumps(
                    {
                        "user": request.args["user"],
                        "role": request.args["role"],
                        "message": request.args.get("message", "resource"),
                        "dl_data": request.args.get("dl_data"),
                    }
                ).encode()
            ).decode()

            class Login(OIDCLoginAbstract):
                def set_lti_message_hint(self, **kwargs: t.Any) -> None:
                    self._lti_message_hint = kwargs["hint"]

                def get_redirect(self, url: str) -> t.Any:
                    return redirect(url)

            login = Login(_FlaskRequest(request), platform._config())
            login.set_lti_message_hint(hint=hint)
            answer = login.initiate_login(request.args["user"])
            if request.args.get("storage") == "1":
                # LTI Platform Storage: the course page (the frame's parent) keeps the values.
                answer.location = answer.location + "&lti_storage_target=_parent"
            return answer

        @app.get("/course-page")
        def course_page() -> t.Any:
            frame_src = platform.launch_url(
                user=request.args["user"],
                role=request.args["role"],
                storage=request.args.get("storage") == "1",
            )
            tool_origin = launch_origin(platform.tool_launch_url)
            # The platform side of LTI Platform Storage (lti.put_data / lti.get_data).
            script = (
                "const store = {}; const toolOrigin = " + json.dumps(tool_origin) + ";"
                "window.addEventListener('message', (e) => {"
                " if (e.origin !== toolOrigin || !e.data) return;"
                " const d = e.data; const key = e.origin + '|' + d.key;"
                " if (d.subject === 'lti.put_data') { store[key] = d.value;"
                "  e.source.postMessage({subject: 'lti.put_data.response',"
                "   message_id: d.message_id,"
                "   key: d.key, value: d.value}, e.origin); }"
                " if (d.subject === 'lti.get_data') {"
                "  e.source.postMessage({subject: 'lti.get_data.response',"
                "   message_id: d.message_id,"
                "   key: d.key, value: store[key]}, e.origin); }"
                "});"
            )
            return (
                "<!doctype html><html><head><title>Course page</title></head><body>"
                "<h1>LMS course page</h1>"
                f"<script>{script}</script>"
                f'<iframe id="tool" name="tool" src="{html.escape(frame_src, quote=True)}" '
                'width="900" height="600"></iframe></body></html>'
            )

        @app.route("/auth", methods=["GET", "POST"])
        def auth() -> t.Any:
            params = request.values
            # lti1p3platform does not check redirect_uri itself: only the registered launch URL.
            if params.get("redirect_uri") != platform.tool_launch_url:
                return Response("redirect_uri is not registered", status=400)
            if params.get("response_type") != "id_token" or params.get("scope") != "openid":
                return Response("bad OIDC parameters", status=400)
            hint = json.loads(base64.urlsafe_b64decode(params["lti_message_hint"]))
            if params.get("login_hint") != hint["user"]:
                return Response("login_hint does not match", status=400)

            class Launch(LTIAdvantageMessageLaunchAbstract):
                def prepare_launch(self, preflight_response: dict[str, t.Any]) -> None:
                    user = hint["user"]
                    self.set_user_data(
                        user,
                        ROLE_URIS[hint["role"]],
                        full_name=user.replace("-", " ").title(),
                        email_address=f"{user}@example.edu",
                    )
                    self.set_launch_context_claim(
                        platform.context.id,
                        context_types=[
                            "http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"
                        ],
                        context_title=platform.context.title,
                        context_label=platform.context.label,
                    )
                    self.set_resource_link_claim("rl-week-1", title="Week 1: flipped classroom")
                    self.set_launch_presentation_claim(document_target="iframe")
                    self.set_custom_parameters_claim({"section": "A"})
                    base = platform.base_url
                    self.set_ags(
                        lineitems_url=f"{base}/ags/{platform.context.id}/lineitems",
                        lineitem_url=None,
                    )
                    self.set_nrps(f"{base}/nrps/{platform.context.id}/memberships")
                    if hint["message"] == "deeplink":
                        self.set_dl(
                            f"{base}/deep_link_return",
                            title="Add blendkit content",
                            accept_types={"ltiResourceLink"},
                            extra_data=None,
                        )
                        if hint.get("dl_data"):
                            assert self._deep_linking_launch_data is not None
                            claim = self._deep_linking_launch_data[
                                "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
                            ]
                            claim["data"] = hint["dl_data"]

                def render_launch_form(
                    self, launch_data: dict[str, t.Any], **kwargs: t.Any
                ) -> t.Any:
                    action = html.escape(launch_data["launch_url"], quote=True)
                    fields = "".join(
                        f'<input type="hidden" name="{name}" '
                        f'value="{html.escape(launch_data[name], quote=True)}">'
                        for name in ("id_token", "state")
                    )
                    return (
                        "<!doctype html><html><body>"
                        f'<form id="lti" method="post" action="{action}">{fields}'
                        '<button type="submit">Continue</button></form>'
                        "<script>document.getElementById('lti').submit()</script>"
                        "</body></html>"
                    )

            return Launch(_FlaskRequest(request), platform._config()).lti_launch()

        @app.post("/token")
        def token() -> t.Any:
            config = platform._config()
            config.get_registration()
            try:
                body = config.get_access_token(request.form.to_dict())
            except Exception as exc:  # the platform answers errors as OAuth2 JSON
                return jsonify({"error": "invalid_client", "error_description": str(exc)}), 400
            platform.records.tokens_issued += 1
            return jsonify(body)

        def ags_service(lineitem_url: str | None = None) -> AssignmentsGradesService:
            records = platform.records

            class AGS(AssignmentsGradesService):
                def find_lineitems(
                    self, page: int = 1, limit: int | None = None, **filters: t.Any
                ) -> TPage:
                    items = list(records.lineitems.values())
                    for key in ("resource_link_id", "resource_id", "tag"):
                        if filters.get(key):
                            camel = {
                                "resource_link_id": "resourceLinkId",
                                "resource_id": "resourceId",
                            }.get(key, key)
                            items = [i for i in items if i.get(camel) == filters[key]]
                    return {"content": items, "has_next": False, "next": None}

                def find_lineitem(self, line_item_id: str) -> t.Any:
                    from lti1p3platform.exceptions import LineItemNotFoundException

                    if line_item_id not in records.lineitems:
                        raise LineItemNotFoundException()
                    return records.lineitems[line_item_id]

                def create_lineitem(self, creation_data: t.Any) -> t.Any:
                    base = f"{platform.base_url}/ags/{platform.context.id}/lineitems"
                    item_id = f"{base}/{uuid.uuid4().hex[:8]}"
                    item = dict(creation_data, id=item_id)
                    records.lineitems[item_id] = item
                    return item

                def update_lineitem(self, update_data: t.Any) -> t.Any:
                    records.lineitems[update_data["id"]].update(update_data)
                    return records.lineitems[update_data["id"]]

                def delete_lineitem(self, line_item_id: str) -> None:
                    records.lineitems.pop(line_item_id)

                def update_score(self, line_item_id: str, score: t.Any) -> t.Any:
                    from lti1p3platform.score import UpdateScoreStatus

                    records.scores.append(dict(score, lineitem=line_item_id))
                    return UpdateScoreStatus.SUCCESS

                def get_results(
                    self,
                    line_item_id: str,
                    page: int = 1,
                    limit: int | None = None,
                    user_id: str | None = None,
                ) -> TPage:
                    results = [
                        {
                            "id": f"{line_item_id}/results/{s['userId']}",
                            "scoreOf": line_item_id,
                            "userId": s["userId"],
                            "resultScore": s.get("scoreGiven"),
                            "resultMaximum": s.get("scoreMaximum"),
                        }
                        for s in records.scores
                        if s["lineitem"] == line_item_id
                        and (user_id is None or s["userId"] == user_id)
                    ]
                    return {"content": results, "has_next": False, "next": None}

            return AGS(
                _FlaskRequest(request),
                platform._config_with_registration(),
                lineitems_url=f"{platform.base_url}/ags/{platform.context.id}/lineitems",
                lineitem_url=lineitem_url,
            )

        def respond(resp: t.Any) -> Response:
            body = "" if resp.result is None else json.dumps(resp.result)
            return Response(body, status=resp.code, content_type=resp.media_type)

        @app.route("/ags/<ctx>/lineitems", methods=["GET", "POST"])
        def lineitems(ctx: str) -> Response:
            service = ags_service()
            if request.method == "POST":
                return respond(service.handle_create_lineitem())
            resp = service.handle_get_lineitems()
            if resp.code == 200:
                resp.result = resp.result["content"]
            return respond(resp)

        @app.route("/ags/<ctx>/lineitems/<item>", methods=["GET", "PUT", "DELETE"])
        def lineitem(ctx: str, item: str) -> Response:
            item_id = f"{platform.base_url}/ags/{ctx}/lineitems/{item}"
            service = ags_service(item_id)
            if request.method == "PUT":
                return respond(service.handle_update_lineitem(item_id))
            if request.method == "DELETE":
                return respond(service.handle_delete_lineitem(item_id))
            return respond(service.handle_get_lineitem(item_id))

        @app.post("/ags/<ctx>/lineitems/<item>/scores")
        def scores(ctx: str, item: str) -> Response:
            item_id = f"{platform.base_url}/ags/{ctx}/lineitems/{item}"
            if request.content_type != "application/vnd.ims.lis.v1.score+json":
                return Response("score media type required", status=415)
            return respond(ags_service(item_id).handle_update_score(item_id))

        @app.get("/ags/<ctx>/lineitems/<item>/results")
        def results(ctx: str, item: str) -> Response:
            item_id = f"{platform.base_url}/ags/{ctx}/lineitems/{item}"
            resp = ags_service(item_id).handle_get_results(item_id)
            if resp.code == 200:
                resp.result = resp.result["content"]
            return respond(resp)

        @app.get("/nrps/<ctx>/memberships")
        def memberships(ctx: str) -> Response:
            members = platform.records.members

            class NRPS(NamesRoleProvisioningService):
                def get_member_data_page(
                    self,
                    page: t.Any = 1,
                    limit: t.Any = None,
                    role: t.Any = None,
                    since: t.Any = None,
                    **_: t.Any,
                ) -> TPage:
                    page_i, limit_i = int(page), int(limit) if limit else len(members)
                    chosen = [m for m in members if role is None or role in m["roles"]]
                    start = (page_i - 1) * limit_i
                    content = chosen[start : start + limit_i]
                    return {
                        "content": content,
                        "has_next": start + limit_i < len(chosen),
                        "next": None,
                    }

                def get_context_by_id(self) -> Context:
                    return platform.context

                def is_resource_link_valid(self, context_id: str, resource_link_id: str) -> bool:
                    return resource_link_id == "rl-week-1"

            platform.records.nrps_pages_served += 1
            service = NRPS(
                _PagedFlaskRequest(request, platform.nrps_page_size),
                platform._config_with_registration(),
                f"{platform.base_url}/nrps/{ctx}/memberships",
            )
            resp = service.handle_get_members()
            body = "" if resp.result is None else json.dumps(resp.result, default=str)
            out = Response(body, status=resp.code, content_type=resp.media_type)
            if resp.result and resp.result.get("next"):
                # NRPS pages by Link header; lti1p3platform puts the URL in the body too.
                nxt = resp.result["next"].replace("page=", "page=")
                out.headers["Link"] = f'<{nxt}>; rel="next"'
            return out

        @app.post("/deep_link_return")
        def deep_link_return() -> t.Any:
            config = platform._config_with_registration()
            items = config.validate_deeplinking_resp(request.form.to_dict())
            import jwt as pyjwt

            claims = pyjwt.decode(request.form["JWT"], options={"verify_signature": False})
            platform.records.content_items.extend(items)
            platform.records.deep_link_claims.append(claims)
            titles = ", ".join(html.escape(i.get("title", "?")) for i in items)
            return f"<!doctype html><p>Platform received {len(items)} item(s): {titles}</p>"

        @app.errorhandler(Exception)
        def on_error(exc: Exception) -> t.Any:
            return Response(f"platform error: {type(exc).__name__}: {exc}", status=500)

        return app

    def _config_with_registration(self) -> LTI1P3PlatformConfAbstract:
        config = self._config()
        config.get_registration()
        return config


def launch_origin(url: str) -> str:
    parsed = urlparse(url)
    return f"{parsed.scheme}://{parsed.netloc}"
