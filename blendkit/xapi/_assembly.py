"""What every statement builder shares: values assembled from checked parts without a second
validation, deterministic statement ids, ISO 8601 durations and the learner's Agent."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from typing import Any, Protocol, TypeVar

from blendkit.errors import StatementInvalid
from blendkit.xapi._models import (
    Account,
    Agent,
    ContextActivities,
    StatementContext,
    StatementScore,
)
from blendkit.xapi._models_base import _Value

__all__ = [
    "STATEMENT_NAMESPACE",
    "LaunchIdentity",
    "actor_from_launch",
    "iso_duration",
    "lti_actor",
    "statement_id",
]

STATEMENT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:blendkit:xapi:statement")
_NAMESPACE_BYTES = STATEMENT_NAMESPACE.bytes

_V = TypeVar("_V", bound=_Value)
# Every field set to None, in declaration order (the order of the JSON members), per class.
_TEMPLATES: dict[type[_Value], dict[str, None]] = {}
# A value is four instance attributes pydantic documents on BaseModel (``__dict__``,
# ``__pydantic_fields_set__``, ``__pydantic_extra__``, ``__pydantic_private__``), set as
# ``BaseModel.model_construct`` sets them; the models are frozen, so through ``object.__setattr__``.
# model_construct itself costs about 5 us more per value (a default lookup per field).
# pyproject bounds pydantic below its next minor release; tests/test_dependency_internals.py
# checks the assembled values against validated ones.
_setattr = object.__setattr__
_new = object.__new__


def _trusted(cls: type[_V], **values: Any) -> _V:
    """A value from parts the builder has already checked: what ``model_construct`` does, minus
    its per-field default lookups. Used only in the hot builders (quiz, video, statement
    assembly) for inputs they validate themselves; the test suite re-validates every builder's
    output with :func:`parse_statement`, ralph's models and TinCanPython."""
    template = _TEMPLATES.get(cls)
    if template is None:
        template = _TEMPLATES[cls] = dict.fromkeys(cls.model_fields)
    return _assemble(cls, {**template, **values}, set(values))


def _assemble(cls: type[_V], fields: dict[str, Any], fields_set: set[str]) -> _V:
    """A value of ``cls`` holding ``fields`` (every field, in declaration order) as they are."""
    value = _new(cls)
    _setattr(value, "__dict__", fields)
    _setattr(value, "__pydantic_fields_set__", fields_set)
    _setattr(value, "__pydantic_extra__", None)
    _setattr(value, "__pydantic_private__", None)
    return value


# The three kinds every hot statement carries, each with its fields spelled out in declaration
# order (tests check the order against the models): no template merge per statement.


def _score(scaled: float, raw: float, low: float, high: float) -> StatementScore:
    return _assemble(
        StatementScore,
        {"scaled": scaled, "raw": raw, "min": low, "max": high},
        {"scaled", "raw", "min", "max"},
    )


def _context(
    registration: uuid.UUID | None,
    platform: str,
    language: str | None,
    activities: ContextActivities,
    extensions: dict[str, Any],
) -> StatementContext:
    return _assemble(
        StatementContext,
        {
            "registration": registration,
            "instructor": None,
            "team": None,
            "contextActivities": activities,
            "revision": None,
            "platform": platform,
            "language": language,
            "statement": None,
            "extensions": extensions,
            "contextAgents": None,
            "contextGroups": None,
        },
        {"registration", "platform", "language", "contextActivities", "extensions"},
    )


# UUID's slots, set through their descriptors: UUID.__init__ re-checks what is known here.
_set_uuid_int = uuid.UUID.__dict__["int"].__set__
_set_uuid_safe = uuid.UUID.__dict__["is_safe"].__set__
_UUID_SAFE_UNKNOWN = uuid.SafeUUID.unknown
_VERSION_VARIANT_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_VERSION_5_RFC_4122 = (5 << 76) | (0x8000 << 48)
_sha1 = hashlib.sha1
_from_bytes = int.from_bytes


def _named_id(name: str) -> uuid.UUID:
    """``uuid.uuid5(STATEMENT_NAMESPACE, name)``."""
    digest = _sha1(_NAMESPACE_BYTES + name.encode(), usedforsecurity=False).digest()
    result = _new(uuid.UUID)
    _set_uuid_int(result, (_from_bytes(digest[:16]) & _VERSION_VARIANT_CLEAR) | _VERSION_5_RFC_4122)
    _set_uuid_safe(result, _UUID_SAFE_UNKNOWN)
    return result


def statement_id(*identity: object) -> uuid.UUID:
    """UUIDv5 of the event identity: the same event always gets the same statement id.

    Equal to ``uuid.uuid5(STATEMENT_NAMESPACE, "\\x1f".join(map(str, identity)))``, computed
    without ``UUID.__init__``'s argument checks (this runs once per emitted statement).
    """
    return _named_id("\x1f".join(map(str, identity)))


def iso_duration(value: timedelta | float) -> str:
    """ISO 8601 duration (``PT1H2M3.5S``) from a timedelta or a number of seconds."""
    if type(value) is timedelta and not value.microseconds and value.days >= 0:
        # Whole seconds (the common case): integer arithmetic gives the same text.
        hours, rest = divmod(value.days * 86400 + value.seconds, 3600)
        minutes, whole = divmod(rest, 60)
        if hours:
            if minutes:
                return f"PT{hours}H{minutes}M{whole}S" if whole else f"PT{hours}H{minutes}M"
            return f"PT{hours}H{whole}S" if whole else f"PT{hours}H"
        if minutes:
            return f"PT{minutes}M{whole}S" if whole else f"PT{minutes}M"
        return f"PT{whole}S"
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if seconds < 0:
        raise StatementInvalid(f"duration: {seconds} s is negative; durations cannot be negative")
    hours_f, rest_f = divmod(seconds, 3600)
    minutes_f, secs = divmod(rest_f, 60)
    text = "PT"
    if hours_f:
        text += f"{int(hours_f)}H"
    if minutes_f:
        text += f"{int(minutes_f)}M"
    if secs or text == "PT":
        text += f"{round(secs, 2):g}S"
    return text


def lti_actor(issuer: str, sub: str, *, name: str | None = None, email: str | None = None) -> Agent:
    """The learner as an xAPI Agent: the platform account (homePage = issuer, name = sub).

    An email (``mbox``) is used only when ``email`` is given, i.e. when the deployment is
    configured to identify learners by email.
    """
    if email is not None:
        return Agent(name=name, mbox=f"mailto:{email}")
    if not sub:
        raise StatementInvalid("actor.account.name: the LTI launch has no user 'sub'")
    return Agent(name=name, account=Account(homePage=issuer, name=sub))


class _User(Protocol):
    @property
    def sub(self) -> str: ...


class LaunchIdentity(Protocol):
    """What the builders need from an LTI launch: the issuer and the user's ``sub``."""

    @property
    def issuer(self) -> str: ...

    @property
    def user(self) -> _User: ...


def actor_from_launch(launch: LaunchIdentity, *, name: str | None = None) -> Agent:
    """The Agent for the user of a validated launch (platform account, never an email)."""
    return lti_actor(launch.issuer, launch.user.sub, name=name)


def _actor_key(actor: Agent) -> str:
    if actor.account is not None:
        return f"{actor.account.homePage}|{actor.account.name}"
    return actor.mbox or actor.mbox_sha1sum or actor.openid or ""
