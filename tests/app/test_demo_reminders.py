"""The demo's reminder deliverer: planned reminders reach the mail catcher (/demo-mail), as
`blendkit notify run` sends them in production."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from blendkit.notify import caught_messages


def test_the_demo_plans_and_delivers_reminders_to_the_mail_catcher(tmp_path: Path) -> None:
    from blendkit_examples.flask_app.app import services
    from blendkit_examples.flask_app.demo import build_demo, start_reminders

    app, _ = build_demo(tmp_path / "demo", host="127.0.0.1", port=5099)
    with app.app_context():
        store = services().store
    seeded = {m.subject for m in caught_messages(store)}
    stop = threading.Event()
    worker = start_reminders(app, stop)
    try:
        deadline = time.monotonic() + 60
        while not {m.subject for m in caught_messages(store)} - seeded:
            assert worker.is_alive()
            assert time.monotonic() < deadline, "no reminder reached the mail catcher"
            time.sleep(0.2)
    finally:
        stop.set()
        worker.join(timeout=30)
    assert not worker.is_alive()  # stopping the demo stops its deliverer
    sent = [m for m in caught_messages(store) if m.subject not in seeded]
    assert all(m.recipient.endswith("@demo.example.edu") for m in sent)
