"""LTI 1.3 tool core, sans-IO: plain request values in, plain responses or a typed Launch out.

Build a :class:`Tool` (``Tool.from_store(store, settings)``), then in your web framework turn each
request into an :class:`HttpRequest` and call ``tool.login``, ``tool.handle_launch`` and
``tool.jwks``. Rejections are :class:`blendkit.errors.LaunchRejected` with a specific ``code``;
:func:`error_response` renders any :class:`blendkit.errors.BlendkitError` as a page.

After a launch, :class:`Advantage` (``Advantage.from_store(store, settings)``) gives the launch's
Assignment and Grade Services, Names and Role Provisioning and deep-linking answers;
:class:`DynamicRegistration` (through a one-time :class:`RegistrationInvites` link) and
:func:`canvas_developer_key_config` install the tool, both built from the tool's
:class:`ToolConfig`. :func:`administrator_for` decides what a launch may administer.
"""

from blendkit._renamed import renamed_names as _renamed_names
from blendkit.lti._access_tokens import AccessToken, AccessTokens
from blendkit.lti._admin import Administrator, administrator_for
from blendkit.lti._advantage import Advantage
from blendkit.lti._ags import (
    ActivityProgress,
    AGSCalls,
    AGSResult,
    AGSScore,
    AssignmentGradeService,
    GradingProgress,
    LineItem,
    ScoreSubmission,
)
from blendkit.lti._async_services import (
    AsyncAdvantage,
    AsyncAssignmentGradeService,
    AsyncNamesRoleService,
    AsyncServiceSession,
)
from blendkit.lti._canvas import canvas_config_response, canvas_developer_key_config
from blendkit.lti._claims import (
    AGSClaim,
    DeepLinkingSettings,
    LaunchContext,
    LaunchPresentation,
    LISClaim,
    NRPSClaim,
    ResourceLink,
    ToolPlatform,
    UserIdentity,
)
from blendkit.lti._deep_linking import (
    ContentItem,
    DeepLinkingResponse,
    DeepLinkLineItem,
    FileItem,
    HtmlItem,
    IframeOptions,
    ImageItem,
    ImageRef,
    LinkItem,
    ResourceLinkItem,
    TimeWindow,
    WindowOptions,
    build_deep_linking_response,
    claim_deep_linking_answer,
    deep_linking_response,
)
from blendkit.lti._http import HttpRequest, HttpResponse, SetCookie, error_response
from blendkit.lti._invites import (
    INVITE_PARAM,
    MintedInvite,
    RegistrationInvite,
    RegistrationInvites,
    parse_lifetime,
)
from blendkit.lti._jwks import (
    AsyncHttpxJWKSFetcher,
    HttpxJWKSFetcher,
    JWKSCache,
    JWKSFetcher,
    parse_jwks,
)
from blendkit.lti._keys import KeySet, ToolKey, public_jwk
from blendkit.lti._launch import Launch, MessageType
from blendkit.lti._launch_sessions import LaunchSessions
from blendkit.lti._login import LoginHandler
from blendkit.lti._nrps import Member, MembershipContext, NamesRoleService, Roster, RosterPage
from blendkit.lti._platform_sender import PLATFORM_RETRY
from blendkit.lti._platforms import (
    CachedPlatformRegistry,
    InMemoryPlatformRegistry,
    Platform,
    PlatformRegistry,
    StorePlatformRegistry,
    check_endpoint_url,
)
from blendkit.lti._registration import (
    DynamicRegistration,
    PlatformConfiguration,
    RegistrationResult,
)
from blendkit.lti._roles import RoleSummary, parse_role, summarize_roles
from blendkit.lti._service_calls import ServiceCall
from blendkit.lti._services import ServiceSession
from blendkit.lti._state import (
    InMemoryLoginStateStore,
    InMemoryNonceStore,
    LoginState,
    LoginStateStore,
    NonceStore,
    StoreLoginStateStore,
    StoreNonceStore,
)
from blendkit.lti._tenant import Tenant
from blendkit.lti._time_zone import (
    LEGACY_ZONE_NAMES,
    SERVER_DEFAULT_ZONE,
    TIME_ZONE_PARAMETER,
    TIME_ZONE_PARAMETERS,
    TIME_ZONE_SUBSTITUTION,
    canonical_time_zone,
    is_time_zone,
    platform_time_zone,
    time_zone_names,
)
from blendkit.lti._tool import Tool
from blendkit.lti._tool_config import ToolConfig
from blendkit.lti._validator import LaunchValidator

