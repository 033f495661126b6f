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
from blendkit.lti._services import ServiceSession, response_json
from blendkit.lti._tool_config import (
    AGS_LINEITEM_READONLY_SCOPE,
    AGS_LINEITEM_SCOPE,
    AGS_RESULT_READONLY_SCOPE,
    AGS_SCORE_SCOPE,
)

__all__ = [
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


class AssignmentGradeService:
    """AGS calls for one launch context: built from a launch's AGS claim or from plain URLs."""

    def __init__(
        self,
        session: ServiceSession,
        *,
        lineitems_url: str | None = None,
        lineitem_url: str | None = None,
        scopes: Iterable[str] = AGS_SCOPES,
    ) -> None:
        self.session = session
        self.lineitems_url = lineitems_url
        self.lineitem_url = lineitem_url
        self.scopes = tuple(sorted(set(scopes) & set(AGS_SCOPES)))

    @classmethod
    def from_claim(cls, session: ServiceSession, claim: AGSClaim) -> AssignmentGradeService:
        """Use the URLs and the scopes the platform put in the launch."""
        return cls(
            session,
            lineitems_url=claim.lineitems,
            lineitem_url=claim.lineitem,
            scopes=claim.scope,
        )

    # --- line items --------------------------------------------------------------------------

    def _container(self) -> str:
        if not self.lineitems_url:
            raise ServiceError(
                "the launch carries no AGS line items URL: the platform does not let this tool "
                "manage gradebook columns here (enable grade sync for the tool).",
                code="lti.no_lineitems_url",
                http_status=400,
            )
        return self.lineitems_url

    def line_items(
        self,
        *,
        resource_link_id: str | None = None,
        resource_id: str | None = None,
        tag: str | None = None,
        limit: int | None = None,
    ) -> Iterator[LineItem]:
        """Every line item of the context (filtered as asked), fetched page by page."""
        params: dict[str, str | int] = {}
        for name, value in (
            ("resource_link_id", resource_link_id),
            ("resource_id", resource_id),
            ("tag", tag),
            ("limit", limit),
        ):
            if value is not None:
                params[name] = value
        what = "listing AGS line items"
        for page in self.session.pages(
            self._container(),
            scopes=self.scopes,
            needs=(AGS_LINEITEM_SCOPE, AGS_LINEITEM_READONLY_SCOPE),
            accept=LINEITEM_CONTAINER_MEDIA_TYPE,
            params=params,
            what=what,
        ):
            yield from _parse_list(response_json(page, what), LineItem, what)

    def _one(self, response_json: Any, what: str) -> LineItem:
        try:
            return LineItem.model_validate(response_json)
        except ValidationError as exc:
            raise ServiceError(
                f"{what}: the platform's line item is not valid AGS JSON ({exc.error_count()} "
                "problems).",
                code="lti.service_response_invalid",
            ) from exc

    def get_line_item(self, url: str | None = None) -> LineItem:
        """The line item at ``url`` (default: the launch's own line item)."""
        target = url or self._default_lineitem()
        what = "reading an AGS line item"
        response = self.session.request(
            "GET",
            target,
            scopes=self.scopes,
            needs=(AGS_LINEITEM_SCOPE, AGS_LINEITEM_READONLY_SCOPE),
            accept=LINEITEM_MEDIA_TYPE,
            what=what,
        )
        return self._one(response_json(response, what), what)

    def create_line_item(self, item: LineItem) -> LineItem:
        """Add a gradebook column; the platform's copy (with its ``id`` URL) comes back."""
        what = "creating an AGS line item"
        body = item.to_json()
        body.pop("id", None)
        response = self.session.request(
            "POST",
            self._container(),
            scopes=self.scopes,
            needs=(AGS_LINEITEM_SCOPE,),
            accept=LINEITEM_MEDIA_TYPE,
            json=body,
            content_type=LINEITEM_MEDIA_TYPE,
            idempotent=False,
            what=what,
        )
        return self._one(response_json(response, what), what)

    def update_line_item(self, item: LineItem) -> LineItem:
        """Replace the line item at ``item.id`` with ``item`` (PUT of the whole item)."""
        if not item.id:
            raise ServiceError(
                "cannot update a line item without its id URL; read it from the platform first",
                code="lti.lineitem_without_id",
            )
        what = "updating an AGS line item"
        response = self.session.request(
            "PUT",
            item.id,
            scopes=self.scopes,
            needs=(AGS_LINEITEM_SCOPE,),
            accept=LINEITEM_MEDIA_TYPE,
            json=item.to_json(),
            content_type=LINEITEM_MEDIA_TYPE,
            what=what,
        )
        return self._one(response_json(response, what), what) if response.content else item

    def delete_line_item(self, url: str) -> None:
        """Remove the line item at ``url`` (and, on most platforms, its grades)."""
        self.session.request(
            "DELETE",
            url,
            scopes=self.scopes,
            needs=(AGS_LINEITEM_SCOPE,),
            accept=LINEITEM_MEDIA_TYPE,
            what="deleting an AGS line item",
        )

    # --- scores and results ------------------------------------------------------------------

    def _default_lineitem(self) -> str:
        if not self.lineitem_url:
            raise ServiceError(
                "the launch names no line item (no `lineitem` in its AGS claim): pass the line "
                "item URL, e.g. from line_items() or create_line_item().",
                code="lti.no_lineitem",
                http_status=400,
            )
        return self.lineitem_url

    def post_score(self, score: AGSScore, line_item: str | LineItem | None = None) -> None:
        """Publish ``score`` to ``line_item`` (default: the launch's own line item)."""
        target = line_item.id if isinstance(line_item, LineItem) else line_item
        url = _child_url(target or self._default_lineitem(), "scores")
        self.session.request(
            "POST",
            url,
            scopes=self.scopes,
            needs=(AGS_SCORE_SCOPE,),
            accept="application/json",
            json=score.to_json(),
            content_type=SCORE_MEDIA_TYPE,
            # Platforms ignore a score whose timestamp is not newer: repeating it is harmless.
            idempotent=True,
            what=f"posting a score for user {score.user_id}",
        )

    def results(
        self,
        line_item: str | LineItem | None = None,
        *,
        user_id: str | None = None,
        limit: int | None = None,
    ) -> Iterator[AGSResult]:
        """Current results of ``line_item`` (default: the launch's), page by page."""
        target = line_item.id if isinstance(line_item, LineItem) else line_item
        url = _child_url(target or self._default_lineitem(), "results")
        params: dict[str, str | int] = {}
        if user_id is not None:
            params["user_id"] = user_id
        if limit is not None:
            params["limit"] = limit
        what = "reading AGS results"
        for page in self.session.pages(
            url,
            scopes=self.scopes,
            needs=(AGS_RESULT_READONLY_SCOPE,),
            accept=RESULT_CONTAINER_MEDIA_TYPE,
            params=params,
            what=what,
        ):
            yield from _parse_list(response_json(page, what), AGSResult, what)
