"""xAPI statements (1.0.3, with the 2.0.0 differences checked on request): the statement and
sub-statement values, their result, score, context and attachments, and ``parse_statement``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Self
from uuid import UUID

import orjson
from pydantic import (
    BeforeValidator,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from blendkit.errors import StatementInvalid
from blendkit.limits import check_tree
from blendkit.xapi._models_base import (
    IRI,
    Duration,
    Extensions,
    LanguageMap,
    LanguageTag,
    Timestamp,
    _kind,
    _Value,
)
from blendkit.xapi._models_objects import (
    Account,
    Activity,
    ActivityDefinition,
    ActorField,
    Agent,
    Group,
    InteractionComponent,
    StatementRef,
    Verb,
)

__all__ = [
    "Account",
    "Activity",
    "ActivityDefinition",
    "Agent",
    "Attachment",
    "ContextActivities",
    "Group",
    "InteractionComponent",
    "Statement",
    "StatementContext",
    "StatementRef",
    "StatementResult",
    "StatementScore",
    "SubStatement",
    "Verb",
    "XAPI_VERSIONS",
    "parse_statement",
]

XAPI_VERSIONS = ("1.0.3", "2.0.0")

_VERSION = re.compile(r"^[12]\.0\.\d+$")


def _as_list(value: Any) -> Any:
    """contextActivities accepts one object or a list; normalise to a list as 1.0.3 recommends."""
    return [value] if isinstance(value, dict) else value


class StatementScore(_Value):
    """A score; ``scaled`` in [-1, 1] and ``min <= raw <= max``."""

    _inline = True

    scaled: float | None = Field(default=None, ge=-1, le=1)
    raw: int | float | None = None
    min: int | float | None = None
    max: int | float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min is not None and self.max is not None and self.min >= self.max:
            raise ValueError("score.min must be less than score.max")
        if self.raw is not None:
            if self.min is not None and self.raw < self.min:
                raise ValueError("score.raw must not be below score.min")
            if self.max is not None and self.raw > self.max:
                raise ValueError("score.raw must not exceed score.max")
        return self


class StatementResult(_Value):
    """The outcome: score, success, completion, response, duration, extensions."""

    _inline = True

    score: StatementScore | None = None
    success: bool | None = None
    completion: bool | None = None
    response: str | None = None
    duration: Duration | None = None
    extensions: Extensions | None = None


class ContextActivities(_Value):
    """Activities that give the statement its context (course, module, profile category …)."""

    parent: Annotated[list[Activity], BeforeValidator(_as_list)] | None = None
    grouping: Annotated[list[Activity], BeforeValidator(_as_list)] | None = None
    category: Annotated[list[Activity], BeforeValidator(_as_list)] | None = None
    other: Annotated[list[Activity], BeforeValidator(_as_list)] | None = None


class StatementContext(_Value):
    """Where and how the statement happened (2.0.0 adds contextAgents / contextGroups)."""

    _inline = True

    registration: UUID | None = None
    instructor: ActorField | None = None
    team: Group | None = None
    contextActivities: ContextActivities | None = None
    revision: str | None = None
    platform: str | None = None
    language: LanguageTag | None = None
    statement: StatementRef | None = None
    extensions: Extensions | None = None
    contextAgents: list[dict[str, Any]] | None = None
    contextGroups: list[dict[str, Any]] | None = None


class Attachment(_Value):
    """Metadata of an attachment (the raw content travels as a multipart part, not here)."""

    usageType: IRI
    display: LanguageMap
    description: LanguageMap | None = None
    contentType: str = Field(min_length=1)
    length: int = Field(ge=0)
    sha2: str = Field(pattern=r"^[0-9a-fA-F]{56,128}$")
    fileUrl: IRI | None = None


def _check_context(context: StatementContext | None, obj: Any, info: ValidationInfo | None) -> None:
    if context is None:
        return
    if (context.revision is not None or context.platform is not None) and not isinstance(
        obj, Activity
    ):
        raise ValueError("context.revision and context.platform are only allowed for Activities")
    version = (info.context or {}).get("version", "1.0.3") if info is not None else "1.0.3"
    if version.startswith("1.") and (context.contextAgents or context.contextGroups):
        raise ValueError("context.contextAgents / contextGroups exist only in xAPI 2.0.0")


SubStatementObject = Annotated[
    Annotated[Activity, Tag("Activity")]
    | Annotated[Agent, Tag("Agent")]
    | Annotated[Group, Tag("Group")]
    | Annotated[StatementRef, Tag("StatementRef")],
    Discriminator(_kind("Activity")),
]


class SubStatement(_Value):
    """A statement used as the object of another (no id, stored, version or authority)."""

    _inline = True

    objectType: Literal["SubStatement"]
    actor: ActorField
    verb: Verb
    object: SubStatementObject
    result: StatementResult | None = None
    context: StatementContext | None = None
    timestamp: Timestamp | None = None
    attachments: list[Attachment] | None = None

    @model_validator(mode="after")
    def _context_rules(self, info: ValidationInfo) -> Self:
        _check_context(self.context, self.object, info)
        return self


StatementObject = Annotated[
    Annotated[Activity, Tag("Activity")]
    | Annotated[Agent, Tag("Agent")]
    | Annotated[Group, Tag("Group")]
    | Annotated[StatementRef, Tag("StatementRef")]
    | Annotated[SubStatement, Tag("SubStatement")],
    Discriminator(_kind("Activity")),
]
_TAGS = {"Activity", "Agent", "Group", "StatementRef", "SubStatement"}


class Statement(_Value):
    """An xAPI statement. Build with :func:`parse_statement` to get :class:`StatementInvalid`."""

    _inline = True

    id: UUID | None = None
    actor: ActorField
    verb: Verb
    object: StatementObject
    result: StatementResult | None = None
    context: StatementContext | None = None
    timestamp: Timestamp | None = None
    stored: Timestamp | None = None
    authority: ActorField | None = None
    version: Annotated[str, Field(pattern=_VERSION.pattern)] | None = None
    attachments: list[Attachment] | None = None

    @model_validator(mode="after")
    def _statement_rules(self, info: ValidationInfo) -> Self:
        _check_context(self.context, self.object, info)
        if isinstance(self.object, Agent) and self.object.objectType is None:
            raise ValueError("an Agent used as object must say objectType: Agent")
        if self.verb.id == "http://adlnet.gov/expapi/verbs/voided" and not isinstance(
            self.object, StatementRef
        ):
            raise ValueError("a voiding statement's object must be a StatementRef")
        return self

    @property
    def statement_id(self) -> str:
        """The id as a string (raises when the statement has none)."""
        if self.id is None:
            raise StatementInvalid("statement.id: the statement has no id")
        return str(self.id)


def _describe(error: ValidationError, where: str) -> str:
    parts = []
    for item in error.errors()[:5]:
        loc = ".".join(str(p) for p in item["loc"] if str(p) not in _TAGS)
        message = str(item["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}.{loc}: {message}" if loc else f"{where}: {message}")
    more = len(error.errors()) - 5
    if more > 0:
        parts.append(f"(and {more} more problem(s))")
    return "; ".join(parts)


def parse_statement(
    data: Statement | dict[str, Any] | bytes | str, *, version: str = "1.0.3"
) -> Statement:
    """Validate ``data`` (a dict, JSON text, or a Statement) against xAPI ``version``.

    Raises :class:`~blendkit.errors.StatementInvalid` naming the offending field.
    """
    if isinstance(data, Statement):
        if version.startswith("1.") and data.context is not None:
            _check_context(data.context, data.object, None)
            if data.context.contextAgents or data.context.contextGroups:
                raise StatementInvalid(
                    "statement.context: contextAgents / contextGroups exist only in xAPI 2.0.0"
                )
        return data
    if isinstance(data, bytes | str):
        try:
            data = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise StatementInvalid(f"statement: not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise StatementInvalid(f"statement: expected a JSON object, got {type(data).__name__}")
    # Bounded before validation: a statement nested hundreds of levels deep could be validated
    # but never serialised again (and would stop a whole import chunk).
    check_tree(data, what="statement", error=StatementInvalid)
    try:
        return Statement.model_validate(data, context={"version": version})
    except ValidationError as exc:
        raise StatementInvalid(_describe(exc, "statement")) from exc
