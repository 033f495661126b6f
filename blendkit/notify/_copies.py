"""Each recipient's copy of a planned event's message, and its JSON, without building a model per
recipient.

The event's message was validated once when the event was built and the roll's names and zones
when it was read, so a copy is the message's values with the recipient's name and zone put in.
Its JSON is the event's message dumped once and cut where the recipient's parts go. A learner's
own values (``PlannedEvent.personal``, e.g. their join link) are validated field by field with
the model's own field types and written into their places; when a message class has validators
or settings a field alone would miss, or a value is refused, the whole model is validated
instead (and raises the model's own error).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Annotated, Any

import orjson
from pydantic import TypeAdapter, ValidationError

from blendkit.notify._contexts import MessageContext

if TYPE_CHECKING:
    from blendkit.notify._planning import Addressee, PlannedEvent

__all__ = ["NAME_LIMIT", "EventMessages"]

NAME_LIMIT = 200
_MARK = "\x00{}\x00"
"""Put in a message's JSON where a recipient's own value goes (``_MARK.format(field)``)."""
_ZONES: dict[str, str] = {}
_ZONES_KEPT = 2000
_PLAIN_CONFIG = {"frozen", "extra", "title"}
_FIELDS: dict[tuple[type[MessageContext], str], TypeAdapter[Any] | None] = {}
_dumps = orjson.dumps

Cut = tuple[tuple[str, ...], tuple[str, ...]]
"""A message's JSON cut around some fields: the texts between them and the fields in order."""
Part = Callable[["Addressee", Mapping[str, Any]], str]
"""Writes one field of a recipient's message as JSON, from the recipient and their own values."""
Steps = tuple[tuple[str, ...], tuple[Part, ...]]
"""A cut message and, for each of the recipient's fields in order, what writes it."""


class EventMessages:
    """Copies of an event's message for each recipient, made the way ``model_copy(update=…)``
    makes them but without its per-call overhead."""

    __slots__ = ("cls", "context", "cuts", "fields_set", "own", "personal", "values", "zoned")

    def __init__(self, event: PlannedEvent) -> None:
        context = self.context = event.context
        self.cls = type(context)
        self.values = dict(context.__dict__)
        self.zoned = "time_zone" in self.cls.model_fields
        self.personal = event.personal
        changed = {"recipient_name", "time_zone"} if self.zoned else {"recipient_name"}
        self.fields_set = context.model_fields_set | changed
        self.cuts: dict[frozenset[str], Cut | None] = {}
        self.own: dict[tuple[str, ...], Steps | None] = {}

    def __call__(self, person: Addressee) -> MessageContext:
        values = self.values.copy()
        values["recipient_name"] = person.name[:NAME_LIMIT] or person.sub[:NAME_LIMIT]
        if self.zoned:
            values["time_zone"] = person.time_zone
        extra = self.personal.get(person.sub)
        if extra:  # a learner's own values (a join link) are validated here
            return self.cls.model_validate({**values, **extra})
        clone = object.__new__(self.cls)
        object.__setattr__(clone, "__dict__", values)
        object.__setattr__(clone, "__pydantic_fields_set__", self.fields_set)
        object.__setattr__(clone, "__pydantic_extra__", None)
        object.__setattr__(clone, "__pydantic_private__", None)
        return clone

    def json(self, person: Addressee) -> str:
        """The recipient's message as the JSON ``model_dump_json`` writes (see :meth:`writer`)."""
        return self.writer()(person)

    def writer(self) -> Callable[[Addressee], str]:
        """Writes a recipient's message as the JSON ``model_dump_json`` writes, filling in the
        event's message dumped once: the name and the zone, and a learner's own values."""
        shared = self._shared_writer()
        personal = self.personal
        if not personal:
            return shared

        def write(person: Addressee) -> str:
            extra = personal.get(person.sub)
            return self._own_json(person, extra) if extra else shared(person)

        return write

    def _shared_writer(self) -> Callable[[Addressee], str]:
        """The writer of recipients with no values of their own."""
        varying = ("recipient_name", "time_zone") if self.zoned else ("recipient_name",)
        cut = self._cut(frozenset(varying))
        dumps, known = _dumps, _ZONES
        if cut is None or cut[1] != varying:
            return self._whole_json
        if not self.zoned:
            head, tail = cut[0]

            def write_name(person: Addressee) -> str:
                name = person.name[:NAME_LIMIT] or person.sub[:NAME_LIMIT]
                return f"{head}{dumps(name).decode()}{tail}"

            return write_name
        head, middle, tail = cut[0]

        def write(person: Addressee) -> str:
            name = person.name[:NAME_LIMIT] or person.sub[:NAME_LIMIT]
            zone = known.get(person.time_zone) or _zone_json(person.time_zone)
            return f"{head}{dumps(name).decode()}{middle}{zone}{tail}"

        return write

    def _whole_json(self, person: Addressee) -> str:
        """One recipient's JSON from the whole message (when it cannot be cut)."""
        values = self.context.model_dump(mode="json")
        values["recipient_name"] = person.name[:NAME_LIMIT] or person.sub[:NAME_LIMIT]
        if self.zoned:
            values["time_zone"] = person.time_zone
        return _dumps(values).decode()

    def _own_json(self, person: Addressee, extra: Mapping[str, Any]) -> str:
        """The JSON of a recipient with values of their own, each validated as its field."""
        shape = tuple(extra)
        steps = self.own.get(shape)
        if steps is None:
            steps = self.own[shape] = self._own_steps(frozenset(extra))
        if steps:
            texts, parts = steps
            out = [texts[0]]
            try:
                for part, text in zip(parts, texts[1:], strict=True):
                    out += (part(person, extra), text)
            except ValidationError:
                pass  # the model says what is wrong, in its own words
            else:
                return "".join(out)
        values: dict[str, Any] = {
            "recipient_name": person.name[:NAME_LIMIT] or person.sub[:NAME_LIMIT]
        }
        if self.zoned:
            values["time_zone"] = person.time_zone
        values.update(extra)
        return str(self.cls.model_validate({**self.values, **values}).model_dump_json())

    def _own_steps(self, own: frozenset[str]) -> Steps | None:
        """How to write a message with a recipient's own values for the fields ``own``: the
        texts between the recipient's parts and, for each in order, what writes it (None:
        through the model). The name and zone from the roll are written as for every recipient
        (see :meth:`_shared_writer`); the values ``own`` are validated as their fields."""
        roll = {"recipient_name": _name_json}
        if self.zoned:
            roll["time_zone"] = _zone_of
        cut = self._cut(own.union(roll))
        if cut is None:
            return None
        parts: list[Part] = []
        for name in cut[1]:
            if name in roll and name not in own:
                parts.append(roll[name])
                continue
            adapter = _field(self.cls, name)
            if adapter is None:
                return None
            parts.append(_own_part(name, adapter))
        return cut[0], tuple(parts)

    def _cut(self, names: frozenset[str]) -> Cut | None:
        """The event's message as JSON, cut where the fields ``names`` go (None: one of them is
        not a field, or another field holds a mark)."""
        if names in self.cuts:
            return self.cuts[names]
        values = self.context.model_dump(mode="json")
        cut: Cut | None = None
        if names <= values.keys():
            marks = {_dumps(_MARK.format(n)).decode(): n for n in names}
            text = _dumps(values | {n: _MARK.format(n) for n in names}).decode()
            found = sorted((text.find(mark), mark) for mark in marks)
            if all(text.count(mark) == 1 for mark in marks):
                texts, start = [], 0
                for at, mark in found:
                    texts.append(text[start:at])
                    start = at + len(mark)
                texts.append(text[start:])
                cut = (tuple(texts), tuple(marks[mark] for _, mark in found))
        self.cuts[names] = cut
        return cut


