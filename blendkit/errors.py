"""The one error tree of blendkit.

Every error carries a stable ``code`` (documented in ``docs/reference/errors.md``), a message an
administrator can act on, and the HTTP status an adapter should answer with. Messages never
contain tokens, secrets or signatures.

    BlendkitError                        blendkit.error
    ├── ConfigError                      config.invalid
    ├── StoreError                       store.error
    │   ├── NotFound                     store.not_found
    │   └── AlreadyExists                store.already_exists
    ├── PluginError                      plugin.error
    ├── AccessDenied                     admin.denied          (outside what the actor administers)
    ├── RequestTooLarge                  request.too_large     (413: body above the cap)
    ├── OutboundError                    http.outbound         (a fenced outbound fetch was stopped)
    │   ├── OutboundRefused              http.outbound_refused (URL or address not allowed)
    │   └── ResponseTooLarge             http.response_too_large
    ├── LTIError                         lti.error
    │   ├── LaunchRejected               lti.launch_rejected   (every launch check: see lti.* codes)
    │   ├── RegistrationError            lti.registration
    │   └── ServiceError                 lti.service           (AGS/NRPS/token endpoint failures)
    ├── XAPIError                        xapi.error
    │   ├── StatementInvalid             xapi.statement_invalid
    │   ├── LRSError                     xapi.lrs
    │   │   ├── LRSRejected              xapi.lrs_rejected     (4xx other than 409)
    │   │   ├── LRSUnavailable           xapi.lrs_unavailable  (5xx, 429, timeouts, network)
    │   │   └── LRSConflict              xapi.lrs_conflict     (412 / 409 on documents)
    │   └── OutboxError                  xapi.outbox
    ├── ProgressionError                 progression.error
    │   ├── PathInvalid                  progression.path_invalid
    │   ├── ConditionInvalid             progression.condition_invalid
    │   └── MoodleFormatError            progression.moodle_format
    ├── SessionsError                    sessions.error
    │   ├── ProviderError                sessions.provider
    │   │   ├── ProviderRateLimited      sessions.rate_limited
    │   │   └── ProviderAuthError        sessions.provider_auth
    │   ├── WebhookRejected              sessions.webhook_rejected
    │   └── ScheduleError                sessions.schedule
    ├── CoursesError                     courses.error         (a course operation was refused)
    │   ├── CourseInputInvalid           courses.invalid       (bad input: see courses.* codes)
    │   ├── ItemLocked                   courses.item_locked   (403: work on a locked item)
    │   └── CourseUnassigned             courses.unassigned    (a course no deployment owns yet)
    └── NotifyError                      notify.error          (reminders and notifications)
        ├── NotificationInvalid          notify.invalid        (also a ValueError: see notify.*)
        └── NotifierConfigError          notify.config         (also a ConfigError)

``LaunchRejected`` is raised with a specific code (``lti.replayed_nonce``, ``lti.bad_signature`` …)
so that a security corpus can check the exact reason; ``code`` defaults to the class code.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "AccessDenied",
    "AlreadyExists",
    "BlendkitError",
    "ConditionInvalid",
    "ConfigError",
    "CourseInputInvalid",
    "CourseUnassigned",
    "CoursesError",
    "ItemLocked",
    "LRSConflict",
    "LRSError",
    "LRSRejected",
    "LRSUnavailable",
    "LTIError",
    "LaunchRejected",
    "MoodleFormatError",
    "NotFound",
    "NotificationInvalid",
    "NotifierConfigError",
    "NotifyError",
    "OutboundError",
    "OutboundRefused",
    "OutboxError",
    "PathInvalid",
    "PluginError",
    "ProgressionError",
    "ProviderAuthError",
    "ProviderError",
    "ProviderRateLimited",
    "RegistrationError",
    "RequestTooLarge",
    "ResponseTooLarge",
    "ScheduleError",
    "ServiceError",
    "SessionsError",
    "StatementInvalid",
    "StoreError",
    "WebhookRejected",
    "XAPIError",
]


class BlendkitError(Exception):
    """Base of every error blendkit raises on purpose."""

    code: ClassVar[str] = "blendkit.error"
    http_status: ClassVar[int] = 500

    def __init__(
        self, message: str, *, code: str | None = None, http_status: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        # Instance attributes shadow the class defaults on purpose: one class, many reasons.
        if code is not None:
            self.code = code  # type: ignore[misc]
        if http_status is not None:
            self.http_status = http_status  # type: ignore[misc]

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"

    def to_dict(self) -> dict[str, str]:
        """A JSON-ready body for adapters: ``{"error": code, "message": message}``."""
        return {"error": self.code, "message": self.message}


# --- configuration, store, plugins -------------------------------------------------------------


class ConfigError(BlendkitError):
    """The settings file or environment holds a value blendkit cannot use."""

    code = "config.invalid"


class StoreError(BlendkitError):
    """The database could not be read or written."""

    code = "store.error"


class NotFound(StoreError):
    """A record named by the caller does not exist."""

    code = "store.not_found"
    http_status = 404


class AlreadyExists(StoreError):
    """A record with the same identity already exists."""

    code = "store.already_exists"
    http_status = 409


class PluginError(BlendkitError):
    """A plugin could not be loaded or does not fulfil its contract."""

    code = "plugin.error"


class AccessDenied(BlendkitError):
    """An administrator acted outside what they administer (another registration, or something
    only the tool's own administrators may do); ``code`` names the rule."""

    code = "admin.denied"
    http_status = 403


class RequestTooLarge(BlendkitError):
    """A request body is larger than the cap for its path (``[tool] max_request_bytes`` or
    ``[tool] max_webhook_bytes``); it was refused before more than the cap was read."""

    code = "request.too_large"
    http_status = 413


# --- outbound HTTP -------------------------------------------------------------------------------


class OutboundError(BlendkitError):
    """The outbound fence of :mod:`blendkit.http` stopped a fetch; nothing usable came back."""

    code = "http.outbound"
    http_status = 502


class OutboundRefused(OutboundError):
    """A URL, one of its addresses or the peer connected to is not allowed; nothing was read."""

    code = "http.outbound_refused"


class ResponseTooLarge(OutboundError):
    """An answer grew past the byte cap; reading stopped at the cap."""

    code = "http.response_too_large"


# --- LTI -----------------------------------------------------------------------------------------


class LTIError(BlendkitError):
    """Anything that goes wrong talking LTI 1.3 with a platform."""

    code = "lti.error"
    http_status = 400


class LaunchRejected(LTIError):
    """A login or launch request failed a check; ``code`` names the check."""

    code = "lti.launch_rejected"
    http_status = 400


class RegistrationError(LTIError):
    """A platform registration is missing, incomplete or inconsistent."""

    code = "lti.registration"
    http_status = 400


class ServiceError(LTIError):
    """An LTI Advantage service (AGS, NRPS, token endpoint) failed."""

    code = "lti.service"
    http_status = 502


# --- xAPI ----------------------------------------------------------------------------------------


class XAPIError(BlendkitError):
    """Anything that goes wrong building or delivering xAPI statements."""

    code = "xapi.error"


class StatementInvalid(XAPIError):
    """A statement does not conform to the xAPI specification; the message names the field."""

    code = "xapi.statement_invalid"
    http_status = 400


class LRSError(XAPIError):
    """The Learning Record Store answered with an error."""

    code = "xapi.lrs"
    http_status = 502

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, code=code)
        self.status = status
        self.retry_after = retry_after


