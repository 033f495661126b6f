"""The demo LMS (``/demo-lms``, built on PyPI ``lti1p3platform``) that launches into the tool,
with the people and the course it launches them into."""

from __future__ import annotations

import base64
import html
import io
import json
import math
import struct
import typing as t
import wave

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Blueprint, request

from blendkit.lti import SERVER_DEFAULT_ZONE, Platform

__all__ = [
    "ADMIN",
    "CLIENT_ID",
    "CONTEXT_ID",
    "CONTEXT_TITLE",
    "DEPLOYMENT_ID",
    "DemoLMS",
    "INSTRUCTOR",
    "LEARNER",
    "MEDIA_PATH",
    "PEOPLE",
    "Person",
    "ROLES",
    "autosubmit_page",
    "lecture_audio",
]

LEARNER = ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"]
INSTRUCTOR = [
    "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor",
    "http://purl.imsglobal.org/vocab/lis/v2/system/person#User",
]
ADMIN = [*INSTRUCTOR, "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"]
ROLES = {"learner": LEARNER, "instructor": INSTRUCTOR, "admin": ADMIN}


class Person(t.NamedTuple):
    sub: str
    name: str
    zone: str
    role: str


PEOPLE = (
    Person("demo-ana", "Ana López", "Europe/Madrid", "learner"),
    Person("demo-kofi", "Kofi Mensah", "Africa/Accra", "learner"),
    Person("demo-mei", "Mei Chen", "Asia/Shanghai", "learner"),
    Person("demo-sam", "Sam Taylor", "America/Chicago", "learner"),
    Person("demo-priya", "Priya Nair", "Asia/Kolkata", "learner"),
    Person("demo-lucas", "Lucas Silva", "America/Sao_Paulo", "learner"),
    # Moodle's "server default": no zone of her own, so the tool offers her browser's zone.
    Person("demo-noor", "Noor Haddad", SERVER_DEFAULT_ZONE, "learner"),
    Person("demo-rivera", "Dr Alex Rivera", "Europe/London", "instructor"),
    Person("demo-admin", "Jo Admin", "UTC", "admin"),
)
CONTEXT_ID = "demo-bio-101"
CONTEXT_TITLE = "Biology 101: Cells"
CLIENT_ID = "blendkit-demo"
DEPLOYMENT_ID = "demo-deployment-1"
MEDIA_PATH = "/demo-lms/media/lecture.wav"


