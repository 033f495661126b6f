"""blendkit: blended learning for any LTI 1.3 platform.

Live sessions with attendance and recordings, quiz-gated progression, and an xAPI record of it
all. The names below are the public API; everything in a module whose name starts with ``_`` is
private.
"""

from blendkit._version import __version__
from blendkit.config import Settings, load_settings
from blendkit.errors import (
    AlreadyExists,
    BlendkitError,
    ConditionInvalid,
    ConfigError,
    LaunchRejected,
    LRSConflict,
    LRSError,
    LRSRejected,
    LRSUnavailable,
    LTIError,
    MoodleFormatError,
    NotFound,
    OutboxError,
    PathInvalid,
    PluginError,
    ProgressionError,
    ProviderAuthError,
    ProviderError,
    ProviderRateLimited,
    RegistrationError,
    ScheduleError,
    ServiceError,
    SessionsError,
    StatementInvalid,
    StoreError,
    WebhookRejected,
    XAPIError,
)
from blendkit.store import Store

__all__ = [
    "AlreadyExists",
    "BlendkitError",
    "ConditionInvalid",
    "ConfigError",
    "LRSConflict",
    "LRSError",
    "LRSRejected",
    "LRSUnavailable",
    "LTIError",
    "LaunchRejected",
    "MoodleFormatError",
    "NotFound",
    "OutboxError",
    "PathInvalid",
    "PluginError",
    "ProgressionError",
    "ProviderAuthError",
    "ProviderError",
    "ProviderRateLimited",
    "RegistrationError",
    "ScheduleError",
    "ServiceError",
    "SessionsError",
    "Settings",
    "StatementInvalid",
    "Store",
    "StoreError",
    "WebhookRejected",
    "XAPIError",
    "__version__",
    "load_settings",
]
