"""Open edX's LTI 1.3 consumer as a second independent platform, over real HTTP on loopback.

PyPI ``lti-consumer-xblock`` holds the LTI 1.3 *platform* code of the Open edX LMS
(``lti_consumer.lti_1p3``). Its class :class:`LtiAdvantageConsumer` does all of the LTI work
here: the OIDC login initiation URL (``prepare_preflight_url``, launch data kept in Django's cache
under the ``lti_message_hint``), the checks of the tool's authentication request
(``_validate_preflight_response``: registered ``redirect_uri``, ``client_id``, ``nonce``,
``state``), the claims and the RS256 signature of the id_token (``generate_launch_request``,
``PlatformKeyHandler``), the platform's JWKS, the access tokens for the tool's client assertion
(``access_token``, the tool's keys fetched from its ``/lti/jwks`` by ``ToolKeyHandler``), the
checks of those tokens (``check_token``) and the validation of the tool's deep-linking response
(``check_and_decode_deep_linking_token``).

Why not the LMS's own views: the launch gate (``lti_consumer.plugin.views.launch_gate_endpoint``)
builds its consumer from an ``LtiConfiguration`` row (``LtiConfiguration.objects.get(config_id=…)``)
whose settings live either in the database or on the XBlock in the modulestore, and reads the
course's waffle flags and the learner's block through ``lti_consumer.plugin.compat`` (which imports
``openedx.core.djangoapps``, ``xmodule.modulestore`` and ``lms.djangoapps`` from edx-platform).
Outside an Open edX runtime, importing the views fails at once:
``RuntimeError: Model class django.contrib.contenttypes.models.ContentType doesn't declare an
explicit app_label and isn't in an application in INSTALLED_APPS`` — and installing its models
would need edx-platform itself. So this module does what ``launch_gate_endpoint`` does around the
consumer, in the same order (user data, resource link, launch presentation, context, custom
parameters, then ``generate_launch_request`` on the tool's authentication request), and the line
item and score endpoints keep their records in memory where the LMS uses its models. Every token
is still signed and every tool token still checked by Open edX's code.
"""

from __future__ import annotations

import html
import typing as t
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, Response, jsonify, request

from tests.django_settings import configure_django
from tests.e2e.servers import ThreadedServer

if t.TYPE_CHECKING:
    from lti_consumer.lti_1p3.consumer import LtiAdvantageConsumer

AGS_SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
AGS_READ_SCOPES = (
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
)
COURSE_ID = "course-v1:edX+DemoX+Demo_Course"


@dataclass
class OpenEdxRecords:
    """What the tool did to the platform, for assertions."""

    content_items: list[dict[str, t.Any]] = field(default_factory=list)
    scores: list[dict[str, t.Any]] = field(default_factory=list)
    tokens_issued: int = 0


def _private_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


