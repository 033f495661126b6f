"""Assignment and Grade Services 2.0: line items, scores and results, as typed values.

Follows the 1EdTech LTI AGS 2.0 specification: line items live in a container at the
``lineitems`` URL of the launch's AGS claim (paged with ``Link: rel="next"``), scores are POSTed
to ``<lineitem>/scores`` as ``application/vnd.ims.lis.v1.score+json`` with a millisecond UTC
timestamp, and results are read from ``<lineitem>/results``. Every call checks first that the
platform granted the scope it needs, and goes through :class:`ServiceSession` (cached token,
timeouts, bounded retries).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, Final, Literal
from urllib.parse import urlsplit, urlunsplit

import httpx
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_serializer,
    model_validator,
)

from blendkit.errors import ServiceError
from blendkit.lti._claims import AGSClaim
from blendkit.lti._service_calls import ServiceCall
from blendkit.lti._services import ServiceSession, response_json
from blendkit.lti._tool_config import (
    AGS_LINEITEM_READONLY_SCOPE,
    AGS_LINEITEM_SCOPE,
    AGS_RESULT_READONLY_SCOPE,
    AGS_SCORE_SCOPE,
)

__all__ = [
    "AGSCalls",
    "AGSResult",
    "AGSScore",
    "AGS_SCOPES",
    "ActivityProgress",
    "AssignmentGradeService",
    "GradingProgress",
    "LineItem",
    "ScoreSubmission",
]

AGS_SCOPES: Final = (
    AGS_LINEITEM_SCOPE,
    AGS_LINEITEM_READONLY_SCOPE,
    AGS_RESULT_READONLY_SCOPE,
    AGS_SCORE_SCOPE,
)
LINEITEM_MEDIA_TYPE: Final = "application/vnd.ims.lis.v2.lineitem+json"
LINEITEM_CONTAINER_MEDIA_TYPE: Final = "application/vnd.ims.lis.v2.lineitemcontainer+json"
SCORE_MEDIA_TYPE: Final = "application/vnd.ims.lis.v1.score+json"
RESULT_CONTAINER_MEDIA_TYPE: Final = "application/vnd.ims.lis.v2.resultcontainer+json"

ActivityProgress = Literal["Initialized", "Started", "InProgress", "Submitted", "Completed"]
GradingProgress = Literal["FullyGraded", "Pending", "PendingManual", "Failed", "NotReady"]


def _iso_ms(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat(timespec="milliseconds")


class _AGSModel(BaseModel):
    # Platforms add extension members (Canvas: "https://canvas.instructure.com/lti/…"): keep them
    # so that an update sends back what was read.
    model_config = ConfigDict(frozen=True, extra="allow", populate_by_name=True)

    def to_json(self) -> dict[str, Any]:
        """The JSON body the specification expects (camelCase, absent values left out)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class LineItem(_AGSModel):
    """A gradebook column. ``id`` is its URL, known once the platform created it."""

    id: str | None = None
    score_maximum: float = Field(alias="scoreMaximum", gt=0)
    label: str = Field(min_length=1)
    resource_id: str | None = Field(default=None, alias="resourceId")
    resource_link_id: str | None = Field(default=None, alias="resourceLinkId")
    tag: str | None = None
    start_date_time: datetime | None = Field(default=None, alias="startDateTime")
    end_date_time: datetime | None = Field(default=None, alias="endDateTime")
    grades_released: bool | None = Field(default=None, alias="gradesReleased")

    @field_serializer("start_date_time", "end_date_time")
    def _dates(self, value: datetime | None) -> str | None:
        return None if value is None else _iso_ms(value)


class ScoreSubmission(_AGSModel):
    """When the learner started and submitted the attempt that earned the score."""

    started_at: datetime | None = Field(default=None, alias="startedAt")
    submitted_at: datetime | None = Field(default=None, alias="submittedAt")

    @field_serializer("started_at", "submitted_at")
    def _dates(self, value: datetime | None) -> str | None:
        return None if value is None else _iso_ms(value)


class AGSScore(_AGSModel):
    """One learner's score on a line item; ``timestamp`` orders updates on the platform."""

    user_id: str = Field(alias="userId", min_length=1)
    activity_progress: ActivityProgress = Field(alias="activityProgress")
    grading_progress: GradingProgress = Field(alias="gradingProgress")
    score_given: float | None = Field(default=None, alias="scoreGiven", ge=0)
    score_maximum: float | None = Field(default=None, alias="scoreMaximum", gt=0)
    comment: str | None = None
    timestamp: datetime = Field(default_factory=lambda: datetime.now(UTC))
    scoring_user_id: str | None = Field(default=None, alias="scoringUserId")
    submission: ScoreSubmission | None = None

    @model_validator(mode="after")
    def _maximum_with_given(self) -> AGSScore:
        if self.score_given is not None and self.score_maximum is None:
            raise ValueError("scoreMaximum is required when scoreGiven is set")
        return self

    @field_serializer("timestamp")
    def _timestamp(self, value: datetime) -> str:
        return _iso_ms(value)


