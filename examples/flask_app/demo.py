"""The demo: the tool plus a small LMS that performs real, signed LTI 1.3 launches into it.

The demo LMS (``/demo-lms``) is built on PyPI ``lti1p3platform``: it answers the tool's OIDC
login at ``/demo-lms/auth`` (checking ``redirect_uri`` itself, which the package does not), signs
the id_token with its own key, and posts it to the tool's ``/lti/launch`` in an iframe. It never
calls blendkit to sign anything, so the launch is checked exactly as a real Moodle's would be.
:func:`build_demo` seeds a course from the flipped-classroom template, sample learners in several
time zones, two past live sessions with attendance and recordings (fake meeting provider), and
a captioned recap recording learners watch in the tool's player (see ``demo_recording``).
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import os
import secrets
import struct
import threading
import typing as t
import wave
from datetime import UTC, datetime, timedelta
from pathlib import Path as FilePath

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Blueprint, Flask, request

from blendkit import AlreadyExists, Settings, Store
from blendkit.courses import AttendanceGrading, Enrolment
from blendkit.lti import SERVER_DEFAULT_ZONE, Platform, Tenant, is_time_zone
from blendkit.progression import (
    Item,
    Milestone,
    Module,
    Path,
    PollsAnsweredCondition,
    ScoreRecorded,
    VideoWatched,
    flipped_classroom,
)
from blendkit.sessions import FakeMeetingProvider, Learner, RecordingKind
from blendkit.store import KeyEncryption, StoredSecrets
from blendkit_examples.flask_app.demo_mail import mail_blueprint, notify_defaults, seed_mail
from blendkit_examples.flask_app.demo_office_hours import seed_office_hours
from blendkit_examples.flask_app.demo_recording import seed_recording
from blendkit_examples.flask_app.review_demo import seed_reviews, workshop_module

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
    """A one-course LMS on the tool's own origin: ``/demo-lms``."""

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


def demo_path(now: datetime) -> Path:
    """The flipped-classroom template, class in two days, with the demo lecture attached."""
    start = (now + timedelta(days=2)).replace(hour=16, minute=0, second=0, microsecond=0)
    path = flipped_classroom(start)
    modules = tuple(
        module.model_copy(
            update={
                "items": tuple(
                    item.model_copy(update={"url": MEDIA_PATH}) if item.kind == "video" else item
                    for item in module.items
                )
            }
        )
        for module in path.modules
    )
    # Taking part in the live session's polls opens the class notes.
    notes = Item(
        id="class-notes", title="Class notes", kind="reading",
        conditions=PollsAnsweredCondition(item="live-session", count=1),
    )  # fmt: skip
    modules = tuple(
        m.model_copy(update={"items": (*m.items, notes)}) if m.id == "in-class" else m
        for m in modules
    )
    help_module = Module(
        id="help",
        title="Help when you need it",
        items=(Item(id="office-hours", title="Office hours with Dr Rivera", kind="office_hours"),),
    )
    # The template's milestones (ready for class, class and practice) and one for the workshop.
    workshop = Milestone(
        id="workshop-done", title="Peer workshop done", modules=("peer-workshop",),
        due=start + timedelta(days=9),
    )  # fmt: skip
    return path.model_copy(
        update={
            "modules": (*modules, help_module, workshop_module()),
            "milestones": (*path.milestones, workshop),
            "title": "Flipped classroom, week 1",
        }
    )


def private_secret(path: FilePath, new_value: str) -> str:
    """The secret kept in ``path``, created with ``new_value`` readable by its owner only.

    The file is created with mode 0600 (never widened by the umask, never chmod-ed after it was
    written). A file others could read is not trusted: it is replaced by a new secret.
    """
    try:
        if path.stat().st_mode & 0o077 == 0:
            return path.read_text(encoding="utf-8").strip()
        path.unlink()
    except FileNotFoundError:
        pass
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(new_value)
    return new_value