class LRSRejected(LRSError):
    """The LRS refused the request as invalid (4xx): retrying the same request will not help."""

    code = "xapi.lrs_rejected"


class LRSUnavailable(LRSError):
    """The LRS is down, overloaded or slow (5xx, 429, timeout, network): retry later."""

    code = "xapi.lrs_unavailable"


class LRSConflict(LRSError):
    """A document changed since it was read (412) or a concurrency header is missing (409/428)."""

    code = "xapi.lrs_conflict"


class OutboxError(XAPIError):
    """The durable outbox could not accept or deliver statements."""

    code = "xapi.outbox"


# --- progression ---------------------------------------------------------------------------------


class ProgressionError(BlendkitError):
    """Anything that goes wrong with course paths and their conditions."""

    code = "progression.error"
    http_status = 400


class PathInvalid(ProgressionError):
    """A course path document is malformed; the message names the path inside the document."""

    code = "progression.path_invalid"


class ConditionInvalid(ProgressionError):
    """A condition is malformed or of an unknown type; the message names the node."""

    code = "progression.condition_invalid"


class MoodleFormatError(ProgressionError):
    """A Moodle availability document cannot be imported or exported; the message names the node."""

    code = "progression.moodle_format"


# --- live sessions -------------------------------------------------------------------------------


class SessionsError(BlendkitError):
    """Anything that goes wrong with live sessions, providers and scheduling."""

    code = "sessions.error"
    http_status = 400


class ProviderError(SessionsError):
    """A meeting provider (Zoom, Teams, …) failed or answered unexpectedly."""

    code = "sessions.provider"
    http_status = 502


class ProviderRateLimited(ProviderError):
    """The provider kept answering 429 after the allowed retries."""

    code = "sessions.rate_limited"
    http_status = 503

    def __init__(
        self, message: str, *, code: str | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class ProviderAuthError(ProviderError):
    """The provider refused blendkit's credentials; check the app's id, secret and scopes."""

    code = "sessions.provider_auth"


class WebhookRejected(SessionsError):
    """A webhook request failed verification (signature, timestamp, client state, shape)."""

    code = "sessions.webhook_rejected"
    http_status = 401


class ScheduleError(SessionsError):
    """A scheduling request cannot be planned (bad zone file, empty term, …)."""

    code = "sessions.schedule"


# --- courses -------------------------------------------------------------------------------------


class CoursesError(BlendkitError):
    """A course operation (enrolment, evidence, quiz, live-session link, grade) was refused."""

    code = "courses.error"
    http_status = 400


class CourseInputInvalid(CoursesError):
    """A course operation was given input it cannot use; ``code`` and the message name it."""

    code = "courses.invalid"
    http_status = 400


class ItemLocked(CoursesError):
    """Work was sent for a path item the learner cannot open yet; nothing was stored."""

    code = "courses.item_locked"
    http_status = 403


class CourseUnassigned(CoursesError):
    """A course from before deployment tenancy belongs to no deployment yet, so neither its
    launches nor its grades can be routed; ``blendkit courses assign-deployment`` fixes it."""

    code = "courses.unassigned"
    http_status = 409


# --- notifications -------------------------------------------------------------------------------


class NotifyError(BlendkitError):
    """A reminder or notification could not be planned, queued or sent as asked."""

    code = "notify.error"


class NotificationInvalid(NotifyError, ValueError):
    """A reminder, lead time, quiet-hours time or template name blendkit cannot use; the message
    names the field. A ``ValueError`` too, which callers of the parsers catch."""

    code = "notify.invalid"
    http_status = 400


class NotifierConfigError(NotifyError, ConfigError):
    """A notifier's settings (``[email]``, ``[webhook]``, ``[notify] channel``) or the queue's
    wiring cannot send anything; the message names the setting to fix."""

    code = "notify.config"
