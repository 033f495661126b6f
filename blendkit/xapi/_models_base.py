"""The base of the xAPI statement values (each keeps its JSON bytes once computed) and the field
types, patterns and validators they share.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from types import UnionType
from typing import Annotated, Any, ClassVar, Self, Union, get_args, get_origin

import orjson
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    StringConstraints,
    ValidationInfo,
)

__all__ = [
    "IRI",
    "Duration",
    "Extensions",
    "LanguageMap",
    "LanguageTag",
    "Timestamp",
]

_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s]+$")
_DURATION = re.compile(
    r"^P(?!$)(\d+(?:\.\d+)?Y)?(\d+(?:\.\d+)?M)?(\d+(?:\.\d+)?W)?(\d+(?:\.\d+)?D)?"
    r"(T(?=\d)(\d+(?:\.\d+)?H)?(\d+(?:\.\d+)?M)?(\d+(?:\.\d+)?S)?)?$"
)
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")


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


# Field names follow the specification's JSON names (``objectType``, ``contextActivities`` …) so
# that a value dumps to exactly the JSON an LRS expects, with no alias table in the hot path.
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


def _kind(default: str) -> Callable[[Any], str]:
    """Discriminate on ``objectType`` (``default`` when absent) so errors name one model only."""

    def pick(value: Any) -> str:
        if isinstance(value, dict):
            return str(value.get("objectType") or default)
        return type(value).__name__

    return pick