def build_demo(
    data_dir: FilePath, *, host: str, port: int, fresh: bool = True
) -> tuple[Flask, str]:
    """The tool with the demo LMS mounted, its course seeded; returns the app and the URL."""
    from blendkit_examples.flask_app import create_app
    from blendkit_examples.flask_app.app import FAKE_WEBHOOK_SECRET_NAME, services
    from blendkit_examples.flask_app.launching import default_quiz

    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    data_dir.chmod(0o700)  # a directory kept from an earlier run, or made by hand
    database = data_dir / "demo.sqlite3"
    if fresh:
        for path in (database, *(data_dir / f"demo.sqlite3-{end}" for end in ("wal", "shm"))):
            path.unlink(missing_ok=True)
    shown_host = f"[{host}]" if ":" in host else host
    base = f"http://{shown_host}:{port}"
    settings = Settings(
        database={"url": f"sqlite:///{database}"},
        tool={
            "environment": "development",
            "base_url": base,
            "title": "blendkit demo",
            "secret_key": private_secret(data_dir / "secret_key", secrets.token_hex(32)),
            "key_encryption_keys": [
                private_secret(data_dir / "key_encryption_key", KeyEncryption.new_key())
            ],
            # Jo Admin administers the whole demo tool (an LMS role alone would not).
            "admins": [{"issuer": f"{base}/demo-lms", "sub": "demo-admin"}],
        },
        # The demo LMS is this very server: its keys and deep-linking return live on the demo's
        # own host, which is allowed by name (development mode alone opens no private address).
        http={"allowed_hosts": [host]},
        meeting_provider="fake",
        xapi={"endpoint": None},
        **notify_defaults(),  # reminders go to the mail catcher (/demo-mail)
    )
    store = Store.from_settings(settings)
    store.migrate()
    webhook_secret = StoredSecrets(store, KeyEncryption.from_settings(settings)).value(
        FAKE_WEBHOOK_SECRET_NAME
    )
    provider = FakeMeetingProvider(base_url=f"{base}/demo-lms/meet", webhook_secret=webhook_secret)
    app = create_app(settings, store=store, provider=provider)
    lms = DemoLMS(base)
    app.register_blueprint(lms.blueprint())
    app.register_blueprint(mail_blueprint(store))
    app.extensions["blendkit_demo_lms"] = lms
    with app.app_context():
        svc = services()
        try:
            svc.registry.add(lms.platform())
        except AlreadyExists:  # a kept database from an earlier run
            svc.registry.remove(lms.issuer, CLIENT_ID)
            svc.registry.add(lms.platform())
        now = datetime.now(UTC)
        tenant = Tenant(issuer=lms.issuer, client_id=CLIENT_ID, deployment_id=DEPLOYMENT_ID)
        course = svc.courses.ensure_course(
            tenant, CONTEXT_ID, title=CONTEXT_TITLE, path=lambda: demo_path(now)
        )
        for item in course.path.items():
            if item.kind == "quiz" and svc.courses.quiz(course, item.id) is None:
                svc.courses.set_quiz(course, item.id, default_quiz(item.title or item.id))
        if not svc.live.sessions(course):
            _seed(svc, course, provider, now)
            seed_mail(svc, course, svc.courses.enrolment(course, "demo-ana"), now)
    return app, f"{base}/demo-lms"