class AGSResult(_AGSModel):
    """The platform's current result for one learner on a line item (read-only)."""

    id: str | None = None
    score_of: str | None = Field(default=None, alias="scoreOf")
    user_id: str = Field(alias="userId")
    result_score: float | None = Field(default=None, alias="resultScore")
    result_maximum: float | None = Field(default=None, alias="resultMaximum")
    comment: str | None = None
    scoring_user_id: str | None = Field(default=None, alias="scoringUserId")


def _child_url(lineitem_url: str, child: str) -> str:
    """``<lineitem>/scores`` keeping the query string (Moodle puts ``type_id`` there)."""
    parts = urlsplit(lineitem_url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/" + child))


def _parse_list(payload: Any, model: type[Any], what: str) -> list[Any]:
    if not isinstance(payload, list):
        raise ServiceError(
            f"{what}: the platform answered with a JSON {type(payload).__name__}, not the "
            "array the AGS specification requires.",
            code="lti.service_response_invalid",
        )
    try:
        return [model.model_validate(item) for item in payload]
    except ValidationError as exc:
        raise ServiceError(
            f"{what}: the platform sent an entry the AGS specification does not allow: "
            f"{exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}",
            code="lti.service_response_invalid",
        ) from exc


class AGSCalls:
    """The AGS calls of one launch context as :class:`ServiceCall` values, and their answers
    parsed: sans-IO, shared by the synchronous and the asynchronous service."""

    def __init__(
        self,
        *,
        lineitems_url: str | None = None,
        lineitem_url: str | None = None,
        scopes: Iterable[str] = AGS_SCOPES,
    ) -> None:
        self.lineitems_url = lineitems_url
        self.lineitem_url = lineitem_url
        self.scopes = tuple(sorted(set(scopes) & set(AGS_SCOPES)))

    def _container(self) -> str:
        if not self.lineitems_url:
            raise ServiceError(
                "the launch carries no AGS line items URL: the platform does not let this tool "
                "manage gradebook columns here (enable grade sync for the tool).",
                code="lti.no_lineitems_url",
                http_status=400,
            )
        return self.lineitems_url

    def _default_lineitem(self) -> str:
        if not self.lineitem_url:
            raise ServiceError(
                "the launch names no line item (no `lineitem` in its AGS claim): pass the line "
                "item URL, e.g. from line_items() or create_line_item().",
                code="lti.no_lineitem",
                http_status=400,
            )
        return self.lineitem_url

    def _target(self, line_item: str | LineItem | None, child: str) -> str:
        target = line_item.id if isinstance(line_item, LineItem) else line_item
        return _child_url(target or self._default_lineitem(), child)

    def line_items_call(
        self,
        *,
        resource_link_id: str | None = None,
        resource_id: str | None = None,
        tag: str | None = None,
        limit: int | None = None,
    ) -> ServiceCall:
        """The first page of the context's line items (filtered as asked)."""
        params: dict[str, str | int] = {}
        for name, value in (
            ("resource_link_id", resource_link_id),
            ("resource_id", resource_id),
            ("tag", tag),
            ("limit", limit),
        ):
            if value is not None:
                params[name] = value
        return ServiceCall(
            "GET",
            self._container(),
            self.scopes,
            (AGS_LINEITEM_SCOPE, AGS_LINEITEM_READONLY_SCOPE),
            LINEITEM_CONTAINER_MEDIA_TYPE,
            "listing AGS line items",
            params=params,
        )

    def get_line_item_call(self, url: str | None = None) -> ServiceCall:
        """Read the line item at ``url`` (default: the launch's own line item)."""
        return ServiceCall(
            "GET",
            url or self._default_lineitem(),
            self.scopes,
            (AGS_LINEITEM_SCOPE, AGS_LINEITEM_READONLY_SCOPE),
            LINEITEM_MEDIA_TYPE,
            "reading an AGS line item",
        )

    def create_line_item_call(self, item: LineItem) -> ServiceCall:
        """Add ``item`` to the context (never repeated: a retry could create two columns)."""
        body = item.to_json()
        body.pop("id", None)
        return ServiceCall(
            "POST",
            self._container(),
            self.scopes,
            (AGS_LINEITEM_SCOPE,),
            LINEITEM_MEDIA_TYPE,
            "creating an AGS line item",
            json=body,
            content_type=LINEITEM_MEDIA_TYPE,
            idempotent=False,
        )

    def update_line_item_call(self, item: LineItem) -> ServiceCall:
        """Replace the line item at ``item.id`` with ``item``."""
        if not item.id:
            raise ServiceError(
                "cannot update a line item without its id URL; read it from the platform first",
                code="lti.lineitem_without_id",
            )
        return ServiceCall(
            "PUT",
            item.id,
            self.scopes,
            (AGS_LINEITEM_SCOPE,),
            LINEITEM_MEDIA_TYPE,
            "updating an AGS line item",
            json=item.to_json(),
            content_type=LINEITEM_MEDIA_TYPE,
        )

    def delete_line_item_call(self, url: str) -> ServiceCall:
        """Remove the line item at ``url``."""
        return ServiceCall(
            "DELETE",
            url,
            self.scopes,
            (AGS_LINEITEM_SCOPE,),
            LINEITEM_MEDIA_TYPE,
            "deleting an AGS line item",
        )

    def post_score_call(
        self, score: AGSScore, line_item: str | LineItem | None = None
    ) -> ServiceCall:
        """Publish ``score`` to ``line_item`` (default: the launch's own line item)."""
        return ServiceCall(
            "POST",
            self._target(line_item, "scores"),
            self.scopes,
            (AGS_SCORE_SCOPE,),
            "application/json",
            f"posting a score for user {score.user_id}",
            json=score.to_json(),
            content_type=SCORE_MEDIA_TYPE,
            # Platforms ignore a score whose timestamp is not newer: repeating it is harmless.
            idempotent=True,
        )

    def results_call(
        self,
        line_item: str | LineItem | None = None,
        *,
        user_id: str | None = None,
        limit: int | None = None,
    ) -> ServiceCall:
        """The first page of the current results of ``line_item`` (default: the launch's)."""
        params: dict[str, str | int] = {}
        if user_id is not None:
            params["user_id"] = user_id
        if limit is not None:
            params["limit"] = limit
        return ServiceCall(
            "GET",
            self._target(line_item, "results"),
            self.scopes,
            (AGS_RESULT_READONLY_SCOPE,),
            RESULT_CONTAINER_MEDIA_TYPE,
            "reading AGS results",
            params=params,
        )

    @staticmethod
    def line_items_of(page: httpx.Response, call: ServiceCall) -> list[LineItem]:
        """The line items one page of a listing carries."""
        return _parse_list(response_json(page, call.what), LineItem, call.what)

    @staticmethod
    def results_of(page: httpx.Response, call: ServiceCall) -> list[AGSResult]:
        """The results one page of a results read carries."""
        return _parse_list(response_json(page, call.what), AGSResult, call.what)

    @staticmethod
    def line_item_of(response: httpx.Response, call: ServiceCall) -> LineItem:
        """The line item a read, create or update answered with."""
        what = call.what
        try:
            return LineItem.model_validate(response_json(response, what))
        except ValidationError as exc:
            raise ServiceError(
                f"{what}: the platform's line item is not valid AGS JSON ({exc.error_count()} "
                "problems).",
                code="lti.service_response_invalid",
            ) from exc


class AssignmentGradeService(AGSCalls):
    """AGS calls for one launch context: built from a launch's AGS claim or from plain URLs."""

    def __init__(
        self,
        session: ServiceSession,
        *,
        lineitems_url: str | None = None,
        lineitem_url: str | None = None,
        scopes: Iterable[str] = AGS_SCOPES,
    ) -> None:
        super().__init__(lineitems_url=lineitems_url, lineitem_url=lineitem_url, scopes=scopes)
        self.session = session

    @classmethod
    def from_claim(cls, session: ServiceSession, claim: AGSClaim) -> AssignmentGradeService:
        """Use the URLs and the scopes the platform put in the launch."""
        return cls(
            session,
            lineitems_url=claim.lineitems,
            lineitem_url=claim.lineitem,
            scopes=claim.scope,
        )

    def line_items(
        self,
        *,
        resource_link_id: str | None = None,
        resource_id: str | None = None,
        tag: str | None = None,
        limit: int | None = None,
    ) -> Iterator[LineItem]:
        """Every line item of the context (filtered as asked), fetched page by page."""
        call = self.line_items_call(
            resource_link_id=resource_link_id, resource_id=resource_id, tag=tag, limit=limit
        )
        for page in self.session.pages_of(call):
            yield from self.line_items_of(page, call)

    def get_line_item(self, url: str | None = None) -> LineItem:
        """The line item at ``url`` (default: the launch's own line item)."""
        call = self.get_line_item_call(url)
        return self.line_item_of(self.session.call(call), call)

    def create_line_item(self, item: LineItem) -> LineItem:
        """Add a gradebook column; the platform's copy (with its ``id`` URL) comes back."""
        call = self.create_line_item_call(item)
        return self.line_item_of(self.session.call(call), call)

    def update_line_item(self, item: LineItem) -> LineItem:
        """Replace the line item at ``item.id`` with ``item`` (PUT of the whole item)."""
        call = self.update_line_item_call(item)
        response = self.session.call(call)
        return self.line_item_of(response, call) if response.content else item

    def delete_line_item(self, url: str) -> None:
        """Remove the line item at ``url`` (and, on most platforms, its grades)."""
        self.session.call(self.delete_line_item_call(url))

    def post_score(self, score: AGSScore, line_item: str | LineItem | None = None) -> None:
        """Publish ``score`` to ``line_item`` (default: the launch's own line item)."""
        self.session.call(self.post_score_call(score, line_item))

    def results(
        self,
        line_item: str | LineItem | None = None,
        *,
        user_id: str | None = None,
        limit: int | None = None,
    ) -> Iterator[AGSResult]:
        """Current results of ``line_item`` (default: the launch's), page by page."""
        call = self.results_call(line_item, user_id=user_id, limit=limit)
        for page in self.session.pages_of(call):
            yield from self.results_of(page, call)
