"""Condition base class, the type registry (with the ``blendkit.conditions`` plugins) and trees.

A condition is a frozen pydantic model with a ``type`` name. It has two equal semantics: the
reference one (:meth:`Condition.holds`, used for explanations and third-party conditions) and a
compiled one (:meth:`Condition.expr`, a Python expression the engine compiles once per path).
"""

from __future__ import annotations

import warnings
from abc import abstractmethod
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationError,
)
from pydantic_core import PydanticCustomError

from blendkit.errors import ConditionInvalid
from blendkit.plugins import CONDITIONS_GROUP, PluginLoadWarning, load_plugins

if TYPE_CHECKING:
    from blendkit.progression._facts import EvaluationContext, Gen

__all__ = [
    "AllOf",
    "AnyOf",
    "Condition",
    "ConditionField",
    "Not",
    "Reason",
    "condition_types",
    "dump_condition",
    "format_loc",
    "negate",
    "parse_condition",
    "register_condition",
    "walk",
]

JSONValue = Any


class Reason(BaseModel):
    """Why a condition is unmet: plain text plus machine-readable parts for apps and i18n."""

    model_config = ConfigDict(frozen=True)

    type: str
    message: str
    item: str | None = None
    target: dict[str, JSONValue] = Field(default_factory=dict)
    current: JSONValue = None
    condition_id: str | None = None
    hidden: bool = False
    children: tuple[Reason, ...] = ()


class Condition(BaseModel):
    """Base of every condition; subclasses set ``type: Literal["name"] = "name"``."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    type: str
    id: str | None = Field(default=None, description="label used by overrides to waive it")
    hidden: bool = Field(default=False, description="hide the item (not only lock) when unmet")

    monotone: ClassVar[bool] = False
    """True when adding evidence can only turn this condition from unmet to met."""

    @abstractmethod
    def holds(self, ctx: EvaluationContext) -> bool:
        """Whether the condition is met (reference semantics)."""

    @abstractmethod
    def describe(self, ctx: EvaluationContext) -> Reason:
        """The requirement in plain language with the learner's current value."""

    def expr(self, gen: Gen) -> str:
        """A Python expression equal to :meth:`holds`; the default calls :meth:`holds`."""
        return gen.fallback(self)

    def is_monotone(self) -> bool:
        """Whether this node never turns unmet when evidence is added (see ``monotone``)."""
        return self.monotone

    def refs(self) -> tuple[str, ...]:
        """Item ids this node reads evidence about (validated against the path)."""
        return ()

    def done_refs(self) -> tuple[str, ...]:
        """Item ids whose completion state this node reads (ordering and cycle checks)."""
        return ()

    def deps(self) -> frozenset[str]:
        """Evidence keys this node reads; ``"*"`` means any (the safe default for plugins)."""
        return frozenset({"*"})

    def children(self) -> tuple[Condition, ...]:
        """Sub-conditions of a tree node."""
        return ()

    def explain(self, ctx: EvaluationContext) -> Reason:
        """:meth:`describe` with this node's id and hidden flag attached."""
        reason = self.describe(ctx)
        return reason.model_copy(update={"condition_id": self.id, "hidden": self.hidden})


# --- registry ------------------------------------------------------------------------------------

_BUILTIN: dict[str, type[Condition]] = {}
_C = TypeVar("_C", bound=type[Condition])


def _type_name(cls: type[Condition]) -> str:
    default = cls.model_fields["type"].default
    if not isinstance(default, str) or not default:
        raise ConditionInvalid(
            f"condition class {cls.__qualname__} has no type name: declare "
            '`type: Literal["name"] = "name"`'
        )
    return default


def register_condition(cls: _C) -> _C:
    """Class decorator adding a built-in condition type to the registry."""
    _BUILTIN[_type_name(cls)] = cls
    return cls


def condition_types() -> Mapping[str, type[Condition]]:
    """Every known condition type by name: built-ins plus ``blendkit.conditions`` plugins."""
    types = dict(_BUILTIN)
    for name, plugin in load_plugins(CONDITIONS_GROUP).items():
        if not (isinstance(plugin, type) and issubclass(plugin, Condition)):
            warnings.warn(
                f"blendkit.conditions plugin {name!r} is not a Condition subclass and is skipped",
                PluginLoadWarning,
                stacklevel=2,
            )
            continue
        type_name = _type_name(plugin)
        if type_name in _BUILTIN:
            warnings.warn(
                f"blendkit.conditions plugin {name!r} reuses the built-in type {type_name!r} "
                "and is skipped; choose another type name",
                PluginLoadWarning,
                stacklevel=2,
            )
            continue
        types[type_name] = plugin
    return types


