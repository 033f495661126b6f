"""Deep Linking 2.0 responses: the signed LtiDeepLinkingResponse and the page that returns it.

After an ``LtiDeepLinkingRequest`` the tool lets the instructor pick content, then answers with a
JWT signed by the tool's current key (``iss`` = client_id, ``aud`` = platform issuer) carrying
the chosen content items, POSTed by the browser as ``JWT`` to ``deep_link_return_url``. Items
are checked against what the request accepts (types, several items, line items, presentation
targets, media types). The ``…/lti-dl/claim/data`` claim is echoed only when the request carried
``data`` — pylti1p3 always sends ``data: null``, which some platforms reject.

A deep-linking request is answered once: :func:`claim_deep_linking_answer` consumes it (in a
:class:`NonceStore`, atomically across processes) before a signed response leaves the tool, so a
replayed or doubled submit cannot place content a second time.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import html
import secrets
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Final, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_serializer

from blendkit.errors import LTIError
from blendkit.lti._access_tokens import Signer
from blendkit.lti._claims import DeepLinkingSettings
from blendkit.lti._http import HttpResponse
from blendkit.lti._launch import Launch
from blendkit.lti._state import NonceStore

__all__ = [
    "ContentItem",
    "DeepLinkLineItem",
    "DeepLinkingResponse",
    "FileItem",
    "HtmlItem",
    "IframeOptions",
    "ImageItem",
    "ImageRef",
    "LinkItem",
    "ResourceLinkItem",
    "TimeWindow",
    "WindowOptions",
    "build_deep_linking_response",
    "check_items",
    "claim_deep_linking_answer",
    "deep_linking_response",
]

_DL: Final = "https://purl.imsglobal.org/spec/lti-dl/claim/"
_ANSWERED: Final = "deep-linking-answer:"
_LTI: Final = "https://purl.imsglobal.org/spec/lti/claim/"


class _Item(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow", populate_by_name=True)


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


class ImageRef(_Item):
    """An icon or thumbnail: URL and optional pixel size."""

    url: str
    width: int | None = None
    height: int | None = None


class WindowOptions(_Item):
    """Open the item in a new window (presentation target ``window``)."""

    target_name: str | None = Field(default=None, alias="targetName")
    width: int | None = None
    height: int | None = None
    window_features: str | None = Field(default=None, alias="windowFeatures")


class IframeOptions(_Item):
    """Embed the item in an iframe (presentation target ``iframe``)."""

    src: str | None = None
    width: int | None = None
    height: int | None = None


class TimeWindow(_Item):
    """When the link is available, or when submissions are accepted."""

    start_date_time: datetime | None = Field(default=None, alias="startDateTime")
    end_date_time: datetime | None = Field(default=None, alias="endDateTime")

    @field_serializer("start_date_time", "end_date_time")
    def _dates(self, value: datetime | None) -> str | None:
        return _iso(value)


class DeepLinkLineItem(_Item):
    """Ask the platform to create a gradebook column with the link."""

    score_maximum: float = Field(alias="scoreMaximum", gt=0)
    label: str | None = None
    resource_id: str | None = Field(default=None, alias="resourceId")
    tag: str | None = None
    grades_released: bool | None = Field(default=None, alias="gradesReleased")


class ResourceLinkItem(_Item):
    """An LTI resource link: the platform will launch the tool at ``url`` (or its default)."""

    type: Literal["ltiResourceLink"] = "ltiResourceLink"
    url: str | None = None
    title: str | None = None
    text: str | None = None
    icon: ImageRef | None = None
    thumbnail: ImageRef | None = None
    line_item: DeepLinkLineItem | None = Field(default=None, alias="lineItem")
    custom: dict[str, str] | None = None
    window: WindowOptions | None = None
    iframe: IframeOptions | None = None
    available: TimeWindow | None = None
    submission: TimeWindow | None = None


class LinkItem(_Item):
    """A plain hyperlink to content hosted anywhere."""

    type: Literal["link"] = "link"
    url: str
    title: str | None = None
    text: str | None = None
    icon: ImageRef | None = None
    thumbnail: ImageRef | None = None
    window: WindowOptions | None = None
    iframe: IframeOptions | None = None


class HtmlItem(_Item):
    """An HTML fragment the platform embeds."""

    type: Literal["html"] = "html"
    html: str
    title: str | None = None
    text: str | None = None


class FileItem(_Item):
    """A file the platform downloads from ``url`` (before ``expires_at``)."""

    type: Literal["file"] = "file"
    url: str
    title: str | None = None
    text: str | None = None
    icon: ImageRef | None = None
    thumbnail: ImageRef | None = None
    media_type: str | None = Field(default=None, alias="mediaType")
    expires_at: datetime | None = Field(default=None, alias="expiresAt")

    @field_serializer("expires_at")
    def _expires(self, value: datetime | None) -> str | None:
        return _iso(value)


class ImageItem(_Item):
    """An image shown inline."""

    type: Literal["image"] = "image"
    url: str
    title: str | None = None
    text: str | None = None
    icon: ImageRef | None = None
    thumbnail: ImageRef | None = None
    width: int | None = None
    height: int | None = None


ContentItem = Annotated[
    ResourceLinkItem | LinkItem | HtmlItem | FileItem | ImageItem, Field(discriminator="type")
]


def _refuse(message: str, code: str) -> LTIError:
    return LTIError(message, code=code)


def check_items(settings: DeepLinkingSettings, items: Sequence[ContentItem]) -> None:
    """Raise ``lti.deep_linking_*`` when the request does not accept ``items`` as they are."""
    if len(items) > 1 and settings.accept_multiple is not True:
        raise _refuse(
            f"the platform accepts a single content item here and {len(items)} were chosen; "
            "return one item (the request did not set accept_multiple).",
            "lti.deep_linking_multiple_not_accepted",
        )
    targets = set(settings.accept_presentation_document_targets)
    for index, item in enumerate(items):
        where = f"content item {index + 1} ({item.type})"
        if item.type not in settings.accept_types:
            raise _refuse(
                f"{where} is not among the types this placement accepts "
                f"({', '.join(settings.accept_types)}).",
                "lti.deep_linking_type_not_accepted",
            )
        has_line_item = isinstance(item, ResourceLinkItem) and item.line_item is not None
        if has_line_item and settings.accept_lineitem is False:
            raise _refuse(
                f"{where} asks for a gradebook line item, which this placement refuses "
                "(accept_lineitem is false): leave lineItem out.",
                "lti.deep_linking_lineitem_not_accepted",
            )
        for target in ("window", "iframe"):
            if getattr(item, target, None) is not None and target not in targets:
                raise _refuse(
                    f"{where} asks to open in a {target}, which the platform does not offer "
                    f"here (accepted targets: {', '.join(sorted(targets))}).",
                    "lti.deep_linking_target_not_accepted",
                )
        if isinstance(item, FileItem) and item.media_type and settings.accept_media_types:
            patterns = [p.strip() for p in settings.accept_media_types.split(",") if p.strip()]
            if not any(fnmatch.fnmatch(item.media_type, pattern) for pattern in patterns):
                raise _refuse(
                    f"{where} has media type {item.media_type}, not one of "
                    f"{settings.accept_media_types}.",
                    "lti.deep_linking_media_type_not_accepted",
                )


_SUBMIT_SCRIPT: Final = 'document.getElementById("f").submit();'
_SCRIPT_HASH: Final = (
    "'sha256-" + base64.b64encode(hashlib.sha256(_SUBMIT_SCRIPT.encode()).digest()).decode() + "'"
)
_PAGE: Final = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Returning to the course</title></head>
<body>
<form id="f" method="post" action="{action}">
<input type="hidden" name="JWT" value="{jwt}">
<p>Sending your selection back to the course…</p>
<button type="submit">Continue</button>
</form>
<script>{script}</script>
</body></html>
"""