def _seed(svc: t.Any, course: t.Any, provider: FakeMeetingProvider, now: datetime) -> None:
    enrolled = now - timedelta(days=12)
    for person in PEOPLE:
        if not is_time_zone(person.zone):
            continue  # enrolled by her first launch, with the course default until she confirms
        svc.courses.enrol(
            course,
            Enrolment(
                sub=person.sub, name=person.name, time_zone=person.zone, enrolled_at=enrolled,
                email=f"{person.sub.removeprefix('demo-')}@demo.example.edu",
                roles=("learner",) if person.role == "learner" else ("instructor",),
            ),
        )  # fmt: skip
    svc.hours.set(course, "demo-sam", "18:00-21:00")  # the planner keeps Sam to evenings
    # Attendance is graded, and the instructor reviews the scores before they go.
    svc.attendance_grades.set_grading(course, AttendanceGrading(enabled=True))
    live_item = next(i for i in course.path.items() if i.kind == "live_session")
    week1 = svc.live.schedule(
        course, title="Week 1 live session", start_utc=live_item.starts_at,
        time_zone="Europe/London",
        duration_minutes=int(live_item.duration_minutes or 90), item=live_item.id,
    )  # fmt: skip
    # A weekly drop-in series: one sitting moved a day later, another cancelled.
    drop_in = (now + timedelta(days=2)).replace(hour=17, minute=0, second=0, microsecond=0)
    series = svc.live.schedule_series(
        course, title="Weekly drop-in", start_utc=drop_in, time_zone="Europe/London",
        duration_minutes=45, count=6,
    )  # fmt: skip
    second, third = series.occurrences[1], series.occurrences[2]
    svc.live.move_occurrence(course, second.id, start_utc=second.start_utc + timedelta(days=1))
    svc.live.cancel_occurrence(course, third.id)
    script = {
        "Orientation": (9, {"demo-ana": 55, "demo-kofi": 60, "demo-mei": 20, "demo-sam": 40}),
        "Question time": (3, {"demo-kofi": 30, "demo-sam": 50, "demo-priya": 45, "demo-lucas": 10}),
    }
    for title, (days_ago, minutes) in script.items():
        start = (now - timedelta(days=days_ago)).replace(hour=15, minute=0, second=0, microsecond=0)
        record = svc.live.schedule(
            course, title=title, start_utc=start, time_zone="Europe/London", duration_minutes=60
        )
        meeting = record.provider_meeting_id
        for sub, stay in minutes.items():
            if sub == "demo-sam":  # joined without the personal link: matched by e-mail
                conn = provider.join(
                    meeting, at=start, display_name="Sam T", email="sam@demo.example.edu"
                )
            else:
                svc.live.join_link(course, record.id, sub)
                link = provider.join_link(meeting, Learner(id=sub))
                conn = provider.join(meeting, at=start + timedelta(minutes=2), link=link)
            provider.leave(meeting, conn, at=start + timedelta(minutes=2 + stay))
        guest = provider.join(meeting, at=start + timedelta(minutes=5), display_name="Dial-in user")
        provider.leave(meeting, guest, at=start + timedelta(minutes=35))
        provider.add_recording(meeting, RecordingKind.VIDEO, start=start, duration_seconds=3600)
        provider.pending_webhooks()  # delivered live in production; the seed imports directly
        svc.live.import_attendance(course, record.id)
        svc.live.import_recordings(course, record.id)
    seed_recording(svc, course, provider, now, live_item.id)
    quiz = next(i.id for i in course.path.items() if i.kind == "quiz")
    video = next(i.id for i in course.path.items() if i.kind == "video")
    progress: dict[str, list[t.Any]] = {
        "demo-kofi": [
            VideoWatched(item=video, percent=100, at=now - timedelta(hours=1)),
            ScoreRecorded(item=quiz, score=100, at=now),
        ],
        "demo-mei": [
            VideoWatched(item=video, percent=95, at=now - timedelta(days=3)),
            ScoreRecorded(item=quiz, score=33.33, at=now - timedelta(days=1)),
            ScoreRecorded(item=quiz, score=33.33, at=now),
        ],
        "demo-sam": [VideoWatched(item=video, percent=50, at=now - timedelta(days=1))],
        "demo-priya": [VideoWatched(item=video, percent=100, at=now - timedelta(days=4))],
    }
    for sub, pieces in progress.items():
        svc.courses.record(course, sub, pieces)
    seed_reviews(svc, course, now)
    seed_office_hours(svc, course, now)
    _seed_polls(svc, course, week1.id)


def _seed_polls(svc: t.Any, course: t.Any, session_id: str) -> None:
    """An open warm-up poll Kofi answered, a rating poll in draft, and his question."""
    warmup = svc.polls.create(
        course, session_id, kind="single", question="Which topic should we start with?",
        options=["Cell membranes", "Mitochondria", "Protein synthesis"],
    )  # fmt: skip
    svc.polls.set_state(course, warmup.id, "open")
    svc.polls.answer(course, warmup.id, "demo-kofi", 1)
    svc.polls.create(
        course, session_id, kind="rating", question="How confident do you feel after the pre-work?"
    )
    svc.board.ask(course, session_id, "demo-kofi", "Will the slides be shared after class?")


def serve(app: Flask, host: str, port: int) -> None:
    """Run the demo on ``host:port`` (threaded: the LMS fetches the tool's keys meanwhile),
    with the reminder deliverer beside it (what ``blendkit notify run`` does in production)."""
    stop = threading.Event()
    reminders = start_reminders(app, stop)
    try:
        app.run(host=host, port=port, threaded=True, use_reloader=False, debug=False)
    finally:
        stop.set()
        reminders.join(timeout=10)


def start_reminders(app: Flask, stop: threading.Event) -> threading.Thread:
    """Plan and deliver reminders in a thread of the demo process, to the mail catcher.

    In production this is the separate ``blendkit notify run`` process; the demo runs it in
    its own process because the fake meeting provider keeps meetings in memory.
    """
    from blendkit.courses import reminder_delivery
    from blendkit_examples.flask_app.app import services

    with app.app_context():
        svc = services()
    delivery = reminder_delivery(svc.settings, svc.store, provider=svc.provider)

    def pause(seconds: float) -> None:
        stop.wait(seconds)  # wakes at once when the demo stops

    delivery.queue.sleep = pause
    worker = threading.Thread(
        target=delivery.queue.run_with_planner,
        args=(stop.is_set,),
        kwargs={"poll_seconds": 2.0, "planner": delivery.planner, "plan_every_seconds": 30.0},
        name="demo-reminders",
        daemon=True,
    )
    worker.start()
    return worker


__all__ = ["DemoLMS", "build_demo", "demo_path", "serve", "start_reminders"]
