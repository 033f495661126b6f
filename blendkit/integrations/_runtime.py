"""What every web adapter shares: the tool's runtime and its framework-neutral endpoints.

An adapter (Flask, Django, Starlette) builds one :class:`ToolRuntime` per application and
translates its framework's request into :class:`~blendkit.lti.HttpRequest`, calls one of the
methods below, and translates the :class:`~blendkit.lti.HttpResponse` back. Nothing here imports
a web framework, so the three adapters cannot drift in what they answer: the same headers, the
same refusals, the same log lines.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Self

import httpx

from blendkit.config import Settings, load_settings
from blendkit.errors import BlendkitError, LaunchRejected, RegistrationError, StoreError
from blendkit.http import Fence
from blendkit.integrations.access_log import redact_query_parameters
from blendkit.lti import (
    Advantage,
    ContentItem,
    DynamicRegistration,
    HttpRequest,
    HttpResponse,
    JWKSFetcher,
    KeySet,
    Launch,
    LaunchSessions,
    RegistrationInvites,
    StoreNonceStore,
    Tool,
    ToolConfig,
    canvas_config_response,
    claim_deep_linking_answer,
    error_response,
)
from blendkit.operations import (
    DATABASE_RETRY_AFTER_SECONDS,
    check_readiness,
    database_unavailable,
    unavailable_error,
)
from blendkit.store import KeyEncryption, Store, describe_database_error

if TYPE_CHECKING:
    from blendkit.calendar import CalendarFeeds

__all__ = [
    "LAUNCH_HEADER",
    "LAUNCH_PARAM",
    "UPGRADE_COMMAND",
    "ToolRuntime",
    "json_response",
    "no_store",
]

LAUNCH_PARAM = "launch"
"""The query/form parameter that names a kept launch on pages inside the LMS frame."""
LAUNCH_HEADER = "X-Blendkit-Launch"
"""The header alternative to :data:`LAUNCH_PARAM` (for scripts in the frame)."""

UPGRADE_COMMAND = "blendkit db upgrade"
"""The command that applies pending migrations (production apps never migrate at start-up)."""

log = logging.getLogger("blendkit.web")

_PRIVATE = (("Cache-Control", "no-store"), ("Referrer-Policy", "no-referrer"))


def no_store(response: HttpResponse) -> HttpResponse:
    """``response`` marked never cached and never leaking its URL as a referrer."""
    kept = tuple(
        (k, v) for k, v in response.headers if k.lower() not in {"cache-control", "referrer-policy"}
    )
    return response.model_copy(update={"headers": kept + _PRIVATE})


def json_response(
    body: Any, status: int = 200, *, headers: Sequence[tuple[str, str]] = ()
) -> HttpResponse:
    """A JSON answer (``no-store`` unless ``headers`` set a Cache-Control of their own)."""
    has_cache = any(k.lower() == "cache-control" for k, _ in headers)
    base = (("Content-Type", "application/json"),) + (() if has_cache else (_PRIVATE[0],))
    return HttpResponse(status=status, headers=(*base, *headers), body=json.dumps(body))


@dataclass
class ToolRuntime:
    """The tool, its keys, launch sessions, HTTP client and LTI Advantage for one application."""

    settings: Settings
    store: Store
    tool: Tool
    tool_config: ToolConfig
    keys: KeySet
    launches: LaunchSessions
    http_client: httpx.Client
    fence: Fence
    advantage: Advantage
    owns_http_client: bool = field(default=False, repr=False)
    owns_store: bool = field(default=False, repr=False)
    calendar_feeds: CalendarFeeds | None = field(default=None, repr=False)
    """What ``/calendar/<token>.ics`` serves; built on first use unless the app sets its own
    (with its bookings and join-page links)."""

    @classmethod
    def build(
        cls,
        *,
        settings: Settings | None = None,
        store: Store | None = None,
        http_client: httpx.Client | None = None,
        fence: Fence | None = None,
        migrate: bool = False,
        jwks_fetcher: JWKSFetcher | None = None,
    ) -> Self:
        """Everything the LTI endpoints need, from settings (``load_settings()`` by default).

        ``migrate`` upgrades the database first (development and tests); production deployments
        run ``blendkit db upgrade`` instead. ``jwks_fetcher`` replaces the platform key-set
        fetch over ``http_client`` (the ASGI adapter fetches on its event loop).
        """
        settings = settings or load_settings()
        owns_store = store is None
        store = store or Store.from_settings(settings)
        if migrate:
            store.migrate()
        owns = http_client is None
        client = http_client or httpx.Client(
            timeout=settings.lti.http_timeout_seconds, follow_redirects=False
        )
        keys = KeySet(store, encryption=KeyEncryption.from_settings(settings))
        fence = fence or Fence.from_settings(settings)
        tool = Tool.from_store(
            store, settings, http_client=client, fence=fence, jwks_fetcher=jwks_fetcher
        )
        advantage = Advantage(
            tool.registry,
            keys,
            http=client,
            timeout=settings.lti.http_timeout_seconds,
            fence=fence,
        )
        return cls(
            settings=settings,
            store=store,
            tool=tool,
            tool_config=ToolConfig.from_settings(settings),
            keys=keys,
            launches=LaunchSessions(store, ttl_seconds=settings.lti.launch_session_seconds),
            http_client=client,
            fence=fence,
            advantage=advantage,
            owns_http_client=owns,
            owns_store=owns_store,
        )

    def close(self) -> None:
        """Close the HTTP client and the store's connection pool this runtime created (a client
        or store passed in stays open)."""
        if self.owns_http_client:
            self.http_client.close()
        if self.owns_store:
            self.store.dispose()

    def warn_unless_ready(self) -> bool:
        """At start-up without migrating: one warning line when the database is not ready
        (pending migrations name ``blendkit db upgrade``); whether it is ready."""
        readiness = check_readiness(self.store)
        if not readiness.ready:
            action = (
                f"run `{UPGRADE_COMMAND}`"
                if readiness.reason == "migrations_pending"
                else "/readyz answers 503 until it is"
            )
            log.warning(
                "database not ready at start-up (%s: %s) and this process does not migrate "
                "([tool] environment is production, or migrate=False): %s",
                readiness.reason,
                (readiness.detail or "").split(";")[0],
                action,
            )
        return readiness.ready

    # -- LTI endpoints ----------------------------------------------------------------------

    def login(self, request: HttpRequest) -> HttpResponse:
        """``/lti/login`` (GET or POST): the OIDC login initiation answer."""
        return no_store(self.tool.login(request))

    def launch(self, request: HttpRequest) -> Launch | HttpResponse:
        """``/lti/launch``: a validated :class:`Launch`, or the platform-storage bridge page.

        Call it inside :meth:`Store.unit_of_work` together with :meth:`LaunchSessions.save` and
        the app's handler, so a refused or failed launch leaves nothing behind.
        """
        if request.method.upper() != "POST":
            raise LaunchRejected(
                "a launch must be form-posted by the platform; start it from the course in the LMS",
                code="lti.bad_launch_request",
                http_status=405,
            )
        outcome = self.tool.handle_launch(request)
        return no_store(outcome) if isinstance(outcome, HttpResponse) else outcome

    def jwks(self) -> HttpResponse:
        """``/lti/jwks``: the tool's public keys, cacheable for five minutes."""
        return json_response(self.tool.jwks(), headers=(("Cache-Control", "public, max-age=300"),))

    def register(self, request: HttpRequest) -> HttpResponse:
        """``/lti/register``: dynamic registration, refused unless ``[lti] registration_enabled``.

        The invite (query parameter ``invite``) is checked before any network call and never
        logged: refusals log their code and message only, which never carry it.
        """
        lti = self.settings.lti
        if not lti.registration_enabled:
            raise RegistrationError(
                "dynamic registration is switched off on this tool ([lti] registration_enabled); "
                "register the platform with `blendkit platform add` instead",
                code="lti.registration_disabled",
                http_status=403,
            )
        registration = DynamicRegistration(
            self.tool_config,
            self.tool.registry,
            invites=RegistrationInvites(self.store),
            http=self.http_client,
            fence=self.fence,
            timeout=lti.http_timeout_seconds,
            allowed_issuer_hosts=lti.registration_allowed_hosts or None,
        )
        return no_store(registration.handle(request))

    def canvas_json(self) -> HttpResponse:
        """``/lti/canvas.json``: the Canvas developer-key configuration."""
        return canvas_config_response(self.tool_config)

    def deep_linking_answer(
        self, launch: Launch, items: list[ContentItem], launch_id: str | None
    ) -> HttpResponse:
        """The auto-submitting page that returns ``items`` to the platform (signed JWT).

        Single use: the launch session is consumed, so a second answer for the same launch
        raises ``lti.deep_linking_already_answered`` (409) instead of signing again.
        """
        answer = self.advantage.deep_linking_response(launch, items)
        if launch_id:
            claim_deep_linking_answer(
                StoreNonceStore(self.store),
                launch,
                launch_id,
                expires_at=time.time() + self.launches.ttl_seconds,
            )
        return no_store(answer.html_response())

    # -- calendar feeds ---------------------------------------------------------------------

    def feeds(self) -> CalendarFeeds:
        """The calendar feeds of this store (built once, read-only: no outbox writes)."""
        if self.calendar_feeds is None:
            from blendkit.calendar import CalendarFeeds
            from blendkit.courses import CourseService
            from blendkit.xapi import Outbox, StatementFactory

            courses = CourseService(
                self.store,
                outbox=Outbox(self.store, None),  # feeds only read: nothing is emitted
                statements=StatementFactory(self.settings.tool.base_url),
            )
            self.calendar_feeds = CalendarFeeds(courses)
        return self.calendar_feeds

    def calendar_feed(self, request: HttpRequest, token: str) -> HttpResponse:
        """``GET /calendar/<token>.ics``: the feed the secret token opens, no login; 304 when
        the client's ``If-None-Match``/``If-Modified-Since`` is current; 404 for any token that
        opens nothing (unknown, revoked, malformed: the answer never says which). The token is
        never logged (the access logs redact it, see :mod:`.access_log`)."""
        from blendkit.calendar import feed_not_found, feed_response

        rendered = self.feeds().render_token(token)
        if rendered is None:
            return feed_not_found()
        return feed_response(request, rendered.body, rendered.last_modified)

    # -- operations -------------------------------------------------------------------------

    @staticmethod
    def health() -> HttpResponse:
        """``/healthz``: the process answers (no database call)."""
        return json_response({"status": "ok"})

    def readiness(self) -> HttpResponse:
        """``/readyz``: 200 when the database answers and migrations are current, else 503."""
        readiness = check_readiness(self.store)
        if readiness.ready:
            return json_response({"status": "ready"})
        body = {"status": "unavailable", "reason": readiness.reason}
        if readiness.reason == "migrations_pending":
            body["action"] = f"run `{UPGRADE_COMMAND}`"
        return json_response(
            body,
            503,
            headers=(
                ("Cache-Control", "no-store"),
                ("Retry-After", str(DATABASE_RETRY_AFTER_SECONDS)),
            ),
        )

    # -- errors -----------------------------------------------------------------------------

    @staticmethod
    def log_refusal(error: BlendkitError) -> None:
        """The one log line of a refusal: code and message only (never a token)."""
        log.warning("request refused: %s %s", error.code, error.message)

    @classmethod
    def refusal(cls, error: BlendkitError, *, as_json: bool = False) -> HttpResponse:
        """A blendkit error as its page (``as_json``: as ``{"error": code, "message": …}``
        for a host app's JSON endpoints), logged by code and message only (never a token)."""
        if as_json:
            return cls.json_refusal(error)
        cls.log_refusal(error)
        return no_store(error_response(error))

    @classmethod
    def json_refusal(cls, error: BlendkitError) -> HttpResponse:
        """A blendkit error as ``{"error": code, "message": …}`` (:meth:`BlendkitError.to_dict`)
        with its status, for the host app's JSON routes; logged like :meth:`refusal`."""
        cls.log_refusal(error)
        return json_response(error.to_dict(), error.http_status)

    @staticmethod
    def database_error(error: BaseException, method: str, path: str) -> StoreError:
        """A database error that is not an outage as ``store.database`` (500), logged by class
        and summary only (its text may quote learner data)."""
        summary = describe_database_error(error)
        log.error("database error on %s %s: %s", method, redact_query_parameters(path), summary)
        return StoreError(
            f"the database could not complete this request ({summary}); the server log has the "
            "same line with the time: check the database's health, or the data this launch sent",
            code="store.database",
        )

    @staticmethod
    def outage(
        cause: BaseException, method: str, path: str, *, as_json: bool = False
    ) -> HttpResponse:
        """503 + ``Retry-After`` for a database that does not answer, with ONE warning line
        (class and driver message, never the statement, its values or a traceback)."""
        log.warning(
            "database unavailable on %s %s: %s",
            method,
            redact_query_parameters(path),
            describe_database_error(cause),
        )
        error = unavailable_error()
        page = (
            json_response(error.to_dict(), error.http_status)
            if as_json
            else no_store(error_response(error))
        )
        headers = (*page.headers, ("Retry-After", str(DATABASE_RETRY_AFTER_SECONDS)))
        return page.model_copy(update={"headers": headers})

    @classmethod
    def failure(
        cls, error: BaseException, method: str, path: str, *, as_json: bool = False
    ) -> HttpResponse | None:
        """The answer for a database or blendkit error raised by a route, or ``None`` when
        ``error`` is neither (the framework's own handling applies). ``as_json`` answers in
        JSON (a host app's API) instead of the HTML page."""
        cause = database_unavailable(error)
        if cause is not None:
            return cls.outage(cause, method, path, as_json=as_json)
        if isinstance(error, BlendkitError):
            return cls.refusal(error, as_json=as_json)
        from sqlalchemy.exc import SQLAlchemyError

        if isinstance(error, SQLAlchemyError):
            return cls.refusal(cls.database_error(error, method, path), as_json=as_json)
        return None