def _pem_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def lecture_audio(seconds: int = 40, rate: int = 8000) -> bytes:
    """A short, quiet tone as a WAV file: the demo's pre-work "video" (browsers play it)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(rate)
        frames = bytearray()
        for n in range(seconds * rate):
            envelope = 0.5 + 0.5 * math.sin(2 * math.pi * n / (rate * 4))
            frames += struct.pack(
                "B", int(128 + 18 * envelope * math.sin(2 * math.pi * 330 * n / rate))
            )
        out.writeframes(bytes(frames))
    return buffer.getvalue()


class DemoLMS:
    """A one-course LMS on the tool's own origin: ``/demo-lms``.

    It answers the tool's OIDC login at ``/demo-lms/auth`` (checking ``redirect_uri`` itself,
    which ``lti1p3platform`` does not), signs the id_token with its own key, and posts it to the
    tool's ``/lti/launch`` in an iframe. It never calls blendkit to sign anything, so the launch
    is checked exactly as a real Moodle's would be.
    """

    def __init__(self, tool_url: str, *, keys: tuple[str, str] | None = None) -> None:
        self.tool_url = tool_url.rstrip("/")
        self.issuer = f"{self.tool_url}/demo-lms"
        self.private_pem, self.public_pem = keys or _pem_pair()
        self.received: list[dict[str, t.Any]] = []
        self._audio: bytes | None = None

    @property
    def launch_url(self) -> str:
        return f"{self.tool_url}/lti/launch"

    def platform(self) -> Platform:
        """The registration the tool needs for this LMS."""
        return Platform(
            issuer=self.issuer,
            client_id=CLIENT_ID,
            deployment_ids=(DEPLOYMENT_ID,),
            auth_login_url=f"{self.issuer}/auth",
            auth_token_url=f"{self.issuer}/token",
            jwks_url=f"{self.issuer}/jwks",
            name="Demo LMS",
        )

    def _registration(self) -> t.Any:
        from lti1p3platform.registration import Registration

        reg = Registration()
        reg.set_iss(self.issuer)
        reg.set_client_id(CLIENT_ID)
        reg.set_deployment_id(DEPLOYMENT_ID)
        reg.set_oidc_login_url(f"{self.tool_url}/lti/login")
        reg.set_launch_url(self.launch_url)
        reg.set_deeplink_launch_url(self.launch_url)
        reg.set_tool_key_set_url(f"{self.tool_url}/lti/jwks")
        reg.set_platform_public_key(self.public_pem)
        reg.set_platform_private_key(self.private_pem)
        return reg

    def _config(self) -> t.Any:
        from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract

        lms = self

        class Config(LTI1P3PlatformConfAbstract):  # type: ignore[misc]
            def init_platform_config(self, **kwargs: t.Any) -> None:
                return None

            def get_registration_by_params(self, **kwargs: t.Any) -> t.Any:
                return lms._registration()

        config = Config()
        config.get_registration()
        return config

    def blueprint(self) -> Blueprint:
        from blendkit_examples.flask_app.demo_pages import build_blueprint

        return build_blueprint(self)

    def audio(self) -> bytes:
        if self._audio is None:
            self._audio = lecture_audio()
        return self._audio

    def hint(self, person: Person, message: str, item: str | None = None) -> str:
        return base64.urlsafe_b64encode(
            json.dumps({"user": person.sub, "message": message, "item": item}).encode()
        ).decode()

    def placed(self) -> list[tuple[str, str]]:
        """(title, item id) of the activities placed through deep linking, oldest first."""
        out = []
        for received in self.received:
            item = (received.get("custom") or {}).get("blendkit_item")
            if isinstance(item, str) and (received.get("title"), item) not in out:
                out.append((str(received.get("title") or item), item))
        return out

    def launch_form(
        self, person: Person, message: str, params: t.Mapping[str, str], item: str | None = None
    ) -> str:
        """The signed id_token for ``person`` in an auto-submitting form (raises ValueError)."""
        from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
        from lti1p3platform.request import Request

        lms = self

        class Req(Request):  # type: ignore[misc]
            def build_metadata(self, req: t.Any) -> t.Any:
                return {
                    "method": req.method, "form_data": req.form.to_dict(),
                    "get_data": req.args.to_dict(), "headers": dict(req.headers),
                    "content_type": req.content_type, "path": req.path, "json": None,
                }  # fmt: skip

        class Launch(LTIAdvantageMessageLaunchAbstract):  # type: ignore[misc]
            def prepare_launch(self, preflight_response: dict[str, t.Any]) -> None:
                self.set_user_data(
                    person.sub, ROLES[person.role], full_name=person.name,
                    email_address=f"{person.sub.removeprefix('demo-')}@demo.example.edu",
                )  # fmt: skip
                self.set_launch_context_claim(
                    CONTEXT_ID,
                    context_types=["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"],
                    context_title=CONTEXT_TITLE,
                    context_label="BIO101",
                )
                self.set_resource_link_claim("demo-rl-1", title="Blended week 1")
                self.set_launch_presentation_claim(document_target="iframe")
                custom = {"timezone": person.zone}
                if item:  # a placed activity: the link's custom parameter, as the LMS keeps it
                    custom["blendkit_item"] = item
                self.set_custom_parameters_claim(custom)
                if message == "deeplink":
                    self.set_dl(
                        f"{lms.issuer}/deep-link-return",
                        title="Add blendkit content",
                        accept_types={"ltiResourceLink"},
                    )

            def render_launch_form(self, launch_data: dict[str, t.Any], **kwargs: t.Any) -> str:
                return autosubmit_page(launch_data["launch_url"], launch_data)

        launch = Launch(Req(request), self._config())
        launch.set_launch_url(self.launch_url)
        return t.cast(str, launch.lti_launch())


def autosubmit_page(action: str, fields: t.Mapping[str, t.Any]) -> str:
    """A form posted by a same-origin script on load, with a button when scripts are off."""
    inputs = "".join(
        f'<input type="hidden" name="{name}" value="{html.escape(str(fields[name]), quote=True)}">'
        for name in ("id_token", "state")
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Launching…</title>'
        "</head><body><main>"
        f'<form id="launch" method="post" action="{html.escape(action, quote=True)}">{inputs}'
        '<p>Opening the tool…</p><noscript><button type="submit">Continue</button></noscript>'
        '</form><script src="/demo-lms/autosubmit.js"></script></main></body></html>'
    )
