"""Application factory of the example tool: wires blendkit's services into a Flask app."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path as FilePath
from typing import Any, cast

from flask import Flask, current_app, redirect, url_for
from flask.sessions import SessionInterface, SessionMixin
from flask.typing import ResponseReturnValue

from blendkit import Settings, Store, load_settings
from blendkit.calendar import CalendarFeeds, office_hours_bookings
from blendkit.courses import (
    AttendanceGrades,
    CourseService,
    LivePolls,
    LiveSessionService,
    OfficeHoursService,
    QuestionBoard,
    RecordingService,
    ReminderLinks,
    ReminderSettings,
    RosterSync,
    SessionHours,
    StoreEventLedger,
    tool_secret,
)
from blendkit.integrations.access_log import install_werkzeug_redaction
from blendkit.integrations.flask import Blendkit, in_one_transaction
from blendkit.lti import Launch, StorePlatformRegistry
from blendkit.notify import NotificationQueue, UnsubscribeTokens
from blendkit.review import LocalDirectoryStorage, PeerReviewService, SubmissionStorage
from blendkit.sessions import FakeMeetingProvider, MeetingProvider, load_meeting_provider
from blendkit.store import KeyEncryption, StoredSecrets
from blendkit.xapi import Outbox, StatementFactory

HERE = FilePath(__file__).parent
APP_KEY = "blendkit_example"
# Names of the secrets generated once per install and kept (encrypted) in the database.
FAKE_WEBHOOK_SECRET_NAME = "fake_webhook_secret"  # noqa: S105  # a row name, not a secret


@dataclass
class Services:
    """What the pages use; one per app (and per process)."""

    settings: Settings
    store: Store
    courses: CourseService
    live: LiveSessionService
    provider: MeetingProvider
    outbox: Outbox
    ledger: StoreEventLedger
    registry: StorePlatformRegistry
    hours: SessionHours
    reminders: ReminderSettings
    unsubscribe: UnsubscribeTokens
    polls: LivePolls
    board: QuestionBoard
    recordings: RecordingService
    roster: RosterSync
    attendance_grades: AttendanceGrades
    office_hours: OfficeHoursService
    feeds: CalendarFeeds
    reviews: PeerReviewService
    webhook_providers: dict[str, MeetingProvider] = field(default_factory=dict)


class NoCookieSessions(SessionInterface):
    """The tool keeps no cookie session: pages inside the LMS iframe carry their launch id
    instead (third-party cookies are blocked), so Flask's signed session cookie is never read
    or written, and no request pays for its serializer."""

    def open_session(self, app: Flask, request: Any) -> SessionMixin | None:
        return self.make_null_session(app)

    def save_session(self, app: Flask, session: SessionMixin, response: Any) -> None:
        return None


def services() -> Services:
    """The services of the current app."""
    return cast(Services, current_app.extensions[APP_KEY])


def create_app(
    settings: Settings | None = None,
    *,
    store: Store | None = None,
    provider: MeetingProvider | None = None,
    migrate: bool | None = None,
    review_storage: SubmissionStorage | None = None,
    **config: Any,
) -> Flask:
    """Build the tool. ``settings`` default to ``load_settings()`` (file + environment).

    ``migrate`` (default: unless ``[tool] environment`` is production) upgrades the database
    schema first; production runs ``blendkit db upgrade`` before starting the app.
    """
    # its routes join the learner and instructor blueprints before they are registered
    from blendkit_examples.flask_app import (
        admin,
        instructor,
        learner,
        learner_calendar,  # noqa: F401  (routes on learner.bp)
        live_pages,  # noqa: F401
        notify_pages,
        office_hours_pages,
        pages,
        path_pages,
        recording_staff,
        review_pages,
        review_staff,
        roster_pages,
        series_pages,
        webhooks,
    )
    from blendkit_examples.flask_app.launching import on_launch

    settings = settings or load_settings()
    app = Flask(
        __name__,
        template_folder=str(HERE / "templates"),
        static_folder=str(HERE / "static"),
        static_url_path="/static",
    )
    app.config.update(**config)
    app.session_interface = NoCookieSessions()
    install_werkzeug_redaction()  # `flask run` and the demo: no launch ids in the request log
    bk = Blendkit(app, settings=settings, store=store, migrate=migrate)
    state = Blendkit.state(app)
    encryption = KeyEncryption.from_settings(settings)
    stored = StoredSecrets(state.store, encryption)
    if not app.config.get("SECRET_KEY"):
        # [tool] secret_key, or one key per install kept in the database: the same one
        # `blendkit notify run` signs unsubscribe links with.
        app.config["SECRET_KEY"] = tool_secret(settings, state.store)
    encryption.require("the tool's private keys (deep linking, grade and roster tokens)")
    outbox = Outbox.from_settings(settings, store=state.store)
    Blendkit.watch_outbox(outbox, app)  # /metrics ([metrics] token or bind): outbox, breaker
    # Reminders the pages cause (a moved sitting, an unlock by override) are queued for
    # `blendkit notify run`, which plans the rest and delivers them all.
    notifications = NotificationQueue(state.store)
    Blendkit.watch_notifications(notifications, app)  # /metrics: reminders, notifier outcomes
    courses = CourseService(
        state.store,
        outbox=outbox,
        statements=StatementFactory(settings.tool.base_url),
        notifications=notifications,
        reminder_links=(links := ReminderLinks(settings.tool.base_url)),
    )
    configured = provider is None
    if provider is None and settings.meeting_provider == "fake":
        # One random webhook secret per install, shared by every worker: never a constant.
        provider = FakeMeetingProvider(
            webhook_secret=stored.value(FAKE_WEBHOOK_SECRET_NAME, what="the fake webhook secret")
        )
    provider = provider or load_meeting_provider(settings)
    if configured and provider.name == "fake" and not app.testing:
        app.logger.warning(
            "meeting provider 'fake' keeps meetings in this process's memory: fine for the demo, "
            "not for production (set meeting_provider = 'zoom', 'teams' or 'meet')"
        )
    live = LiveSessionService(courses, provider, notifications=notifications)
    registry = StorePlatformRegistry(state.store)
    office_hours = OfficeHoursService(courses, provider)
    feeds = CalendarFeeds(
        courses,
        bookings=office_hours_bookings(office_hours),
        # A learner without a personal join link yet gets the session's page in the tool, at
        # the address reminder messages use (calendar apps open it outside the LMS).
        session_link=lambda course, record: (
            links.item_url(course, record.item) if record.item else None
        ),
    )
    state.calendar_feeds = feeds  # /calendar/<token>.ics serves the same feeds
    app.extensions[APP_KEY] = Services(
        settings=settings,
        store=state.store,
        courses=courses,
        live=live,
        provider=provider,
        outbox=outbox,
        ledger=StoreEventLedger(state.store),
        registry=registry,
        hours=SessionHours(state.store),
        reminders=ReminderSettings(state.store),
        unsubscribe=UnsubscribeTokens(app.config["SECRET_KEY"]),
        polls=(polls := LivePolls(courses)),
        board=QuestionBoard(polls),
        recordings=RecordingService(live),
        # The web app only queues roster syncs (no tokens): `blendkit roster sync` reads them.
        roster=RosterSync(state.store, registry, None),
        attendance_grades=AttendanceGrades(courses, live),
        office_hours=office_hours,
        feeds=feeds,
        reviews=PeerReviewService(
            courses, review_storage or LocalDirectoryStorage(review_directory(app, settings))
        ),
    )
    del review_pages, review_staff  # their routes joined the learner and instructor blueprints

    @bk.on_launch
    def launched(launch: Launch, launch_id: str) -> ResponseReturnValue:
        return on_launch(launch, launch_id)

    pages.install(app)
    for module in (
        learner,
        instructor,
        series_pages,
        office_hours_pages,
        path_pages,
        recording_staff,
        admin,
        webhooks,
        notify_pages,
        roster_pages,
    ):
        app.register_blueprint(module.bp)
    _read_pages_in_one_transaction(
        app, {m.bp.name for m in (learner, instructor, roster_pages, office_hours_pages, admin)}
    )

    @app.get("/")
    def home() -> ResponseReturnValue:
        launch_id = Blendkit.current_launch_id()
        if launch_id:
            return redirect(url_for("learner.course", launch=launch_id))
        if "demo_lms" in app.blueprints:  # the demo: start from its LMS course page
            return redirect(url_for("demo_lms.course_page"))
        return redirect(url_for("learner.course"))

    return app


def review_directory(app: Flask, settings: Settings) -> FilePath:
    """Where peer-review files go by default: ``REVIEW_FILES_DIRECTORY`` in the app config, else
    next to a SQLite database file, else the app's instance folder. A local directory serves one
    host only: with several hosts, pass a shared ``review_storage``."""
    configured = app.config.get("REVIEW_FILES_DIRECTORY")
    if configured:
        return FilePath(configured)
    url = settings.database.url
    if url.startswith("sqlite:///") and ":memory:" not in url:
        return FilePath(url.removeprefix("sqlite:///")).with_name("review-files")
    return FilePath(app.instance_path) / "review-files"


def _read_pages_in_one_transaction(app: Flask, blueprints: set[str]) -> None:
    """Each GET page of ``blueprints`` runs in one transaction: a page reads the launch, the
    course, the person and their evidence through several services, and one checkout and commit
    per page is much cheaper than one per call. Form posts keep a transaction per step, so no
    call to a meeting provider or an LMS happens inside an open write transaction."""
    methods: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        methods.setdefault(rule.endpoint, set()).update(rule.methods or ())
    for endpoint, allowed in methods.items():
        if endpoint.split(".")[0] in blueprints and allowed <= {"GET", "HEAD", "OPTIONS"}:
            app.view_functions[endpoint] = in_one_transaction(app.view_functions[endpoint])