def _name_json(person: Addressee, extra: Mapping[str, Any]) -> str:
    """The recipient's name as JSON, as every recipient's message writes it."""
    return _dumps(person.name[:NAME_LIMIT] or person.sub[:NAME_LIMIT]).decode()


def _zone_of(person: Addressee, extra: Mapping[str, Any]) -> str:
    """The recipient's zone as JSON, as every recipient's message writes it."""
    return _ZONES.get(person.time_zone) or _zone_json(person.time_zone)


def _own_part(name: str, adapter: TypeAdapter[Any]) -> Part:
    """Writes a recipient's own value of the field ``name``, validated as the field."""
    validate, write = adapter.validator.validate_python, adapter.serializer.to_json

    def part(person: Addressee, extra: Mapping[str, Any]) -> str:
        return write(validate(extra[name])).decode()

    return part


def _field(cls: type[MessageContext], name: str) -> TypeAdapter[Any] | None:
    """Validates a value as the field ``name`` of ``cls`` would, alone; None when the class's
    validators, serializers or settings could make the whole model differ from its fields."""
    key = (cls, name)
    if key not in _FIELDS:
        adapter: TypeAdapter[Any] | None = None
        info = cls.model_fields.get(name)
        decorators = cls.__pydantic_decorators__
        plain = set(cls.model_config) <= _PLAIN_CONFIG and not any(
            (decorators.validators, decorators.field_validators, decorators.root_validators,
             decorators.field_serializers, decorators.model_serializers,
             decorators.model_validators, decorators.computed_fields)
        )  # fmt: skip
        if info is not None and plain:
            kind: Any = info.annotation
            adapter = TypeAdapter(Annotated[(kind, *info.metadata)] if info.metadata else kind)
        _FIELDS[key] = adapter
    return _FIELDS[key]


def _zone_json(zone: str) -> str:
    """A zone's name as JSON, kept for the next recipients (there are a few hundred zones)."""
    text = _dumps(zone).decode()
    if len(_ZONES) < _ZONES_KEPT:
        _ZONES[zone] = text
    return text