class OpenEdxPlatform:
    """An Open edX course with one LTI 1.3 block configured for the tool at ``tool_url``."""

    client_id = "blendkit-openedx"
    deployment_id = "1"

    def __init__(self, tool_url: str) -> None:
        self.tool_url = tool_url
        self.private_pem = _private_pem()
        self.records = OpenEdxRecords()
        self._server = ThreadedServer()
        self.base_url = self._server.url
        self.issuer = self.base_url
        self.line_item = {
            "id": f"{self.base_url}/ags/lineitems/1",
            "label": "Conformance",
            "scoreMaximum": 10,
            "resourceId": "conformance",
        }

    @property
    def auth_login_url(self) -> str:
        return f"{self.base_url}/auth"

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/token"

    @property
    def jwks_url(self) -> str:
        return f"{self.base_url}/jwks"

    def start(self) -> None:
        """Serve the platform. Django is configured here, not at import: a test that also runs
        a Django app configures Django first, with its own settings."""
        configure_django()
        self._server.start(self._app())

    def stop(self) -> None:
        self._server.stop()

    def consumer(self) -> LtiAdvantageConsumer:
        """The block's consumer, as ``LtiConfiguration.get_lti_consumer()`` builds it."""
        configure_django()
        from lti_consumer.lti_1p3.consumer import LtiAdvantageConsumer

        consumer = LtiAdvantageConsumer(
            iss=self.issuer,
            lti_oidc_url=f"{self.tool_url}/lti/login",
            lti_launch_url=f"{self.tool_url}/lti/launch",
            client_id=self.client_id,
            deployment_id=self.deployment_id,
            rsa_key=self.private_pem,
            rsa_key_id="openedx-1",
            redirect_uris=[f"{self.tool_url}/lti/launch"],
            tool_keyset_url=f"{self.tool_url}/lti/jwks",
        )
        consumer.enable_ags(
            lineitems_url=f"{self.base_url}/ags/lineitems",
            lineitem_url=self.line_item["id"],
        )
        consumer.enable_deep_linking(
            deep_linking_launch_url=f"{self.tool_url}/lti/launch",
            deep_linking_return_url=f"{self.base_url}/deep_link_return",
        )
        return consumer

    def preflight_url(self, *, user: str, role: str, deep_linking: bool = False) -> str:
        """The tool's login URL the LMS frames for a learner (``prepare_preflight_url``)."""
        from lti_consumer.data import Lti1p3LaunchData

        launch_data = Lti1p3LaunchData(
            user_id=user,
            user_role=role,
            config_id="00000000-0000-4000-8000-000000000001",
            resource_link_id="block-v1:edX+DemoX+Demo_Course+type@lti_consumer+block@1",
            name=user.replace("-", " ").title(),
            email=f"{user}@example.edu",
            launch_presentation_document_target="iframe",
            message_type="LtiDeepLinkingRequest" if deep_linking else "LtiResourceLinkRequest",
            context_id=COURSE_ID,
            context_type=["course_offering"],
            context_title="Demonstration Course",
            context_label="DemoX",
            custom_parameters={"section": "A"},
        )
        return self.consumer().prepare_preflight_url(launch_data)

    def _launch_form(self, params: dict[str, str]) -> Response:
        """``launch_gate_endpoint`` around the consumer: the auto-posting id_token form."""
        from lti_consumer.lti_1p3.constants import LTI_1P3_CONTEXT_TYPE
        from lti_consumer.lti_1p3.exceptions import Lti1p3Exception
        from lti_consumer.utils import get_data_from_cache

        launch_data = get_data_from_cache(params.get("lti_message_hint", ""))
        if launch_data is None or not params.get("login_hint"):
            return Response("unknown lti_message_hint or no login_hint", status=400)
        if launch_data.message_type == "LtiDeepLinkingRequest" and launch_data.user_role not in {
            "instructor",
            "staff",
        }:
            return Response("Deep Linking can only be performed by instructors and staff.", 403)
        consumer = self.consumer()
        consumer.set_user_data(
            user_id=launch_data.user_id,
            role=launch_data.user_role,
            full_name=launch_data.name,
            email_address=launch_data.email,
        )
        consumer.set_resource_link_claim(launch_data.resource_link_id)
        consumer.set_launch_presentation_claim(
            document_target=launch_data.launch_presentation_document_target
        )
        consumer.set_context_claim(
            launch_data.context_id,
            [LTI_1P3_CONTEXT_TYPE.course_offering],
            launch_data.context_title,
            launch_data.context_label,
        )
        consumer.set_custom_parameters(launch_data.custom_parameters)
        try:
            signed = consumer.generate_launch_request(preflight_response=params)
        except Lti1p3Exception as exc:
            return Response(f"refused: {type(exc).__name__}", status=400)
        fields = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(signed[name], quote=True)}">'
            for name in ("id_token", "state")
        )
        action = html.escape(params["redirect_uri"], quote=True)
        return Response(
            f'<!doctype html><form id="lti" method="post" action="{action}">{fields}</form>'
            "<script>document.getElementById('lti').submit()</script>",
            content_type="text/html",
        )

    def _token_scopes_allow(self, scopes: t.Iterable[str]) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return False
        try:
            return bool(self.consumer().check_token(header[7:], list(scopes)))
        except Exception:  # any invalid token is a 401, as the LMS's authentication class does
            return False

    def _app(self) -> Flask:
        app = Flask("open-edx-platform")
        platform = self

        @app.get("/jwks")
        def jwks() -> Response:
            return jsonify(platform.consumer().get_public_keyset())

        @app.get("/auth")
        def auth() -> Response:
            return platform._launch_form(request.args.to_dict())

        @app.post("/token")
        def token() -> t.Any:
            try:
                body = platform.consumer().access_token(request.form.to_dict())
            except Exception as exc:  # the LMS answers these as OAuth2 errors
                return jsonify({"error": "invalid_client", "error_description": str(exc)}), 400
            platform.records.tokens_issued += 1
            return jsonify(body)

        @app.get("/ags/lineitems")
        def lineitems() -> t.Any:
            if not platform._token_scopes_allow(AGS_READ_SCOPES):
                return Response(status=401)
            wanted = request.args.get("resource_id")
            items = [i for i in [platform.line_item] if wanted in (None, i["resourceId"])]
            return Response(
                jsonify(items).get_data(),
                content_type="application/vnd.ims.lis.v2.lineitemcontainer+json",
            )

        @app.post("/ags/lineitems/<item>/scores")
        def scores(item: str) -> t.Any:
            if not platform._token_scopes_allow([AGS_SCORE_SCOPE]):
                return Response(status=401)
            if request.content_type != "application/vnd.ims.lis.v1.score+json":
                return Response(status=415)
            lineitem = platform.base_url + request.path.rsplit("/", 1)[0]
            score = dict(request.get_json(force=True), lineitem=lineitem)
            platform.records.scores.append(score)
            return jsonify({})

        @app.post("/deep_link_return")
        def deep_link_return() -> t.Any:
            try:
                items = platform.consumer().check_and_decode_deep_linking_token(request.form["JWT"])
            except Exception as exc:  # the LMS shows its error page
                return Response(f"refused: {type(exc).__name__}: {exc}", status=400)
            platform.records.content_items.extend(items)
            return Response(f"Open edX received {len(items)} item(s)", content_type="text/plain")

        return app
