"""LTI 1.3 tool core, sans-IO: plain request values in, plain responses or a typed Launch out.

Build a :class:`Tool` (``Tool.from_store(store, settings)``), then in your web framework turn each
request into an :class:`HttpRequest` and call ``tool.login``, ``tool.handle_launch`` and
``tool.jwks``. Rejections are :class:`blendkit.errors.LaunchRejected` with a specific ``code``;
:func:`error_response` renders any :class:`blendkit.errors.BlendkitError` as a page.
"""

from blendkit.lti._claims import (
    AGSClaim,
    Context,
    DeepLinkingSettings,
    LaunchPresentation,
    LISClaim,
    NRPSClaim,
    ResourceLink,
    ToolPlatform,
    UserIdentity,
)
from blendkit.lti._http import HttpRequest, HttpResponse, SetCookie, error_response
from blendkit.lti._jwks import HttpxJWKSFetcher, JWKSCache, JWKSFetcher, parse_jwks
from blendkit.lti._keys import KeySet, ToolKey
from blendkit.lti._launch import Launch, MessageType
from blendkit.lti._login import LoginHandler
from blendkit.lti._platforms import (
    InMemoryPlatformRegistry,
    Platform,
    PlatformRegistry,
    StorePlatformRegistry,
    check_endpoint_url,
)
from blendkit.lti._roles import RoleSummary, parse_role, summarize_roles
from blendkit.lti._state import (
    InMemoryLoginStateStore,
    InMemoryNonceStore,
    LoginState,
    LoginStateStore,
    NonceStore,
    StoreLoginStateStore,
    StoreNonceStore,
)
from blendkit.lti._tool import Tool
from blendkit.lti._validator import LaunchValidator

__all__ = [
    "AGSClaim",
    "Context",
    "DeepLinkingSettings",
    "HttpRequest",
    "HttpResponse",
    "HttpxJWKSFetcher",
    "InMemoryLoginStateStore",
    "InMemoryNonceStore",
    "InMemoryPlatformRegistry",
    "JWKSCache",
    "JWKSFetcher",
    "KeySet",
    "LISClaim",
    "Launch",
    "LaunchPresentation",
    "LaunchValidator",
    "LoginHandler",
    "LoginState",
    "LoginStateStore",
    "MessageType",
    "NRPSClaim",
    "NonceStore",
    "Platform",
    "PlatformRegistry",
    "ResourceLink",
    "RoleSummary",
    "SetCookie",
    "StoreLoginStateStore",
    "StoreNonceStore",
    "StorePlatformRegistry",
    "Tool",
    "ToolKey",
    "ToolPlatform",
    "UserIdentity",
    "check_endpoint_url",
    "error_response",
    "parse_jwks",
    "parse_role",
    "summarize_roles",
]
