"""Moodle-like and Canvas-like platforms over real HTTP on 127.0.0.1 for dynamic registration.

Their OpenID configurations follow Moodle's ``mod/lti/openid-configuration.php`` and Canvas's
documented ``/api/lti/security/openid-configuration`` answer; their registration endpoints check
the Bearer registration token and the body the way Moodle's ``registration_helper`` and Canvas's
registration API do, and answer in each platform's own shape (Moodle sends a deployment_id and
``application_type`` as a list; Canvas sends no deployment_id).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
TOOL_CONF = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_CONF = "https://purl.imsglobal.org/spec/lti-platform-configuration"


@dataclass
class RegistrationPlatform:
    kind: str  # "moodle" or "canvas"
    token: str = "reg-token-123"
    base_url: str = ""
    issuer_override: str | None = None
    drop: tuple[str, ...] = ()
    replace: dict[str, Any] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, str], Any]] = field(default_factory=list)
    next_client: int = 1

    @property
    def config_path(self) -> str:
        if self.kind == "moodle":
            return "/moodle/mod/lti/openid-configuration.php"
        return "/api/lti/security/openid-configuration"

    @property
    def config_url(self) -> str:
        return self.base_url + self.config_path

    @property
    def issuer(self) -> str:
        return self.base_url + ("/moodle" if self.kind == "moodle" else "")

    def configuration(self) -> dict[str, Any]:
        if self.kind == "moodle":
            root = self.issuer
            conf: dict[str, Any] = {
                "issuer": root,
                "token_endpoint": root + "/mod/lti/token.php",
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
                "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
                "jwks_uri": root + "/mod/lti/certs.php",
                "authorization_endpoint": root + "/mod/lti/auth.php",
                "registration_endpoint": root + "/mod/lti/openid-registration.php",
                "scopes_supported": [
                    AGS + "lineitem",
                    AGS + "lineitem.readonly",
                    AGS + "result.readonly",
                    AGS + "score",
                    NRPS,
                    "https://purl.imsglobal.org/spec/lti-ts/scope/toolsetting",
                    "openid",
                ],
                "response_types_supported": ["id_token"],
                "subject_types_supported": ["public", "pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "claims_supported": ["sub", "iss", "name", "given_name", "family_name", "email"],
                PLATFORM_CONF: {
                    "product_family_code": "moodle",
                    "version": "4.3.2 (Build: 20231222)",
                    "messages_supported": ["LtiResourceLinkRequest", "LtiDeepLinkingRequest"],
                    "placements": ["AddContentMenu"],
                    "variables": ["basic-lti-launch-request", "Context.id"],
                },
            }
        else:
            root = self.base_url
            conf = {
                "issuer": root,
                "authorization_endpoint": root + "/api/lti/authorize_redirect",
                "registration_endpoint": root + "/api/lti/registrations",
                "jwks_uri": root + "/api/lti/security/jwks",
                "token_endpoint": root + "/login/oauth2/token",
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
                "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
                "scopes_supported": [
                    AGS + "lineitem",
                    AGS + "lineitem.readonly",
                    AGS + "result.readonly",
                    AGS + "score",
                    NRPS,
                    "https://canvas.instructure.com/lti/public_jwk/scope/update",
                    "https://canvas.instructure.com/lti/account_lookup/scope/show",
                ],
                "response_types_supported": ["id_token"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "claims_supported": ["sub", "picture", "email", "name", "locale"],
                "subject_types_supported": ["public"],
                "authorization_server": "canvas.instructure.com",
                PLATFORM_CONF: {
                    "product_family_code": "canvas",
                    "version": "vCloud",
                    "messages_supported": [
                        {
                            "type": "LtiResourceLinkRequest",
                            "placements": ["account_navigation", "course_navigation"],
                        },
                        {
                            "type": "LtiDeepLinkingRequest",
                            "placements": ["assignment_selection", "editor_button"],
                        },
                    ],
                    "variables": ["ResourceLink.id"],
                    "https://canvas.instructure.com/lti/account_name": "Test University",
                },
            }
        if self.issuer_override is not None:
            conf["issuer"] = self.issuer_override
        for name in self.drop:
            conf.pop(name, None)
        conf.update(self.replace)
        return conf

    def register(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        tool_conf = body.get(TOOL_CONF) or {}
        for key in ("response_types", "initiate_login_uri", "redirect_uris", "client_name"):
            if not body.get(key):
                return 400, {"error": f"missing required attribute {key}"}
        if "id_token" not in body["response_types"]:
            return 400, {"error": "invalid_response_types"}
        if not isinstance(body["redirect_uris"], list):
            return 400, {"error": "invalid_redirect_uris"}
        if body.get("token_endpoint_auth_method") != "private_key_jwt":
            return 400, {"error": "invalid_token_endpoint_auth_method"}
        if body.get("application_type", "web") != "web":
            return 400, {"error": "invalid_application_type"}
        if not tool_conf.get("domain") or not tool_conf.get("target_link_uri"):
            return 400, {"error": "missing domain or target_link_uri"}
        client_id = f"client-{self.next_client}"
        self.next_client += 1
        answer = dict(body)
        if self.kind == "moodle":
            answer["client_id"] = client_id
            answer["application_type"] = ["web"]  # Moodle answers a list here
            answer[TOOL_CONF] = {**tool_conf, "deployment_id": "2"}
            return 200, answer
        answer["client_id"] = "100000000000" + str(self.next_client)
        return 200, answer


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def _send(self, status: int, body: dict[str, Any]) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _authorised(self) -> bool:
        return self.headers.get("Authorization") == f"Bearer {self.server.platform.token}"

    def do_GET(self) -> None:
        platform = self.server.platform
        path = urlsplit(self.path).path
        platform.requests.append(("GET", path, dict(self.headers), None))
        if path != platform.config_path:
            self._send(404, {"error": "not found"})
        elif platform.kind == "canvas" and not self._authorised():
            self._send(401, {"errors": [{"message": "Invalid access token."}]})
        else:
            self._send(200, platform.configuration())

    def do_POST(self) -> None:
        platform = self.server.platform
        path = urlsplit(self.path).path
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.loads(raw or b"{}")
        platform.requests.append(("POST", path, dict(self.headers), body))
        registration = urlsplit(platform.configuration()["registration_endpoint"]).path
        if path != registration:
            self._send(404, {"error": "not found"})
        elif not self._authorised():
            self._send(401, {"error": "token_already_used"})
        else:
            self._send(*platform.register(body))


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, platform: RegistrationPlatform) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.platform = platform


def serve(platform: RegistrationPlatform) -> Iterator[RegistrationPlatform]:
    """Run ``platform`` on a free loopback port until the generator closes."""
    server = _Server(platform)
    platform.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield platform
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
