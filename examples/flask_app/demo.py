"""The demo: the tool with the demo LMS (``demo_lms``) mounted and its course (``demo_course``)
seeded, served with the reminder deliverer beside it."""

from __future__ import annotations

import os
import secrets
import threading
from datetime import UTC, datetime
from pathlib import Path as FilePath

from flask import Flask

from blendkit import AlreadyExists, Settings, Store
from blendkit.lti import Tenant
from blendkit.sessions import FakeMeetingProvider
from blendkit.store import KeyEncryption, StoredSecrets
from blendkit_examples.flask_app.demo_course import demo_path, seed_course
from blendkit_examples.flask_app.demo_lms import (
    CLIENT_ID,
    CONTEXT_ID,
    CONTEXT_TITLE,
    DEPLOYMENT_ID,
    DemoLMS,
)
from blendkit_examples.flask_app.demo_mail import mail_blueprint, notify_defaults, seed_mail


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
            seed_course(svc, course, provider, now)
            seed_mail(svc, course, svc.courses.enrolment(course, "demo-ana"), now)
    return app, f"{base}/demo-lms"


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