class DeepLinkingResponse(BaseModel):
    """The signed response and where it goes; ``html_response()`` is what the browser gets."""

    model_config = ConfigDict(frozen=True)

    jwt: str = Field(repr=False)
    return_url: str
    claims: dict[str, Any] = Field(repr=False)

    def html_response(self) -> HttpResponse:
        """A page that auto-POSTs ``JWT`` to the return URL (and shows a button without JS)."""
        parts = urlsplit(self.return_url)
        origin = f"{parts.scheme}://{parts.netloc}"
        body = _PAGE.format(
            action=html.escape(self.return_url, quote=True),
            jwt=html.escape(self.jwt, quote=True),
            script=_SUBMIT_SCRIPT,
        )
        csp = f"default-src 'none'; script-src {_SCRIPT_HASH}; form-action {origin}"
        return HttpResponse(
            status=200,
            headers=(
                ("Content-Type", "text/html; charset=utf-8"),
                ("Cache-Control", "no-store"),
                ("X-Content-Type-Options", "nosniff"),
                ("Referrer-Policy", "no-referrer"),
                ("Content-Security-Policy", csp),
            ),
            body=body,
        )


def build_deep_linking_response(
    *,
    signer: Signer,
    issuer: str,
    client_id: str,
    deployment_id: str,
    settings: DeepLinkingSettings,
    items: Sequence[ContentItem],
    msg: str | None = None,
    log: str | None = None,
    errormsg: str | None = None,
    errorlog: str | None = None,
    lifetime: int = 300,
    clock: Callable[[], float] = time.time,
) -> DeepLinkingResponse:
    """Check ``items`` against the request ``settings`` and sign the response for the platform.

    ``issuer`` is the platform's issuer (the launch's ``iss``); it becomes the JWT audience.
    An empty ``items`` list tells the platform the user cancelled.
    """
    parts = urlsplit(settings.deep_link_return_url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise _refuse(
            f"the deep_link_return_url {settings.deep_link_return_url!r} is not an http(s) URL; "
            "the platform's deep-linking request is malformed.",
            "lti.deep_linking_return_url",
        )
    check_items(settings, items)
    now = int(clock())
    claims: dict[str, Any] = {
        "iss": client_id,
        "aud": issuer,
        "iat": now,
        "exp": now + lifetime,
        "nonce": secrets.token_urlsafe(24),
        _LTI + "deployment_id": deployment_id,
        _LTI + "message_type": "LtiDeepLinkingResponse",
        _LTI + "version": "1.3.0",
        _DL + "content_items": [
            item.model_dump(mode="json", by_alias=True, exclude_none=True) for item in items
        ],
    }
    if settings.data is not None:
        claims[_DL + "data"] = settings.data
    for name, value in (("msg", msg), ("log", log), ("errormsg", errormsg), ("errorlog", errorlog)):
        if value is not None:
            claims[_DL + name] = value
    token = signer.sign(claims, {"typ": "JWT"})
    return DeepLinkingResponse(jwt=token, return_url=settings.deep_link_return_url, claims=claims)


def deep_linking_response(
    launch: Launch, items: Sequence[ContentItem], *, signer: Signer, **options: Any
) -> DeepLinkingResponse:
    """:func:`build_deep_linking_response` for a validated deep-linking :class:`Launch`."""
    settings = launch.deep_linking_settings
    if settings is None:
        raise _refuse(
            "this launch is not a deep-linking request (no deep_linking_settings claim); only "
            "an LtiDeepLinkingRequest can be answered with content items.",
            "lti.not_deep_linking",
        )
    return build_deep_linking_response(
        signer=signer,
        issuer=launch.issuer,
        client_id=launch.client_id,
        deployment_id=launch.deployment_id,
        settings=settings,
        items=items,
        **options,
    )


def claim_deep_linking_answer(
    nonces: NonceStore, launch: Launch, session_id: str, *, expires_at: float
) -> None:
    """Consume the deep-linking request saved as launch session ``session_id``.

    The first call wins; every later or concurrent one (any process sharing ``nonces``) raises
    ``lti.deep_linking_already_answered`` (409). Call it after the response is built and before
    it is sent, so a refused choice does not use the request up. ``expires_at`` must outlive
    the launch session. Only a hash of the session id is stored.
    """
    marker = _ANSWERED + hashlib.sha256(session_id.encode("utf-8")).hexdigest()
    if not nonces.use(launch.issuer, marker, expires_at):
        raise LTIError(
            "this deep-linking request was already answered: the platform received the signed "
            "selection once and will not accept another for it. To place more content, start "
            "again from the course (Add an activity / Select content).",
            code="lti.deep_linking_already_answered",
            http_status=409,
        )
