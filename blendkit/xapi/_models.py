"""xAPI statement values (1.0.3, with the 2.0.0 differences checked on request).

Field names follow the specification's JSON names (``objectType``, ``contextActivities`` …) so that
a model dumps to exactly the JSON an LRS expects, with no alias table in the hot path.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from types import UnionType
from typing import Annotated, Any, ClassVar, Literal, Self, Union, get_args, get_origin
from uuid import UUID

import orjson
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from blendkit.errors import StatementInvalid
from blendkit.limits import check_tree

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

_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s]+$")
_MBOX = re.compile(r"^mailto:[^@\s]+@[^@\s]+$")
_SHA1 = re.compile(r"^[0-9a-fA-F]{40}$")
_DURATION = re.compile(
    r"^P(?!$)(\d+(?:\.\d+)?Y)?(\d+(?:\.\d+)?M)?(\d+(?:\.\d+)?W)?(\d+(?:\.\d+)?D)?"
    r"(T(?=\d)(\d+(?:\.\d+)?H)?(\d+(?:\.\d+)?M)?(\d+(?:\.\d+)?S)?)?$"
)
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")
_VERSION = re.compile(r"^[12]\.0\.\d+$")


def _duration(value: str) -> str:
    if not _DURATION.match(value):
        raise ValueError(f"{value!r} is not an ISO 8601 duration such as PT1H30M5.5S")
    return value


def _aware(value: datetime, info: ValidationInfo) -> datetime:
    """xAPI 2.0.0 requires an offset; 1.0.3 only recommends one (a bare time is read as UTC)."""
    if value.tzinfo is None:
        if str((info.context or {}).get("version", "1.0.3")).startswith("1."):
            return value.replace(tzinfo=UTC)
        raise ValueError("xAPI 2.0.0 timestamps must carry a time-zone offset (e.g. …T10:00:00Z)")
    return value


def _as_list(value: Any) -> Any:
    """contextActivities accepts one object or a list; normalise to a list as 1.0.3 recommends."""
    return [value] if isinstance(value, dict) else value


# Patterns run in pydantic-core (Rust) so validation stays cheap in the emit hot path.
IRI = Annotated[str, StringConstraints(pattern=_IRI.pattern)]
LanguageTag = Annotated[str, StringConstraints(pattern=_LANGUAGE_TAG.pattern)]
LanguageMap = dict[LanguageTag, str]
Extensions = dict[IRI, Any]
Duration = Annotated[str, AfterValidator(_duration)]
Timestamp = Annotated[datetime, AfterValidator(_aware)]


def _encode(value: Any) -> Any:
    """orjson fallback (values inside lists): a nested value becomes its JSON fragment."""
    if isinstance(value, _Value):
        return orjson.Fragment(value.to_json())
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _holds_value(annotation: Any) -> bool:
    """Whether a field holds a nested value (or None) directly, not inside a list or dict."""
    if isinstance(annotation, type):
        return issubclass(annotation, _Value)
    origin = get_origin(annotation)
    if origin is Annotated:
        return _holds_value(get_args(annotation)[0])
    if origin is Union or origin is UnionType:
        arms = [arg for arg in get_args(annotation) if arg is not type(None)]
        return all(_holds_value(arg) for arg in arms)
    return False


_JSON_OPTIONS = orjson.OPT_UTC_Z


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # Fields that hold a nested value or None (found from the annotations once per class), so
    # serialising needs no isinstance check: that check goes through ABCMeta, slow per member.
    _nested: ClassVar[tuple[str, ...]] = ()
    # True for the kinds made afresh for each statement: written inline, their bytes not kept.
    _inline: ClassVar[bool] = False

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls._nested = tuple(
            name for name, field in cls.model_fields.items() if _holds_value(field.annotation)
        )

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.__dict__ == self.__dict__

    __hash__ = None  # type: ignore[assignment]

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy; its JSON is computed afresh (the cached bytes belong to the original)."""
        copied = super().model_copy(update=update, deep=deep)
        object.__setattr__(copied, "__pydantic_private__", None)
        return copied

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready dict an LRS expects (no ``None`` members)."""
        return self.model_dump(mode="json", exclude_none=True)

    def to_json(self) -> bytes:
        """Compact JSON bytes without ``None`` members; computed once per (immutable) value.

        Parts that recur across statements (actors, verbs, activities …) keep their bytes and
        are reused as they are; the parts made for one statement (result, score, context) are
        written inline in the statement's single ``orjson.dumps`` call.
        """
        # The cache lives in pydantic's private-state slot (no private fields are declared), which
        # keeps construction as cheap as for a model without a cache.
        private = self.__pydantic_private__
        if private:  # None, or {} from pydantic < 2.14 for nested values: not cached yet
            return private["json"]  # type: ignore[no-any-return]
        cached = orjson.dumps(self._members(), default=_encode, option=_JSON_OPTIONS)
        object.__setattr__(self, "__pydantic_private__", {"json": cached})
        return cached

    def _members(self) -> dict[str, Any]:
        """The non-``None`` members; nested values as JSON fragments or, inline kinds, dicts."""
        members = {k: v for k, v in self.__dict__.items() if v is not None}
        for name in self._nested:
            value = members.get(name)
            if value is None:
                continue
            try:
                private = value.__pydantic_private__
            except AttributeError:  # not a value (model_construct with raw data): orjson writes it
                continue
            if private:
                members[name] = orjson.Fragment(private["json"])
            elif value._inline:
                members[name] = value._members()
            else:
                members[name] = orjson.Fragment(value.to_json())
        return members


class Account(_Value):
    """A user account on an existing system (for LTI: the platform issuer and the user's sub)."""

    homePage: IRI
    name: str = Field(min_length=1)


class Agent(_Value):
    """One person or system, identified by exactly one inverse functional identifier."""

    objectType: Literal["Agent"] | None = None
    name: str | None = None
    mbox: str | None = Field(default=None, pattern=_MBOX.pattern)
    mbox_sha1sum: str | None = Field(default=None, pattern=_SHA1.pattern)
    openid: IRI | None = None
    account: Account | None = None

    @model_validator(mode="after")
    def _one_identifier(self) -> Self:
        found = [k for k in ("mbox", "mbox_sha1sum", "openid", "account") if getattr(self, k)]
        if len(found) != 1:
            raise ValueError(
                "an Agent needs exactly one of mbox, mbox_sha1sum, openid, account "
                f"(found {found or 'none'})"
            )
        return self


class Group(_Value):
    """A set of Agents; identified (one IFI) or anonymous (members only)."""

    objectType: Literal["Group"]
    name: str | None = None
    member: list[Agent] | None = None
    mbox: str | None = Field(default=None, pattern=_MBOX.pattern)
    mbox_sha1sum: str | None = Field(default=None, pattern=_SHA1.pattern)
    openid: IRI | None = None
    account: Account | None = None

    @model_validator(mode="after")
    def _identified_or_members(self) -> Self:
        found = [k for k in ("mbox", "mbox_sha1sum", "openid", "account") if getattr(self, k)]
        if len(found) > 1:
            raise ValueError(f"a Group has at most one identifier (found {found})")
        if not found and not self.member:
            raise ValueError("an anonymous Group (no identifier) must list its member Agents")
        return self


def _kind(default: str) -> Callable[[Any], str]:
    """Discriminate on ``objectType`` (``default`` when absent) so errors name one model only."""

    def pick(value: Any) -> str:
        if isinstance(value, dict):
            return str(value.get("objectType") or default)
        return type(value).__name__

    return pick


ActorField = Annotated[
    Annotated[Agent, Tag("Agent")] | Annotated[Group, Tag("Group")],
    Discriminator(_kind("Agent")),
]


class Verb(_Value):
    """What the actor did: an IRI plus an optional display name per language."""

    id: IRI
    display: LanguageMap | None = None


class InteractionComponent(_Value):
    """One choice, scale point, source, target or step of an interaction activity."""

    id: str = Field(min_length=1)
    description: LanguageMap | None = None


class ActivityDefinition(_Value):
    """Metadata about an Activity."""

    name: LanguageMap | None = None
    description: LanguageMap | None = None
    type: IRI | None = None
    moreInfo: IRI | None = None
    extensions: Extensions | None = None
    interactionType: (
        Literal[
            "true-false",
            "choice",
            "fill-in",
            "long-fill-in",
            "matching",
            "performance",
            "sequencing",
            "likert",
            "numeric",
            "other",
        ]
        | None
    ) = None
    correctResponsesPattern: list[str] | None = None
    choices: list[InteractionComponent] | None = None
    scale: list[InteractionComponent] | None = None
    source: list[InteractionComponent] | None = None
    target: list[InteractionComponent] | None = None
    steps: list[InteractionComponent] | None = None


class Activity(_Value):
    """A thing the actor interacted with, identified by an IRI."""

    objectType: Literal["Activity"] | None = None
    id: IRI
    definition: ActivityDefinition | None = None


class StatementRef(_Value):
    """A pointer to another statement (used by voiding)."""

    objectType: Literal["StatementRef"]
    id: UUID


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