__all__ = [
    "AGSCalls",
    "AGSClaim",
    "AGSResult",
    "AGSScore",
    "AccessToken",
    "AccessTokens",
    "ActivityProgress",
    "Administrator",
    "Advantage",
    "AssignmentGradeService",
    "AsyncAdvantage",
    "AsyncAssignmentGradeService",
    "AsyncHttpxJWKSFetcher",
    "AsyncNamesRoleService",
    "AsyncServiceSession",
    "CachedPlatformRegistry",
    "ContentItem",
    "DeepLinkLineItem",
    "DeepLinkingResponse",
    "DeepLinkingSettings",
    "DynamicRegistration",
    "FileItem",
    "GradingProgress",
    "HtmlItem",
    "HttpRequest",
    "HttpResponse",
    "HttpxJWKSFetcher",
    "INVITE_PARAM",
    "IframeOptions",
    "ImageItem",
    "ImageRef",
    "InMemoryLoginStateStore",
    "InMemoryNonceStore",
    "InMemoryPlatformRegistry",
    "JWKSCache",
    "JWKSFetcher",
    "KeySet",
    "LEGACY_ZONE_NAMES",
    "LISClaim",
    "Launch",
    "LaunchContext",
    "LaunchPresentation",
    "LaunchSessions",
    "LaunchValidator",
    "LineItem",
    "LinkItem",
    "LoginHandler",
    "LoginState",
    "LoginStateStore",
    "Member",
    "MembershipContext",
    "MessageType",
    "MintedInvite",
    "NRPSClaim",
    "NamesRoleService",
    "NonceStore",
    "PLATFORM_RETRY",
    "Platform",
    "PlatformConfiguration",
    "PlatformRegistry",
    "RegistrationInvite",
    "RegistrationInvites",
    "RegistrationResult",
    "ResourceLink",
    "ResourceLinkItem",
    "RoleSummary",
    "Roster",
    "RosterPage",
    "SERVER_DEFAULT_ZONE",
    "ScoreSubmission",
    "ServiceCall",
    "ServiceSession",
    "SetCookie",
    "StoreLoginStateStore",
    "StoreNonceStore",
    "StorePlatformRegistry",
    "TIME_ZONE_PARAMETER",
    "TIME_ZONE_PARAMETERS",
    "TIME_ZONE_SUBSTITUTION",
    "Tenant",
    "TimeWindow",
    "Tool",
    "ToolConfig",
    "ToolKey",
    "ToolPlatform",
    "UserIdentity",
    "WindowOptions",
    "administrator_for",
    "build_deep_linking_response",
    "canonical_time_zone",
    "canvas_config_response",
    "canvas_developer_key_config",
    "check_endpoint_url",
    "claim_deep_linking_answer",
    "deep_linking_response",
    "error_response",
    "is_time_zone",
    "parse_jwks",
    "parse_lifetime",
    "parse_role",
    "platform_time_zone",
    "public_jwk",
    "summarize_roles",
    "time_zone_names",
]

# Old names (Context, Result, Score) resolve with a DeprecationWarning: docs/reference/api-naming.md
__getattr__ = _renamed_names(
    __name__,
    {
        "Context": "LaunchContext",
        "Result": "AGSResult",
        "Score": "AGSScore",
    },
)