def format_loc(loc: tuple[str | int, ...]) -> str:
    """``("modules", 1, "items")`` → ``modules[1].items``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _first_error(exc: ValidationError) -> tuple[str, str]:
    error = exc.errors()[0]
    loc = format_loc(tuple(error["loc"]))
    ctx = error.get("ctx") or {}
    message = error["msg"]
    if error["type"] == "condition_invalid":
        inner = str(ctx.get("loc", ""))
        loc = f"{loc}.{inner}" if loc and inner and not inner.startswith("[") else loc + inner
        message = str(ctx.get("detail", message))
    return loc, message


_SHORTHAND = ("all", "any", "not")


def parse_condition(value: object) -> Condition:
    """A condition from a mapping with a ``type`` (or the ``all``/``any``/``not`` shorthand)."""
    if isinstance(value, Condition):
        return value
    if not isinstance(value, Mapping):
        raise PydanticCustomError(
            "condition_invalid", "{detail}", {"loc": "", "detail": "expected a condition object"}
        )
    type_name = value.get("type")
    if type_name is None:
        present = [key for key in _SHORTHAND if key in value]
        if len(present) == 1:
            type_name = present[0]
    types = condition_types()
    if not isinstance(type_name, str) or type_name not in types:
        known = ", ".join(sorted(types))
        raise PydanticCustomError(
            "condition_invalid",
            "{detail}",
            {"loc": "type", "detail": f"unknown condition type {type_name!r} (known: {known})"},
        )
    try:
        return types[type_name].model_validate(dict(value, type=type_name))
    except ValidationError as exc:
        loc, message = _first_error(exc)
        raise PydanticCustomError(
            "condition_invalid", "{detail}", {"loc": loc, "detail": message}
        ) from None


def dump_condition(condition: Condition) -> dict[str, JSONValue]:
    """JSON-ready mapping of a condition: ``type`` first, defaults left out."""
    body = condition.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    body.pop("type", None)
    common: dict[str, JSONValue] = {k: body.pop(k) for k in ("id", "hidden") if k in body}
    return {"type": condition.type, **body, **common}


ConditionField = Annotated[
    Condition,
    PlainValidator(parse_condition),
    PlainSerializer(dump_condition, when_used="always"),
]
"""A field holding any registered condition (validated through the registry)."""


def walk(condition: Condition) -> Iterator[Condition]:
    """``condition`` and all its descendants, depth first."""
    yield condition
    for child in condition.children():
        yield from walk(child)


# --- trees ---------------------------------------------------------------------------------------


def _union_deps(children: tuple[Condition, ...]) -> frozenset[str]:
    out: set[str] = set()
    for child in children:
        out |= child.deps()
    return frozenset(out)


class _Tree(Condition):
    def refs(self) -> tuple[str, ...]:
        return tuple(ref for child in self.children() for ref in child.refs())

    def done_refs(self) -> tuple[str, ...]:
        return tuple(ref for child in self.children() for ref in child.done_refs())

    def deps(self) -> frozenset[str]:
        return _union_deps(self.children())


@register_condition
class AllOf(_Tree):
    """Every child must hold (an empty list always holds)."""

    type: Literal["all"] = "all"
    all: tuple[ConditionField, ...] = ()

    def children(self) -> tuple[Condition, ...]:
        return self.all

    def is_monotone(self) -> bool:
        return all(child.is_monotone() for child in self.all)

    def holds(self, ctx: EvaluationContext) -> bool:
        return all(ctx.check(child) for child in self.all)

    def expr(self, gen: Gen) -> str:
        if not self.all:
            return "True"
        return "(" + " and ".join(gen.node(child) for child in self.all) + ")"

    def describe(self, ctx: EvaluationContext) -> Reason:
        unmet = tuple(child.explain(ctx) for child in self.all if not ctx.check(child))
        text = "; ".join(reason.message for reason in unmet) or "All conditions are met"
        return Reason(type="all", message=text, children=unmet)


@register_condition
class AnyOf(_Tree):
    """At least one child must hold (an empty list never holds)."""

    type: Literal["any"] = "any"
    any: tuple[ConditionField, ...] = ()

    def children(self) -> tuple[Condition, ...]:
        return self.any

    def is_monotone(self) -> bool:
        return all(child.is_monotone() for child in self.any)

    def holds(self, ctx: EvaluationContext) -> bool:
        return any(ctx.check(child) for child in self.any)

    def expr(self, gen: Gen) -> str:
        if not self.any:
            return "False"
        return "(" + " or ".join(gen.node(child) for child in self.any) + ")"

    def describe(self, ctx: EvaluationContext) -> Reason:
        options = tuple(child.explain(ctx) for child in self.any)
        if len(options) == 1:
            return options[0]
        text = "One of: " + "; or ".join(reason.message for reason in options)
        return Reason(type="any", message=text, children=options)


@register_condition
class Not(_Tree):
    """The child must not hold."""

    type: Literal["not"] = "not"
    not_: ConditionField = Field(alias="not")

    def children(self) -> tuple[Condition, ...]:
        return (self.not_,)

    def holds(self, ctx: EvaluationContext) -> bool:
        return not ctx.check(self.not_)

    def expr(self, gen: Gen) -> str:
        return f"(not {gen.node(self.not_)})"

    def describe(self, ctx: EvaluationContext) -> Reason:
        inner = self.not_.explain(ctx)
        requirement = inner.message.split(" — ")[0]
        return Reason(
            type="not",
            message=f"Only while this is not the case: {requirement[:1].lower()}{requirement[1:]}",
            children=(inner,),
        )


def negate(condition: Condition) -> Condition:
    """NOT ``condition``, removing a double negation (so ``negate(negate(x)) == x``)."""
    if isinstance(condition, Not) and condition.id is None and not condition.hidden:
        return condition.not_
    return Not(not_=condition)
